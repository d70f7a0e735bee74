"""Rule `figure_a7`: normalised-with-data distances at the best checkpoints, and the claim row."""

from biocredit import pipeline

pipeline.configure(snakemake.log[0])
p = snakemake.params
pipeline.figure_a7(
    list(snakemake.input.runs),
    snakemake.output.png,
    snakemake.output.pdf,
    snakemake.output.claim,
    dataset=snakemake.wildcards.dataset,
    arch=p.arch,
    rules=list(p.rules),
    preset=p.preset,
)
