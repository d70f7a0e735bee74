"""Rule `claim_b3`: the B3 claim row of one task (the top Hessian eigenvalue per rule), no drawing."""

from biocredit.stages._job import run_job
from biocredit.stages.claims_b import claim_b3

run_job(snakemake, claim_b3, inputs=('summary',), outputs=('claim',))
