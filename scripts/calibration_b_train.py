"""Rule `calibration_b_train`: one (N, n_train, rule, seed) run of study B's calibration grid, trained as rule
`train` trains."""

from biocredit.stages.job import configure
from biocredit.stages.train import train_job

configure(snakemake.log[0], snakemake.threads)
train_job(snakemake.input.data, snakemake.output.checkpoints, snakemake.output.metrics,
          wildcards=snakemake.wildcards, run=snakemake.params.run, device=snakemake.params.device)
