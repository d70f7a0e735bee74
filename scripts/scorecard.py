"""Rule `scorecard`: every learning rule on every axis of both studies, with CIs over seeds."""

from biocredit import pipeline, scorecard

pipeline.run_job(snakemake, scorecard.write_scorecard, inputs=("a_summaries", "b_summaries", "metrics"),
                 outputs=("csv", "png", "pdf"))
