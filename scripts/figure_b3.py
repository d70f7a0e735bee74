"""Rule `figure_b3`: the top Hessian eigenvalue per rule, drawn from the summary and the B3 claim row."""

from biocredit.stages.figures_b import figure_b3
from biocredit.stages.job import run_job

run_job(snakemake, figure_b3, inputs=('summary', 'claim'), outputs=('png', 'pdf'))
