"""Rule `train_group`: all seeds of one study-A (task, arch, rule) as one batched run."""

from biocredit.stages.job import configure
from biocredit.stages.train_group import train_group_runs

configure(snakemake.log[0], snakemake.threads)
wc, run = snakemake.wildcards, snakemake.params.run
train_group_runs(
    snakemake.input.data,
    list(zip(snakemake.output.checkpoints, snakemake.output.metrics, strict=True)),
    task=wc.task,
    task_cfg=run["task_cfg"],
    arch=wc.arch,
    arch_cfg=run["arch_cfg"],
    rule=wc.run_name,
    seeds=[int(s) for s in snakemake.params.seeds],
    train_cfg=run["train_cfg"],
    device=snakemake.params.device,
    rule_options=run["rule_options"],
)
