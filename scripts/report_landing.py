"""Rule `report_landing`: the report's landing page (claims with verdicts, scorecard, datasets) as RST."""

from biocredit.stages.job import configure
from biocredit.stages.scorecard import write_landing

configure(snakemake.log[0])
write_landing(snakemake.input.claims, snakemake.input.datasets, snakemake.input.scorecard, snakemake.input.png,
              snakemake.output[0], figures=list(snakemake.input.figures), **dict(snakemake.params.items()))
