"""Rule `figure_b7`: trace, spectral density and gradient alignment, drawn from the summary and the B7 claim row."""

from biocredit.stages.figures_b import figure_b7
from biocredit.stages.job import run_job

run_job(snakemake, figure_b7, inputs=('summary', 'claim'), outputs=('png', 'pdf'))
