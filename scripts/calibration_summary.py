"""Rule `calibration_summary`: the calibration tables, chosen setting and figure from the runs' metrics logs."""

from biocredit.stages.calibration import write_calibration
from biocredit.stages.job import configure

configure(snakemake.log[0])
p = snakemake.params
write_calibration(
    list(snakemake.input.metrics),
    snakemake.output.runs,
    snakemake.output.settings,
    snakemake.output.choice,
    snakemake.output.png,
    snakemake.output.pdf,
    rules=list(p.rules),
    budgets=[int(b) for b in p.budgets],
    threshold=float(p.threshold),
    read_at=p.read_at,
    cost_exponent=float(p.cost_exponent),
    task=p.task,
    arch=p.arch,
)
