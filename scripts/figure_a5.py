"""Rule `figure_a5`: dynamics at matched accuracy, and its claim row."""

from biocredit import pipeline

pipeline.configure(snakemake.log[0])
p = snakemake.params
pipeline.figure_a5(
    snakemake.input.summary,
    list(snakemake.input.activities),
    list(snakemake.input.checkpoints),
    snakemake.output.png,
    snakemake.output.pdf,
    snakemake.output.claim,
    dataset=snakemake.wildcards.dataset,
    arch=p.arch,
    rules=list(p.rules),
    level=p.level,
    n_grid=p.n_grid,
    margin=p.margin,
    rank=p.rank,
    preset=p.preset,
)
