"""Rule `dataset_status`: which datasets were used and which were skipped, and why."""

from biocredit.stages._job import configure
from biocredit.stages.data import write_dataset_status

configure(snakemake.log[0])
write_dataset_status(snakemake.params.status, snakemake.output[0])
