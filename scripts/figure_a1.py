"""Rule `figure_a1`: a task's inputs, targets and trained outputs beside its recordings."""

from biocredit.stages.figures_a import figure_a1
from biocredit.stages.job import run_job

run_job(snakemake, figure_a1, inputs=('data', 'outputs'), outputs=('png', 'pdf'))
