"""Stage of ``rules/calibration.smk`` (``snakemake calibration``): the calibration tables, the chosen setting and
the figure from the runs' metrics logs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from biocredit.calibration import (
    B_RUN_COLUMNS,
    RUN_COLUMNS,
    b_choice,
    b_run_rows,
    b_settings_table,
    cheapest_setting,
    run_rows,
    settings_table,
)
from biocredit.figures.calibration import calibration_b_figure, calibration_figure
from biocredit.figures.style import save
from biocredit.io import atomic_path, open_netcdf, write_json

__all__ = ["write_calibration", "write_calibration_b"]


def _read_runs(metrics: list[str], runs: list, rows_of, what: str) -> list:
    """Every run's table rows (``rows_of(metrics dataset, run)``), an unreadable log named by its path."""
    rows = []
    for path, run in zip(metrics, runs, strict=True):
        try:
            with open_netcdf(path) as ds:
                rows += rows_of(ds.load(), run)
        except (KeyError, ValueError) as err:
            raise ValueError(f"{path}: cannot read {what} ({err})") from err
    return rows


def _write_tables(*tables) -> None:
    """Each ``(DataFrame, path)`` as a CSV, atomically."""
    for table, out in tables:
        with atomic_path(out) as tmp:
            table.to_csv(tmp, index=False, float_format="%.6g")


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
    read_at: str,
    cost_exponent: float,
    task: str,
    arch: str,
) -> None:
    """Read every calibration run's metrics log; write the per-run table, the per-setting table (CSV), the chosen
    setting (JSON) and the figure (PNG and PDF). Every output is written atomically."""
    rows = _read_runs(metrics, [None] * len(metrics), lambda ds, _: run_rows(ds, budgets), "a calibration run")
    runs = pd.DataFrame(rows, columns=RUN_COLUMNS).sort_values(["n_hidden", "lr", "rule", "seed", "budget"])
    settings = settings_table(runs, rules, threshold, read_at, cost_exponent)
    choice = cheapest_setting(settings, threshold)
    settings["chosen"] = False
    if choice is not None:
        settings["chosen"] = ((settings["n_hidden"] == choice["n_hidden"]) & np.isclose(settings["lr"], choice["lr"])
                              & (settings["budget"] == choice["budget"]))
    _write_tables((runs, out_runs), (settings, out_settings))
    write_json({"task": task, "arch": arch, "rules": list(rules), "threshold": threshold, "read_at": read_at,
                "cost": f"budget * n_hidden ** {cost_exponent:g}",
                "n_runs": int(len(runs) // max(len(budgets), 1)), "choice": choice}, out_choice)
    title = f"Calibration: {task}, arch {arch}; all ✓ = every run's {read_at} 1 − NE ≥ {threshold:g}"
    fig = calibration_figure(runs, settings, rules, threshold, read_at, choice, title)
    save(fig, png, pdf)


def write_calibration_b(
    metrics: list[str],
    out_runs: str,
    out_settings: str,
    out_choice: str,
    png: str,
    pdf: str,
    *,
    runs: list[dict],
    rules: list[str],
    reference: str,
    budgets: list[int],
    factors: dict,
    target: dict,
    tolerance: float,
    drop_tolerance: float,
    cost_exponent: float,
    task: str,
) -> None:
    """Study B's calibration (``snakemake calibration_b``): read every run's metrics log (``runs``: its
    ``n_hidden``, ``n_train``, ``rule`` and ``seed``, aligned with ``metrics``); write the per-run and per-setting
    tables (CSV), the choice (JSON: the cheapest setting that behaves like the paper-scale slice, or the closest
    one, marked as missing) and the figure. Every output is written atomically."""
    rows = _read_runs(metrics, runs, lambda ds, run: b_run_rows(ds, budgets, float(factors.get(run["rule"], 1.0)),
                                                                  int(run["n_train"])), "a study-B calibration run")
    table = pd.DataFrame(rows, columns=B_RUN_COLUMNS).sort_values(["n_hidden", "n_train", "rule", "seed", "budget"])
    settings = b_settings_table(table, rules, reference, target, tolerance=tolerance, drop_tolerance=drop_tolerance,
                                cost_exponent=cost_exponent)
    choice = b_choice(settings)
    settings["chosen"] = ((settings["n_hidden"] == choice["n_hidden"]) & (settings["n_train"] == choice["n_train"])
                          & (settings["budget"] == choice["budget"]))
    _write_tables((table, out_runs), (settings, out_settings))
    write_json({"task": task, "rules": list(rules), "reference": reference, "target": target,
                "tolerance": tolerance, "drop_tolerance": drop_tolerance,
                "cost": f"budget * n_hidden ** {cost_exponent:g}", "n_runs": len(runs), "choice": choice},
               out_choice)
    title = (f"Study-B calibration ({task}): (a) each rule's training-accuracy difference to "
             f"{reference} within {tolerance:g} of the slice's; (b) {reference} does not memorise")
    save(calibration_b_figure(settings, rules, reference, target, tolerance, drop_tolerance, choice, title), png, pdf)
