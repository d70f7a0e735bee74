"""Rule `claim_b2`: the B2 claim row of one task (the generalization gap per rule), no drawing."""

from biocredit.stages.claims_b import claim_b2
from biocredit.stages.job import run_job

run_job(snakemake, claim_b2, inputs=('summary',), outputs=('claim',))
