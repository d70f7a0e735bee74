"""Rule `figure_a7`: normalised-with-data distances at the best checkpoints, drawn with the A7 claim row."""

from biocredit.stages.figures_a import figure_a7
from biocredit.stages.job import run_job

run_job(snakemake, figure_a7, inputs=('runs', 'claim'), outputs=('png', 'pdf'))
