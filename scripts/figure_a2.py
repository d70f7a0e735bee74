"""Rule `figure_a2`: distance vs accuracy for one dataset, and its claim row."""

from biocredit import pipeline

pipeline.configure(snakemake.log[0])
p = snakemake.params
pipeline.figure_a2(
    snakemake.input.summary,
    snakemake.input.baselines,
    snakemake.output.png,
    snakemake.output.pdf,
    snakemake.output.claim,
    dataset=snakemake.wildcards.dataset,
    arch=p.arch,
    rules=list(p.rules),
    n_grid=p.n_grid,
    margin=p.margin,
    preset=p.preset,
)
