"""Rule `download`: fetch one registered file from its URL or the mirror, verifying its SHA-256."""

from biocredit import pipeline

pipeline.configure(snakemake.log[0])
pipeline.download(snakemake.wildcards.dataset, snakemake.output[0], snakemake.config["data"]["mirror"])
