"""Rule `claim_a2`: the A2 claim row (distance vs accuracy for one dataset), no drawing."""

from biocredit.stages._job import run_job
from biocredit.stages.claims_a import claim_a2

run_job(snakemake, claim_a2, inputs=('summary',), outputs=('claim', 'sensitivity'))
