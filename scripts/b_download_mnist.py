"""Rule `download_mnist`: one MNIST IDX file from its URL or the mirror, verified by SHA-256."""

from biocredit import pipeline, study_b

pipeline.configure(snakemake.log[0])
study_b.download_mnist(snakemake.wildcards.mnist_file, snakemake.output[0], snakemake.config["data"]["mirror"])
