"""Rule `claims`: gather every claim row into results/claims.json."""

from biocredit.stages._job import configure
from biocredit.stages.claims import collect_claims

configure(snakemake.log[0])
collect_claims(list(snakemake.input.claims), snakemake.output[0])
