"""Rule `figures_generalization`: figures B1-B4 and B7 of one task and their claim rows."""

from biocredit import pipeline, study_b

pipeline.run_job(snakemake, study_b.figures, inputs=("summary",), outputs=None)
