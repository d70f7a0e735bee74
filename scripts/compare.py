"""Rule `compare`: Procrustes distance of each checkpoint to the recordings."""

from biocredit import pipeline

pipeline.configure(snakemake.log[0])
pipeline.compare_run(snakemake.input.activity, snakemake.input.data, snakemake.output[0])
