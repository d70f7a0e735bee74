"""Rule `figure_a3`: distances at matched accuracy levels for one dataset, and its claim row."""

from biocredit import pipeline

pipeline.configure(snakemake.log[0])
p = snakemake.params
pipeline.figure_a3(
    snakemake.input.summary,
    snakemake.output.png,
    snakemake.output.pdf,
    snakemake.output.claim,
    dataset=snakemake.wildcards.dataset,
    arch=p.arch,
    rules=list(p.rules),
    fractions=list(p.fractions),
    margin=p.margin,
    preset=p.preset,
)
