"""Rule `figure_a4`: distance across initial gains and architectures, variance shares, and the claim row."""

from biocredit import pipeline

pipeline.configure(snakemake.log[0])
p = snakemake.params
pipeline.figure_a4(
    snakemake.input.summary,
    snakemake.output.png,
    snakemake.output.pdf,
    snakemake.output.claim,
    dataset=snakemake.wildcards.dataset,
    archs=dict(p.archs),
    rules=list(p.rules),
    level=p.level,
    preset=p.preset,
)
