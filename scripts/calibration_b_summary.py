"""Rule `calibration_b_summary`: study B's calibration tables, choice and figure from the runs' metrics logs."""

from biocredit.stages.calibration import write_calibration_b
from biocredit.stages.job import run_job

run_job(snakemake, write_calibration_b, inputs=("metrics",), outputs=("runs", "settings", "choice", "png", "pdf"))
