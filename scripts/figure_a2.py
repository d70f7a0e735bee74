"""Rule `figure_a2`: distance vs accuracy for one dataset, and its claim row."""

from biocredit import pipeline

pipeline.run_job(snakemake, pipeline.figure_a2, inputs=("summary", "baselines"))
