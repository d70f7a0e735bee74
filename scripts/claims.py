"""Rule `claims`: gather every claim row into results/claims.json."""

from biocredit.stages.claims import collect_claims
from biocredit.stages.job import configure

configure(snakemake.log[0])
collect_claims(list(snakemake.input.claims), snakemake.output[0])
