"""Rule `download`: fetch one registered file from its URL or the mirror, verifying its SHA-256."""

from biocredit.stages.data import download
from biocredit.stages.job import configure

configure(snakemake.log[0])
data = snakemake.config["data"]
download(snakemake.wildcards.dataset, snakemake.output[0], data["mirror"], data["lock_file"])
