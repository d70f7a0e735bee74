"""Rule `network_dynamics`: recurrent spectra and DSA distances of one dataset's runs at the matched level (A5)."""

from biocredit.stages.job import configure
from biocredit.stages.networks import network_dynamics

configure(snakemake.log[0])
network_dynamics(
    snakemake.input.summary,
    list(snakemake.input.activities),
    list(snakemake.input.checkpoints),
    snakemake.output[0],
    arch=snakemake.params.arch,
    rules=list(snakemake.params.rules),
    level=snakemake.params.level,
    rank=snakemake.params.rank,
    dsa=dict(snakemake.params.dsa),
)
