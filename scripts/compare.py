"""Rule `compare`: Procrustes distance of each checkpoint to the recordings."""

from biocredit.stages.job import configure
from biocredit.stages.similarity import compare_run

configure(snakemake.log[0])
compare_run(snakemake.input.activity, snakemake.input.data, snakemake.output[0])
