"""Rule `figure_b6`: the remedies (remedies task), drawn from the summary and the B6 claim row."""

from biocredit.stages.figures_b import figure_b6
from biocredit.stages.job import run_job

run_job(snakemake, figure_b6, inputs=('summary', 'claim'), outputs=('png', 'pdf'))
