"""Rule `curvature`: Hessian top eigenvalue, trace and spectral density at one run's checkpoints."""

from biocredit.stages.curvature import curvature_run
from biocredit.stages.job import configure

configure(snakemake.log[0], snakemake.threads)
wc, run = snakemake.wildcards, snakemake.params.run
curvature_run(
    snakemake.input.data,
    snakemake.input.checkpoints,
    snakemake.output[0],
    task=wc.task,
    task_cfg=run["task_cfg"],
    seed=int(wc.seed),
    train_cfg=run["train_cfg"],
    curvature=dict(snakemake.params.curvature),
    device=snakemake.params.device,
    meta={"arch": wc.arch, "rule": wc.run_name},
)
