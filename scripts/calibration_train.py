"""Rule `calibration_train`: one (N, lr, rule, seed) run of the calibration grid, trained as rule `train` trains."""

from biocredit.stages.job import configure
from biocredit.stages.train import train_job

configure(snakemake.log[0], snakemake.threads)
train_job(snakemake.input.data, snakemake.output.checkpoints, snakemake.output.metrics,
          wildcards=snakemake.wildcards, run=snakemake.params.run, device=snakemake.params.device)
