"""Rule `preprocess`: recordings → NetCDF contract."""

from biocredit import pipeline

pipeline.configure(snakemake.log[0])
pipeline.preprocess(snakemake.wildcards.dataset, snakemake.input.raw, snakemake.output[0])
