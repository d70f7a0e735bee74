"""Rule `configfiles`: record the config files of this run (one per line) for `make report`."""

from biocredit import pipeline
from biocredit.io import atomic_path

pipeline.configure(snakemake.log[0])
with atomic_path(snakemake.output[0]) as tmp:
    tmp.write_text("".join(f"{f}\n" for f in snakemake.params.files))
