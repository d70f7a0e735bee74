"""Rule `configfiles`: record the config files of this run (one per line) for `make report`."""

from biocredit.stages.data import record_configfiles
from biocredit.stages.job import configure

configure(snakemake.log[0])
record_configfiles(list(snakemake.params.files), snakemake.output[0])
