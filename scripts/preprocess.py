"""Rule `preprocess`: recordings → NetCDF contract."""

from biocredit import pipeline

pipeline.configure(snakemake.log[0])
p = snakemake.params
pipeline.preprocess(snakemake.wildcards.dataset, p.files, snakemake.output[0], p.lock_file)
