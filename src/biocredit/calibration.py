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

from biocredit.runs import evaluation_schedule
from biocredit.train import checkpoint_schedule

__all__ = [
    "calibration_checkpoints",
    "budget_outcomes",
    "run_rows",
    "settings_table",
    "cheapest_setting",
    "b_calibration_checkpoints",
    "b_run_rows",
    "b_settings_table",
    "b_choice",
]

READINGS = ("best", "final")
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


def settings_table(runs: pd.DataFrame, rules, threshold: float, read_at: str = "best",
                   cost_exponent: float = 1.0) -> pd.DataFrame:
    """One row per setting (N, lr, budget): how the seeds of each rule did and whether all reach ``threshold``.

    Columns: ``n_seeds`` (the fewest seeds any rule has), per rule ``{rule}_final_mean``, ``{rule}_final_min``,
    ``{rule}_best_min``; ``matched_top`` (the lowest best accuracy over all runs: the top of the accuracy range
    that every run passes through); ``all_reach`` (every rule has runs and every run's ``read_at`` accuracy is
    at least ``threshold``); ``cost`` (budget × N^cost_exponent, the time of training one run up to a constant;
    measured per-update time on a 2-core CPU roughly doubles from N = 100 to 200, hence the default 1).
    """
    if read_at not in READINGS:
        raise ValueError(f"read_at must be one of {READINGS}, got {read_at!r}")
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
        values = mine[read_at].to_numpy(dtype=float)
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


# ------------------------------------------------------------------------------------------------ study B

B_RUN_COLUMNS = ["n_hidden", "n_train", "rule", "seed", "budget", "update", "train_accuracy", "validation_accuracy",
                 "best_validation_accuracy", "validation_drop", "gap_accuracy", "gap_loss", "diverged_at"]
B_SETTING_KEYS = ["n_hidden", "n_train", "budget"]


def b_calibration_checkpoints(n_updates: int, n_checkpoints: int, budgets, factor: float) -> list[int]:
    """Evenly spaced evaluations of a study-B calibration run of ``n_updates`` (already times the rule's
    ``factor``) plus every budget times ``factor`` (the update at which a budget is read for this rule)."""
    marks = {int(round(int(b) * factor)) for b in budgets}
    bad = sorted(m for m in marks if not 0 < m <= n_updates)
    if bad:
        raise ValueError(f"calibration_b budgets (times {factor:g}) {bad} lie outside 1..n_updates={n_updates}")
    return sorted(set(evaluation_schedule(n_updates, n_checkpoints)) | marks)


def b_run_rows(metrics, budgets, factor: float, n_train: int) -> list[dict]:
    """Rows of the study-B calibration's per-run table for one run's metrics log: at each budget ``b`` (in the
    reference rule's updates; this rule is read at ``round(b · factor)``, the authors' 1.6× for three-factor rules),
    the training-set and clean validation accuracy, the best validation accuracy up to there, how far the
    validation accuracy has fallen from it (``validation_drop``: memorisation shows as validation accuracy falling
    while training accuracy rises), and the accuracy and loss gaps (training − validation, validation − training).
    ``n_train`` labels the run's training-set size (its task config)."""
    train_cfg = json.loads(metrics.attrs["train_config"])
    model_cfg = json.loads(metrics.attrs["model_config"])
    held = "validation_set" if "validation_set_accuracy" in metrics else "validation"
    steps = metrics["checkpoint"].values.astype(int)
    tr_acc, va_acc = metrics["train_set_accuracy"].values, metrics[f"{held}_accuracy"].values
    tr_loss, va_loss = metrics["train_set_loss"].values, metrics[f"{held}_loss"].values
    head = {"n_hidden": int(model_cfg["n_hidden"]), "n_train": int(n_train),
            "rule": str(metrics.attrs["rule"]), "seed": int(metrics.attrs["seed"])}
    out = []
    for b in budgets:
        u = int(round(int(b) * factor))
        at = np.flatnonzero(steps == u)
        if not len(at):
            raise ValueError(f"budget {b} (update {u}) is not a checkpoint of the run (checkpoints "
                             f"{steps[0]}..{steps[-1]}, n_updates {train_cfg.get('n_updates')})")
        k = int(at[0])
        upto = va_acc[: k + 1]
        best = float(np.nanmax(upto)) if np.isfinite(upto).any() else float("nan")
        out.append(head | {
            "budget": int(b), "update": u, "train_accuracy": float(tr_acc[k]), "validation_accuracy": float(va_acc[k]),
            "best_validation_accuracy": best, "validation_drop": best - float(va_acc[k]),
            "gap_accuracy": float(tr_acc[k] - va_acc[k]), "gap_loss": float(va_loss[k] - tr_loss[k]),
            "diverged_at": int(metrics.attrs.get("diverged_at", -1)),
        })
    return out


def b_settings_table(runs: pd.DataFrame, rules, reference: str, target: dict, *, tolerance: float,
                     drop_tolerance: float, cost_exponent: float = 1.0) -> pd.DataFrame:
    """One row per setting (N, n_train, budget) of the study-B calibration, against the paper-scale slice
    (``target``: ``train_accuracy_difference`` per rule, the slice's final training-accuracy difference to the
    reference, and ``reference_gap_accuracy`` = [lowest, highest] accuracy gap of the slice's reference runs).

    Columns per rule: ``{rule}_train`` (mean training-set accuracy over seeds), ``{rule}_diff`` (minus the
    reference's), ``{rule}_deviation`` (|diff − the slice's diff|); ``max_deviation``; ``regime_ok`` (a: every
    rule's deviation ≤ ``tolerance``); ``reference_drop`` (the largest fall of a reference run's validation accuracy
    from its best so far) and ``reference_gap`` (its mean accuracy gap); ``not_memorising`` (b: the drop ≤
    ``drop_tolerance`` and the gap within the slice's range widened by ``drop_tolerance``); ``qualifies`` (a and b);
    ``cost`` (budget × N^cost_exponent)."""
    missing = sorted(set(B_RUN_COLUMNS) - set(runs.columns))
    if missing:
        raise ValueError(f"run table lacks columns {missing}")
    want = dict(target.get("train_accuracy_difference") or {})
    lo_gap, hi_gap = (target.get("reference_gap_accuracy") or [float("nan"), float("nan")])
    others = [r for r in rules if r != reference]
    unknown = [r for r in others if want.get(r) is None]
    if unknown:
        raise ValueError(f"calibration_b.target.train_accuracy_difference has no value for {unknown}")
    rows = []
    for key, group in runs.groupby(B_SETTING_KEYS, sort=True):
        row = dict(zip(B_SETTING_KEYS, key, strict=True))
        ref = group[group["rule"] == reference]
        ref_mean = float(ref["train_accuracy"].mean()) if len(ref) else float("nan")
        row[f"{reference}_train"] = ref_mean
        row["n_seeds"] = int(min([len(ref)] + [int((group["rule"] == r).sum()) for r in others]))
        devs = []
        for r in others:
            g = group[group["rule"] == r]
            m = float(g["train_accuracy"].mean()) if len(g) else float("nan")
            row[f"{r}_train"] = m
            row[f"{r}_diff"] = m - ref_mean
            row[f"{r}_deviation"] = abs(m - ref_mean - float(want[r]))
            devs.append(row[f"{r}_deviation"])
        row["max_deviation"] = float(np.max(devs)) if devs and np.isfinite(devs).all() else float("nan")
        row["regime_ok"] = bool(np.isfinite(row["max_deviation"]) and row["max_deviation"] <= tolerance)
        row["reference_drop"] = float(ref["validation_drop"].max()) if len(ref) else float("nan")
        row["reference_gap"] = float(ref["gap_accuracy"].mean()) if len(ref) else float("nan")
        gap_ok = bool(lo_gap - drop_tolerance <= row["reference_gap"] <= hi_gap + drop_tolerance)
        row["not_memorising"] = bool(row["reference_drop"] <= drop_tolerance and gap_ok)
        row["qualifies"] = bool(row["n_seeds"] > 0 and row["regime_ok"] and row["not_memorising"])
        row["cost"] = float(row["budget"]) * float(row["n_hidden"]) ** float(cost_exponent)
        rows.append(row)
    return pd.DataFrame(rows)


def b_choice(settings: pd.DataFrame) -> dict:
    """The study-B calibration's pick: the cheapest qualifying setting (ties: the larger training set, then the
    smaller deviation); when none qualifies, the closest one (the smallest ``max_deviation`` among the settings that
    do not memorise, else among all), with ``qualifies`` false so that the miss is reported with its size."""
    if settings.empty:
        raise ValueError("the calibration has no settings")
    ok = settings[settings["qualifies"].astype(bool)]
    if not ok.empty:
        best = ok.assign(_n=-ok["n_train"]).sort_values(["cost", "_n", "max_deviation"]).iloc[0]
    else:
        pool = settings[settings["not_memorising"].astype(bool)]
        pool = pool if not pool.empty else settings
        best = pool.sort_values(["max_deviation", "cost"]).iloc[0]
    return {"n_hidden": int(best["n_hidden"]), "n_train": int(best["n_train"]), "budget": int(best["budget"]),
            "qualifies": bool(best["qualifies"]), "max_deviation": float(best["max_deviation"]),
            "reference_drop": float(best["reference_drop"]), "reference_gap": float(best["reference_gap"]),
            "cost": float(best["cost"])}
