"""Rule `figure_a1`: a task's inputs, targets and trained outputs beside its recordings."""

from biocredit.stages._job import configure
from biocredit.stages.figures_a import figure_a1

configure(snakemake.log[0])
checkpoints = dict(zip(snakemake.params.rules, snakemake.input.checkpoints, strict=True))
figure_a1(
    snakemake.input.data,
    checkpoints,
    snakemake.output.png,
    snakemake.output.pdf,
    task=snakemake.wildcards.task,
    task_cfg=snakemake.params.task_cfg,
)
