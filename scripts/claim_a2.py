"""Rule `claim_a2`: the A2 claim row (distance vs accuracy for one dataset), no drawing."""

from biocredit.stages.claims_a import claim_a2
from biocredit.stages.job import run_job

run_job(snakemake, claim_a2, inputs=('summary',), outputs=('claim', 'sensitivity'))
