"""Rule `claim_b4`: the B4 claim row of one task (the gap against curvature over runs), no drawing."""

from biocredit.stages.claims_b import claim_b4
from biocredit.stages.job import run_job

run_job(snakemake, claim_b4, inputs=('summary',), outputs=('claim',))
