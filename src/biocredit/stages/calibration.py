"""Stage of ``rules/calibration.smk`` (``snakemake calibration``): the calibration tables, the chosen setting and
the figure from the runs' metrics logs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from biocredit.calibration import RUN_COLUMNS, cheapest_setting, run_rows, settings_table
from biocredit.figures.calibration import calibration_figure
from biocredit.figures.style import save
from biocredit.io import atomic_path, write_json

__all__ = ["write_calibration"]


def write_calibration(
    metrics: list[str],
    out_runs: str,
    out_settings: str,
    out_choice: str,
    png: str,
    pdf: str,
    *,
    rules: list[str],
    budgets: list[int],
    threshold: float,
    criterion: str,
    cost_exponent: float,
    task: str,
    arch: str,
) -> None:
    """Read every calibration run's metrics log; write the per-run table, the per-setting table (CSV), the chosen
    setting (JSON) and the figure (PNG and PDF). Every output is written atomically."""
    rows = []
    for path in metrics:
        try:
            with xr.open_dataset(path) as ds:
                rows += run_rows(ds.load(), budgets)
        except (KeyError, ValueError, OSError) as err:
            raise ValueError(f"{path}: cannot read a calibration run ({err})") from err
    runs = pd.DataFrame(rows, columns=RUN_COLUMNS).sort_values(["n_hidden", "lr", "rule", "seed", "budget"])
    settings = settings_table(runs, rules, threshold, criterion, cost_exponent)
    choice = cheapest_setting(settings, threshold)
    settings["chosen"] = False
    if choice is not None:
        settings["chosen"] = ((settings["n_hidden"] == choice["n_hidden"]) & np.isclose(settings["lr"], choice["lr"])
                              & (settings["budget"] == choice["budget"]))
    for table, out in ((runs, out_runs), (settings, out_settings)):
        with atomic_path(out) as tmp:
            table.to_csv(tmp, index=False, float_format="%.6g")
    write_json({"task": task, "arch": arch, "rules": list(rules), "threshold": threshold, "criterion": criterion,
                "cost": f"budget * n_hidden ** {cost_exponent:g}",
                "n_runs": int(len(runs) // max(len(budgets), 1)), "choice": choice}, out_choice)
    title = f"Calibration: {task}, arch {arch}; all ✓ = every run's {criterion} 1 − NE ≥ {threshold:g}"
    fig = calibration_figure(runs, settings, rules, threshold, criterion, choice, title)
    save(fig, png, pdf)
