"""Rule `figure_b5`: curvature against the learning rate (remedies task), drawn with the B5 claim row."""

from biocredit.stages._job import run_job
from biocredit.stages.figures_b import figure_b5

run_job(snakemake, figure_b5, inputs=('summary', 'claim'), outputs=('png', 'pdf'))
