"""Rule `dataset_status`: which datasets were used and which were skipped, and why."""

from biocredit.stages.data import write_dataset_status
from biocredit.stages.job import configure

configure(snakemake.log[0])
write_dataset_status(snakemake.params.status, snakemake.output[0])
