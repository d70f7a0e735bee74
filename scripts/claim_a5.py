"""Rule `claim_a5`: the A5 claim row (dynamics at matched accuracy), no drawing."""

from biocredit.stages.claims_a import claim_a5
from biocredit.stages.job import run_job

run_job(snakemake, claim_a5, inputs=('summary', 'dynamics'), outputs=('claim',))
