"""Rule `figure_a6`: A2 under Procrustes, CKA and CCA, and its claim row."""

from biocredit.stages._job import run_job
from biocredit.stages.figures_a import figure_a6

run_job(snakemake, figure_a6, inputs=('summary',))
