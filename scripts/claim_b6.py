"""Rule `claim_b6`: the B6 claim row of one task (the remedies (remedies task)), no drawing."""

from biocredit.stages.claims_b import claim_b6
from biocredit.stages.job import run_job

run_job(snakemake, claim_b6, inputs=('summary',), outputs=('claim',))
