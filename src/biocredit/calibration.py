"""Calibration of study A's training scale: which network size, learning rate and update budget let every seed of
every rule reach a given task accuracy.

The ``calibration`` workflow target trains each (N, lr, rule, seed) of a small grid once, for the largest budget,
and reads shorter budgets off the same run's checkpoint log (the accuracy on the run's fixed test batch). Per run
and budget it keeps the *final* accuracy (at the budget) and the *best* one (the maximum over checkpoints up to the
budget). Per setting (N, lr, budget) it asks whether every seed of every rule reaches the threshold, and the
cheapest setting that does is proposed as the default. Pure functions here; the figure is
:func:`biocredit.figures.calibration.calibration_figure`, the files
:func:`biocredit.stages.calibration.write_calibration`.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from biocredit.train import checkpoint_schedule

__all__ = [
    "calibration_checkpoints",
    "budget_outcomes",
    "run_rows",
    "settings_table",
    "cheapest_setting",
]

CRITERIA = ("best", "final")
RUN_COLUMNS = ["n_hidden", "lr", "rule", "seed", "budget", "final", "best", "diverged_at"]
SETTING_KEYS = ["n_hidden", "lr", "budget"]


def calibration_checkpoints(n_updates: int, budgets) -> list[int]:
    """The authors' checkpoint schedule for ``n_updates`` plus every budget, so that each budget is read exactly."""
    budgets = [int(b) for b in budgets]
    bad = [b for b in budgets if not 0 < b <= n_updates]
    if bad:
        raise ValueError(f"calibration budgets {bad} lie outside 1..n_updates={n_updates}")
    return sorted(set(checkpoint_schedule(n_updates)) | set(budgets))


def budget_outcomes(steps, accuracy, budgets) -> list[dict]:
    """Final and best accuracy of one run at each budget.

    ``steps``/``accuracy``: the run's checkpoint log. Final = the accuracy at the checkpoint equal to the budget;
    best = the maximum over checkpoints up to it. NaN (a diverged run) never counts as reached: a NaN final stays
    NaN, and best ignores NaN entries (NaN if all are).
    """
    steps = np.asarray(steps, dtype=int)
    accuracy = np.asarray(accuracy, dtype=float)
    if steps.shape != accuracy.shape:
        raise ValueError(f"steps {steps.shape} and accuracy {accuracy.shape} differ in shape")
    out = []
    for b in budgets:
        at = np.flatnonzero(steps == int(b))
        if not len(at):
            raise ValueError(f"budget {b} is not a checkpoint of the run (checkpoints {steps[0]}..{steps[-1]})")
        upto = accuracy[steps <= int(b)]
        best = float(np.nanmax(upto)) if np.isfinite(upto).any() else float("nan")
        out.append({"budget": int(b), "final": float(accuracy[at[0]]), "best": best})
    return out


def run_rows(metrics, budgets) -> list[dict]:
    """Rows of the per-run table for one run's metrics log (an xarray Dataset written by the ``train`` stage)."""
    train_cfg = json.loads(metrics.attrs["train_config"])
    model_cfg = json.loads(metrics.attrs["model_config"])
    head = {
        "n_hidden": int(model_cfg["n_hidden"]),
        "lr": float(train_cfg["lr"]),
        "rule": str(metrics.attrs["rule"]),
        "seed": int(metrics.attrs["seed"]),
    }
    outcomes = budget_outcomes(metrics["checkpoint"].values, metrics["test_accuracy"].values, budgets)
    return [head | o | {"diverged_at": int(metrics.attrs.get("diverged_at", -1))} for o in outcomes]


def settings_table(runs: pd.DataFrame, rules, threshold: float, criterion: str = "best",
                   cost_exponent: float = 1.0) -> pd.DataFrame:
    """One row per setting (N, lr, budget): how the seeds of each rule did and whether all reach ``threshold``.

    Columns: ``n_seeds`` (the fewest seeds any rule has), per rule ``{rule}_final_mean``, ``{rule}_final_min``,
    ``{rule}_best_min``; ``matched_top`` (the lowest best accuracy over all runs: the top of the accuracy range
    that every run passes through); ``all_reach`` (every rule has runs and every run's ``criterion`` accuracy is
    at least ``threshold``); ``cost`` (budget × N^cost_exponent, the time of training one run up to a constant;
    measured per-update time on a 2-core CPU roughly doubles from N = 100 to 200, hence the default 1).
    """
    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {CRITERIA}, got {criterion!r}")
    missing = sorted(set(RUN_COLUMNS) - set(runs.columns))
    if missing:
        raise ValueError(f"run table lacks columns {missing}")
    rows = []
    for key, group in runs.groupby(SETTING_KEYS, sort=True):
        row = dict(zip(SETTING_KEYS, key, strict=True))
        counts = []
        for rule in rules:
            g = group[group["rule"] == rule]
            counts.append(len(g))
            row[f"{rule}_final_mean"] = float(g["final"].mean()) if len(g) else float("nan")
            row[f"{rule}_final_min"] = float(g["final"].min(skipna=False)) if len(g) else float("nan")
            row[f"{rule}_best_min"] = float(g["best"].min(skipna=False)) if len(g) else float("nan")
        mine = group[group["rule"].isin(list(rules))]
        row["n_seeds"] = int(min(counts))
        row["matched_top"] = float(mine["best"].min(skipna=False))
        values = mine[criterion].to_numpy(dtype=float)
        row["all_reach"] = bool(min(counts) > 0 and np.all(np.nan_to_num(values, nan=-np.inf) >= threshold))
        row["cost"] = float(row["budget"]) * float(row["n_hidden"]) ** float(cost_exponent)
        rows.append(row)
    return pd.DataFrame(rows)


def cheapest_setting(settings: pd.DataFrame, threshold: float) -> dict | None:
    """The cheapest setting where every seed of every rule reaches the threshold and the matched range reaches it.

    Among rows with ``all_reach`` and ``matched_top ≥ threshold``, the lowest ``cost``; ties go to the larger
    ``matched_top`` (more margin), then the smaller N, lr and budget. None when no setting qualifies.
    """
    ok = settings[settings["all_reach"].astype(bool) & (settings["matched_top"] >= threshold)]
    if ok.empty:
        return None
    order = ok.assign(_margin=-ok["matched_top"]).sort_values(["cost", "_margin", "n_hidden", "lr", "budget"])
    best = order.iloc[0]
    return {
        "n_hidden": int(best["n_hidden"]),
        "lr": float(best["lr"]),
        "budget": int(best["budget"]),
        "matched_top": float(best["matched_top"]),
        "cost": float(best["cost"]),
    }
