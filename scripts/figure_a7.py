"""Rule `figure_a7`: normalised-with-data distances at the best checkpoints, and the claim row."""

from biocredit import pipeline

pipeline.run_job(snakemake, pipeline.figure_a7, inputs=("runs",))
