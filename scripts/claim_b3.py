"""Rule `claim_b3`: the B3 claim row of one task (the top Hessian eigenvalue per rule), no drawing."""

from biocredit.stages.claims_b import claim_b3
from biocredit.stages.job import run_job

run_job(snakemake, claim_b3, inputs=('summary',), outputs=('claim',))
