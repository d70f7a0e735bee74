"""Rule `figure_a4`: distance across initial gains and architectures, variance shares, and the claim row."""

from biocredit import pipeline

pipeline.run_job(snakemake, pipeline.figure_a4, inputs=("summary",))
