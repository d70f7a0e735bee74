"""Rule `claim_a7`: the A7 claim row (normalised-with-data distances at the best checkpoints), no drawing."""

from biocredit.stages.claims_a import claim_a7
from biocredit.stages.job import run_job

run_job(snakemake, claim_a7, inputs=('runs',), outputs=('claim',))
