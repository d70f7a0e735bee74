"""Rule `claim_b7`: the B7 claim row of one task (trace, spectral density and gradient alignment), no drawing."""

from biocredit.stages.claims_b import claim_b7
from biocredit.stages.job import run_job

run_job(snakemake, claim_b7, inputs=('summary',), outputs=('claim',))
