"""Rule `claim_b5`: the B5 claim row of one task (curvature against the learning rate (remedies task)), no drawing."""

from biocredit.stages.claims_b import claim_b5
from biocredit.stages.job import run_job

run_job(snakemake, claim_b5, inputs=('summary',), outputs=('claim',))
