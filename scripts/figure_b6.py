"""Rule `figure_b6`: the remedies (learning rate, gradient terms kept), and its claim row."""

from biocredit.stages._job import run_job
from biocredit.stages.figures_b import figure_b6

run_job(snakemake, figure_b6, inputs=('summary',))
