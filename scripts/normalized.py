"""Rule `normalized`: normalised-with-data distance at a run's best checkpoint."""

from biocredit.stages.job import configure
from biocredit.stages.similarity import normalized_run

configure(snakemake.log[0])
i = snakemake.input
normalized_run(i.activity, i.distances, i.data, snakemake.output[0], n_iter=snakemake.params.n_iter)
