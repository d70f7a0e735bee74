"""Rule `normalized`: normalised-with-data distance at a run's best checkpoint."""

from biocredit import pipeline

pipeline.configure(snakemake.log[0])
i = snakemake.input
pipeline.normalized_run(i.activity, i.distances, i.data, snakemake.output[0], n_iter=snakemake.params.n_iter)
