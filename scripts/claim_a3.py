"""Rule `claim_a3`: the A3 claim row (distances at matched accuracy levels), no drawing."""

from biocredit.stages.claims_a import claim_a3
from biocredit.stages.job import run_job

run_job(snakemake, claim_a3, inputs=('summary',), outputs=('claim', 'sensitivity'))
