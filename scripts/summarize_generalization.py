"""Rule `summarize_generalization`: one study-B task's runs (metrics and curvature) stacked into summary.nc."""

from biocredit.stages.generalization import summarize
from biocredit.stages.job import configure

configure(snakemake.log[0])
summarize(
    list(snakemake.input.metrics),
    list(snakemake.input.hessians),
    list(snakemake.params.runs),
    snakemake.output[0],
    task=snakemake.wildcards.task,
    reference=snakemake.params.reference,
    base_lr=float(snakemake.params.base_lr),
)
