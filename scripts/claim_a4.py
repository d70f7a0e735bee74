"""Rule `claim_a4`: the A4 claim row (initialisation and architecture against the rule), no drawing."""

from biocredit.stages._job import run_job
from biocredit.stages.claims_a import claim_a4

run_job(snakemake, claim_a4, inputs=('summary',), outputs=('claim',))
