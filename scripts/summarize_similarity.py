"""Rule `summarize_similarity`: stack one dataset's per-run distances."""

from biocredit import pipeline

pipeline.configure(snakemake.log[0])
pipeline.summarize_similarity(list(snakemake.input.runs), list(snakemake.input.metrics), snakemake.output[0])
