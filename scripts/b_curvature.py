"""Rule `curvature`: Hessian top eigenvalue, trace and spectral density at one run's checkpoints."""

from biocredit import pipeline, study_b

pipeline.configure(snakemake.log[0], snakemake.threads)
wc, run = snakemake.wildcards, snakemake.params.run
study_b.curvature_run(
    snakemake.input.data,
    snakemake.input.checkpoints,
    snakemake.output[0],
    task=wc.task,
    task_cfg=run["task_cfg"],
    seed=int(wc.seed),
    train_cfg=run["train_cfg"],
    curvature=dict(snakemake.params.curvature),
    device=snakemake.params.device,
    meta={"arch": wc.arch, "rule": wc.rule_name},
)
