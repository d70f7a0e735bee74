"""Rule `network_outputs`: one analysis batch of a task and each rule's trained outputs on it (figure A1)."""

from biocredit.stages.job import configure
from biocredit.stages.networks import network_outputs

configure(snakemake.log[0])
network_outputs(
    snakemake.input.data,
    list(snakemake.input.checkpoints),
    snakemake.output[0],
    task=snakemake.wildcards.task,
    task_cfg=dict(snakemake.params.task_cfg),
    rules=list(snakemake.params.rules),
)
