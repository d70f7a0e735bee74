"""Rule `claim_a6`: the A6 claim row (the comparison under three metrics), no drawing."""

from biocredit.stages.claims_a import claim_a6
from biocredit.stages.job import run_job

run_job(snakemake, claim_a6, inputs=('summary',), outputs=('claim',))
