"""Rule `figures_remedies`: figures B5 (curvature vs learning rate) and B6 (remedies) and their claim rows."""

from biocredit import pipeline, study_b

pipeline.configure(snakemake.log[0])
p = snakemake.params
study_b.figures_remedies(
    snakemake.input.summary,
    dict(snakemake.output.items()),
    task=snakemake.wildcards.task,
    reference=p.reference,
    lr_rules=list(p.lr_rules),
    windows=list(p.windows),
    alpha=p.alpha,
    tolerance=p.tolerance,
    preset=p.preset,
)
