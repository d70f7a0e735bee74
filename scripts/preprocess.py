"""Rule `preprocess`: recordings → NetCDF contract."""

from biocredit import pipeline

pipeline.configure(snakemake.log[0])
pipeline.preprocess(snakemake.wildcards.dataset, snakemake.params.files, snakemake.output[0])
