"""Rule `claim_a7`: the A7 claim row (normalised-with-data distances at the best checkpoints), no drawing."""

from biocredit.stages._job import run_job
from biocredit.stages.claims_a import claim_a7

run_job(snakemake, claim_a7, inputs=('runs',), outputs=('claim',))
