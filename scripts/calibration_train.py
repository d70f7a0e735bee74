"""Rule `calibration_train`: one (N, lr, rule, seed) run of the calibration grid, trained as rule `train` trains."""

from biocredit.stages._job import configure
from biocredit.stages.train import train_run

configure(snakemake.log[0], snakemake.threads)
wc, run = snakemake.wildcards, snakemake.params.run
train_run(
    snakemake.input.data,
    snakemake.output.checkpoints,
    snakemake.output.metrics,
    task=wc.task,
    task_cfg=run["task_cfg"],
    arch=wc.arch,
    arch_cfg=run["arch_cfg"],
    rule=run.get("rule", wc.rule_name),  # study B: the learning rule of a variant name such as tbptt-w4
    seed=int(wc.seed),
    train_cfg=run["train_cfg"],
    device=snakemake.params.device,
    rule_options=run["rule_options"],
)
