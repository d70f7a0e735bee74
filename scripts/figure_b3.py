"""Rule `figure_b3`: the top Hessian eigenvalue per rule, drawn from the summary and the B3 claim row."""

from biocredit.stages._job import run_job
from biocredit.stages.figures_b import figure_b3

run_job(snakemake, figure_b3, inputs=('summary', 'claim'), outputs=('png', 'pdf'))
