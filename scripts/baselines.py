"""Rule `baselines`: the recordings' cross-condition-average and split-half distances."""

from biocredit import pipeline

pipeline.configure(snakemake.log[0])
pipeline.baselines(snakemake.input.data, snakemake.output[0], snakemake.params.n_split_half)
