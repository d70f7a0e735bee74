"""Rule `claim_b4`: the B4 claim row of one task (the gap against curvature over runs), no drawing."""

from biocredit.stages._job import run_job
from biocredit.stages.claims_b import claim_b4

run_job(snakemake, claim_b4, inputs=('summary',), outputs=('claim',))
