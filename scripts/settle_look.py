"""Rule `settle_look`: one look of the settle target for one dataset."""

from biocredit.stages.job import configure
from biocredit.stages.settle import settle_look

configure(snakemake.log[0])
inputs = snakemake.input
settle_look(list(inputs.runs), list(inputs.metrics), list(inputs.normalized), list(inputs.activities),
            getattr(inputs, "previous", None) or None, snakemake.output[0], dataset=snakemake.wildcards.dataset,
            look=int(snakemake.wildcards.look), **dict(snakemake.params.items()))
