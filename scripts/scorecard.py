"""Rule `scorecard`: every learning rule on every axis of both studies, with CIs over seeds."""

from biocredit.stages.job import run_job
from biocredit.stages.scorecard import write_scorecard

run_job(snakemake, write_scorecard, inputs=("a_summaries", "b_summaries", "metrics"), outputs=("csv", "png", "pdf"))
