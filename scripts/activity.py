"""Rule `activity`: every checkpoint's hidden activity on the analysis trials."""

from biocredit.stages.activity import extract_activity
from biocredit.stages.job import configure

configure(snakemake.log[0], snakemake.threads)
wc = snakemake.wildcards
extract_activity(
    snakemake.input.data,
    snakemake.input.checkpoints,
    snakemake.output[0],
    task=wc.task,
    task_cfg=snakemake.params.task_cfg,
    meta={"study": wc.study, "task": wc.task, "arch": wc.arch, "rule": wc.run_name, "seed": int(wc.seed)},
)
