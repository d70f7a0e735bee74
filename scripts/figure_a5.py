"""Rule `figure_a5`: dynamics at matched accuracy, and its claim row."""

from biocredit import pipeline

pipeline.run_job(snakemake, pipeline.figure_a5, inputs=("summary", "activities", "checkpoints"))
