"""Rule `settle`: the settled claims of every dataset → results/settle/claims.json."""

from biocredit.stages.job import configure
from biocredit.stages.settle import settle_claims

configure(snakemake.log[0])
settle_claims(list(snakemake.input.states), snakemake.output[0])
