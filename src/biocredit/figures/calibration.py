"""The calibration figure (``snakemake calibration``): every run's final and best accuracy per setting and budget,
from :mod:`biocredit.calibration`'s tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from biocredit.figures.style import rule_color, setup
from biocredit.runs import RULE_LABELS

__all__ = ["calibration_figure"]


def _setting_label(n_hidden, lr) -> str:
    return f"N={int(n_hidden)}\nlr={float(lr):g}"


def calibration_figure(runs: pd.DataFrame, settings: pd.DataFrame, rules, threshold: float, criterion: str,
                       choice: dict | None, title: str):
    """Final and best accuracy of every run (dots) and the seed mean (bar) per setting, one column per budget; a
    tick marks the settings where every run's ``criterion`` accuracy reaches the threshold."""
    import matplotlib.pyplot as plt


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
