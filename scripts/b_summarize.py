"""Rule `summarize_generalization`: one task's runs (metrics and curvature) stacked into summary.nc."""

from biocredit import pipeline, study_b

pipeline.configure(snakemake.log[0])
study_b.summarize(
    list(snakemake.input.metrics),
    list(snakemake.input.hessians),
    list(snakemake.params.runs),
    snakemake.output[0],
    task=snakemake.wildcards.task,
    reference=snakemake.params.reference,
    base_lr=float(snakemake.params.base_lr),
)
