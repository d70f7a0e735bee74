"""Calibration of study A's training scale: which network size, learning rate and update budget let every seed of
every rule reach a given task accuracy.

The ``calibration`` workflow target trains each (N, lr, rule, seed) of a small grid once, for the largest budget,
and reads shorter budgets off the same run's checkpoint log (the accuracy on the run's fixed test batch). Per run
and budget it keeps the *final* accuracy (at the budget) and the *best* one (the maximum over checkpoints up to the
budget). Per setting (N, lr, budget) it asks whether every seed of every rule reaches the threshold, and the
cheapest setting that does is proposed as the default. Pure functions here; files in :func:`write_calibration`.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

__all__ = [
    "calibration_checkpoints",
    "budget_outcomes",
    "run_rows",
    "settings_table",
    "cheapest_setting",
    "calibration_figure",
    "write_calibration",
]

CRITERIA = ("best", "final")
RUN_COLUMNS = ["n_hidden", "lr", "rule", "seed", "budget", "final", "best", "diverged_at"]
SETTING_KEYS = ["n_hidden", "lr", "budget"]


def calibration_checkpoints(n_updates: int, budgets) -> list[int]:
    """The authors' checkpoint schedule for ``n_updates`` plus every budget, so that each budget is read exactly."""
    from biocredit.train import checkpoint_schedule

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


def _setting_label(n_hidden, lr) -> str:
    return f"N={int(n_hidden)}\nlr={float(lr):g}"


def calibration_figure(runs: pd.DataFrame, settings: pd.DataFrame, rules, threshold: float, criterion: str,
                       choice: dict | None, title: str):
    """Final and best accuracy of every run (dots) and the seed mean (bar) per setting, one column per budget; a
    tick marks the settings where every run's ``criterion`` accuracy reaches the threshold."""
    import matplotlib.pyplot as plt

    from biocredit.figures.style import RULE_LABELS, rule_color, setup

    setup()
    table = settings
    budgets = sorted(runs["budget"].unique())
    settings = sorted({(int(n), float(lr)) for n, lr in zip(runs["n_hidden"], runs["lr"], strict=True)})
    fig, axes = plt.subplots(2, len(budgets), figsize=(3.2 * len(budgets) + 1, 6.4), sharey=True, squeeze=False)
    width = 0.8 / max(len(rules), 1)
    finite = runs[["final", "best"]].to_numpy(dtype=float)
    finite = finite[np.isfinite(finite)]
    low = min(0.0, float(finite.min())) if finite.size else 0.0
    for r, kind in enumerate(("final", "best")):
        for c, budget in enumerate(budgets):
            ax = axes[r, c]
            at = runs[runs["budget"] == budget]
            for k, rule in enumerate(rules):
                for i, (n, lr) in enumerate(settings):
                    vals = at[(at["rule"] == rule) & (at["n_hidden"] == n) & np.isclose(at["lr"], lr)][kind]
                    vals = vals.to_numpy(dtype=float)
                    x = i - 0.4 + width * (k + 0.5)
                    shown = np.where(np.isfinite(vals), vals, low)  # diverged runs sit on the floor
                    ax.bar(x, np.nanmean(vals) if np.isfinite(vals).any() else low, width * 0.9, color=rule_color(rule),
                           alpha=0.25, label=RULE_LABELS.get(rule, rule) if (i == 0 and r == 0 and c == 0) else None)
                    jitter = np.linspace(-width * 0.25, width * 0.25, len(vals)) if len(vals) > 1 else [0.0]
                    ax.scatter(x + np.asarray(jitter), shown, s=12, color=rule_color(rule), zorder=3)
            ax.axhline(threshold, color="0.4", ls="--", lw=1,
                       label=f"threshold {threshold:g}" if (r == 0 and c == 0) else None)
            if kind == criterion:
                for i, (n, lr) in enumerate(settings):
                    hit = table[(table["n_hidden"] == n) & np.isclose(table["lr"], lr) & (table["budget"] == budget)]
                    if len(hit) and bool(hit["all_reach"].iloc[0]):
                        ax.annotate("all ✓", (i, 1.0), xycoords=("data", "axes fraction"), ha="center",
                                    va="bottom", fontsize=8)
            if choice and int(choice["budget"]) == int(budget):
                i = settings.index((int(choice["n_hidden"]), float(choice["lr"])))
                ax.axvspan(i - 0.45, i + 0.45, color="gold", alpha=0.2, zorder=0,
                           label="cheapest setting reaching it" if r == 0 else None)
            ax.set_xticks(range(len(settings)), [_setting_label(n, lr) for n, lr in settings], fontsize=8)
            ax.set_title(f"{budget} updates" if r == 0 else "")
            if c == 0:
                ax.set_ylabel(f"{kind} 1 − NE (test trials)")
    n = runs.groupby(["n_hidden", "lr", "rule", "budget"]).size()
    n_text = f"n = {int(n.min())}" + (f"–{int(n.max())}" if n.max() != n.min() else "") + " seeds per rule and setting"
    verdict = ("no setting reaches it" if choice is None else
               f"cheapest: N={choice['n_hidden']}, lr={choice['lr']:g}, {choice['budget']} updates")
    fig.suptitle(f"{title}\n{n_text} (dots: seeds, bars: mean); {verdict}", fontsize=10)
    handles, labels = [], []
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False, bbox_to_anchor=(0.5, -0.04))
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


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
    import xarray as xr

    from biocredit.figures.style import save
    from biocredit.io import atomic_path, write_json

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
