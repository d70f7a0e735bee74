"""Rule `figure_a5`: dynamics at matched accuracy, drawn from the summaries and the A5 claim row."""

from biocredit.stages.figures_a import figure_a5
from biocredit.stages.job import run_job

run_job(snakemake, figure_a5, inputs=('summary', 'dynamics', 'participation', 'claim'), outputs=('png', 'pdf'))
