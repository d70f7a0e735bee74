"""Rule `claim_a4`: the A4 claim row (initialisation and architecture against the rule), no drawing."""

from biocredit.stages.claims_a import claim_a4
from biocredit.stages.job import run_job

run_job(snakemake, claim_a4, inputs=('summary',), outputs=('claim',))
