"""Rule `figure_b4`: the gap against curvature over runs, drawn from the summary and the B4 claim row."""

from biocredit.stages.figures_b import figure_b4
from biocredit.stages.job import run_job

run_job(snakemake, figure_b4, inputs=('summary', 'claim'), outputs=('png', 'pdf'))
