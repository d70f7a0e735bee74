"""Rule `figure_a4`: initialisation and architecture against the rule, drawn from the summaries and the A4 claim row."""

from biocredit.stages.figures_a import figure_a4
from biocredit.stages.job import run_job

run_job(snakemake, figure_a4, inputs=('summary', 'claim'), outputs=('png', 'pdf'))
