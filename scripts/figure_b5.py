"""Rule `figure_b5`: curvature against the learning rate (remedies task), drawn with the B5 claim row."""

from biocredit.stages.figures_b import figure_b5
from biocredit.stages.job import run_job

run_job(snakemake, figure_b5, inputs=('summary', 'claim'), outputs=('png', 'pdf'))
