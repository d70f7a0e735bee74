"""Rule `summarize_similarity`: stack one dataset's per-run distances."""

from biocredit.stages.job import configure
from biocredit.stages.similarity import summarize_similarity

configure(snakemake.log[0])
summarize_similarity(list(snakemake.input.runs), list(snakemake.input.metrics), snakemake.output[0])
