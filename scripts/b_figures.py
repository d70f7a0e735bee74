"""Rule `figures_generalization`: figures B1-B4 and B7 of one task and their claim rows."""

from biocredit import pipeline, study_b

pipeline.configure(snakemake.log[0])
p = snakemake.params
study_b.figures(
    snakemake.input.summary,
    dict(snakemake.output.items()),
    task=snakemake.wildcards.task,
    rules=list(p.rules),
    lr=float(p.lr),
    alpha=p.alpha,
    train_margin=p.train_margin,
    preset=p.preset,
)
