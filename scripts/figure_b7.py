"""Rule `figure_b7`: Hessian trace, spectral density and gradient alignment, and its claim row."""

from biocredit.stages._job import run_job
from biocredit.stages.figures_b import figure_b7

run_job(snakemake, figure_b7, inputs=('summary',))
