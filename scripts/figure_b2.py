"""Rule `figure_b2`: the generalization gap per rule, and its claim row."""

from biocredit.stages._job import run_job
from biocredit.stages.figures_b import figure_b2

run_job(snakemake, figure_b2, inputs=('summary',))
