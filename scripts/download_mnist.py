"""Rule `download_mnist`: one MNIST IDX file from its URL or the mirror, verified by SHA-256."""

from biocredit.stages._job import configure
from biocredit.stages.data import download_mnist

configure(snakemake.log[0])
download_mnist(snakemake.wildcards.mnist_file, snakemake.output[0], snakemake.config["data"]["mirror"])
