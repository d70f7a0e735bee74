"""Rule `download`: fetch one registered file from its URL or the mirror, verifying its SHA-256."""

from biocredit import pipeline

pipeline.configure(snakemake.log[0])
data = snakemake.config["data"]
pipeline.download(snakemake.wildcards.dataset, snakemake.output[0], data["mirror"], data["lock_file"])
