"""Rule `configfiles`: record the config files of this run (one per line) for `make report`."""

from biocredit.stages._job import configure
from biocredit.stages.data import record_configfiles

configure(snakemake.log[0])
record_configfiles(list(snakemake.params.files), snakemake.output[0])
