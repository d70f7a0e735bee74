"""Rule `figure_b1`: training and test performance per rule, and the claim row (comparable training)."""

from biocredit.stages._job import run_job
from biocredit.stages.figures_b import figure_b1

run_job(snakemake, figure_b1, inputs=('summary',))
