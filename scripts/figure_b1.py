"""Rule `figure_b1`: training and test performance per rule, drawn from the summary and the B1 claim row."""

from biocredit.stages.figures_b import figure_b1
from biocredit.stages.job import run_job

run_job(snakemake, figure_b1, inputs=('summary', 'claim'), outputs=('png', 'pdf'))
