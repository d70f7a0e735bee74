"""Rule `claim_b1`: the B1 claim row of one task (training and test performance per rule), no drawing."""

from biocredit.stages.claims_b import claim_b1
from biocredit.stages.job import run_job

run_job(snakemake, claim_b1, inputs=('summary',), outputs=('claim',))
