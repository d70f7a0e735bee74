"""Rule `figures_remedies`: figures B5 (curvature vs learning rate) and B6 (remedies) and their claim rows."""

from biocredit import pipeline, study_b

pipeline.run_job(snakemake, study_b.figures_remedies, inputs=("summary",), outputs=None)
