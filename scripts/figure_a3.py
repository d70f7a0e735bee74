"""Rule `figure_a3`: distances at matched accuracy levels for one dataset, and its claim row."""

from biocredit import pipeline

pipeline.run_job(snakemake, pipeline.figure_a3, inputs=("summary",))
