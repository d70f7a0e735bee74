"""Rule `matched_participation`: each run's participation ratio on the matched accuracy grid (figure A5)."""

from biocredit.stages.job import run_job
from biocredit.stages.similarity import matched_participation

run_job(snakemake, matched_participation, inputs=("summary",), outputs=("participation",))
