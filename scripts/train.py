"""Rule `train`: one (study, task, arch, rule, seed) run."""

from biocredit.stages.job import configure
from biocredit.stages.train import train_job

configure(snakemake.log[0], snakemake.threads)
train_job(snakemake.input.data, snakemake.output.checkpoints, snakemake.output.metrics,
          wildcards=snakemake.wildcards, run=snakemake.params.run, device=snakemake.params.device)
