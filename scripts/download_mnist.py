"""Rule `download_mnist`: one MNIST IDX file from its URL or the mirror, verified by SHA-256."""

from biocredit.stages.data import download_mnist
from biocredit.stages.job import configure

configure(snakemake.log[0])
download_mnist(snakemake.wildcards.mnist_file, snakemake.output[0], snakemake.config["data"]["mirror"])
