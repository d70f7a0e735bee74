"""Rule `figure_a2`: distance vs accuracy for one dataset, drawn from the summaries and the A2 claim row."""

from biocredit.stages.figures_a import figure_a2
from biocredit.stages.job import run_job

run_job(snakemake, figure_a2, inputs=('summary', 'baselines', 'claim', 'sensitivity'), outputs=('png', 'pdf'))
