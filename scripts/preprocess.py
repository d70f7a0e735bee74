"""Rule `preprocess`: recordings → NetCDF contract."""

from biocredit.stages.data import preprocess
from biocredit.stages.job import configure

configure(snakemake.log[0])
p = snakemake.params
preprocess(snakemake.wildcards.dataset, p.files, snakemake.output[0], p.lock_file)
