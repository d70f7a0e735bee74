"""Rule `claim_a6`: the A6 claim row (the comparison under three metrics), no drawing."""

from biocredit.stages._job import run_job
from biocredit.stages.claims_a import claim_a6

run_job(snakemake, claim_a6, inputs=('summary',), outputs=('claim',))
