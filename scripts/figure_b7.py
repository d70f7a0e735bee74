"""Rule `figure_b7`: trace, spectral density and gradient alignment, drawn from the summary and the B7 claim row."""

from biocredit.stages._job import run_job
from biocredit.stages.figures_b import figure_b7

run_job(snakemake, figure_b7, inputs=('summary', 'claim'), outputs=('png', 'pdf'))
