"""Rule `figure_a6`: the comparison under three metrics, drawn from the summaries and the A6 claim row."""

from biocredit.stages.figures_a import figure_a6
from biocredit.stages.job import run_job

run_job(snakemake, figure_a6, inputs=('summary', 'claim'), outputs=('png', 'pdf'))
