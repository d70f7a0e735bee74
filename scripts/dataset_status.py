"""Rule `dataset_status`: which datasets were used and which were skipped, and why."""

from biocredit import pipeline

pipeline.configure(snakemake.log[0])
pipeline.write_dataset_status(snakemake.params.status, snakemake.output[0])
