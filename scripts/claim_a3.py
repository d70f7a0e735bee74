"""Rule `claim_a3`: the A3 claim row (distances at matched accuracy levels), no drawing."""

from biocredit.stages._job import run_job
from biocredit.stages.claims_a import claim_a3

run_job(snakemake, claim_a3, inputs=('summary',), outputs=('claim', 'sensitivity'))
