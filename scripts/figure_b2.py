"""Rule `figure_b2`: the generalization gap per rule, drawn from the summary and the B2 claim row."""

from biocredit.stages.figures_b import figure_b2
from biocredit.stages.job import run_job

run_job(snakemake, figure_b2, inputs=('summary', 'claim'), outputs=('png', 'pdf'))
