"""Rule `baselines`: the recordings' cross-condition-average and split-half distances."""

from biocredit.stages.job import configure
from biocredit.stages.similarity import baselines

configure(snakemake.log[0])
baselines(snakemake.input.data, snakemake.output[0], snakemake.params.n_split_half)
