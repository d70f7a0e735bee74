"""Rule `claims`: gather every claim row into results/claims.json."""

from biocredit import pipeline

pipeline.configure(snakemake.log[0])
pipeline.collect_claims(list(snakemake.input), snakemake.output[0])
