"""Rule `figure_b6`: the remedies (remedies task), drawn from the summary and the B6 claim row."""

from biocredit.stages._job import run_job
from biocredit.stages.figures_b import figure_b6

run_job(snakemake, figure_b6, inputs=('summary', 'claim'), outputs=('png', 'pdf'))
