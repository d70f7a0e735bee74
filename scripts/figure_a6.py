"""Rule `figure_a6`: A2 under Procrustes, CKA and CCA, and its claim row."""

from biocredit import pipeline

pipeline.run_job(snakemake, pipeline.figure_a6, inputs=("summary",))
