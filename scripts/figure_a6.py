"""Rule `figure_a6`: A2 under Procrustes, CKA and CCA, and its claim row."""

from biocredit import pipeline

pipeline.configure(snakemake.log[0])
p = snakemake.params
pipeline.figure_a6(
    snakemake.input.summary,
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
