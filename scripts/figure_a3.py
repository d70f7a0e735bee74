"""Rule `figure_a3`: distances at matched accuracy levels, drawn from the summaries and the A3 claim row."""

from biocredit.stages.figures_a import figure_a3
from biocredit.stages.job import run_job

run_job(snakemake, figure_a3, inputs=('summary', 'claim', 'sensitivity'), outputs=('png', 'pdf'))
