"""Rule `figure_a4`: distance across initial gains and architectures, variance shares, and the claim row."""

from biocredit.stages._job import run_job
from biocredit.stages.figures_a import figure_a4

run_job(snakemake, figure_a4, inputs=('summary',))
