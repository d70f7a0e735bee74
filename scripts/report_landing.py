"""Rule `report_landing`: the report's landing page (claims with verdicts, scorecard, datasets) as RST."""

from biocredit import landing, pipeline

pipeline.configure(snakemake.log[0])
landing.write_landing(snakemake.input.claims, snakemake.input.datasets, snakemake.input.scorecard,
                      snakemake.input.png, snakemake.output[0], **dict(snakemake.params.items()))
