"""Rule `figure_a5`: dynamics at matched accuracy, drawn from the summaries and the A5 claim row."""

from biocredit.stages._job import run_job
from biocredit.stages.figures_a import figure_a5

run_job(snakemake, figure_a5, inputs=('summary', 'dynamics', 'claim'), outputs=('png', 'pdf'))
