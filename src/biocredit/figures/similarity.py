"""Study A figures: distance to the recordings against task accuracy."""

from __future__ import annotations

import numpy as np
import xarray as xr

from biocredit.figures.style import RULE_COLORS, RULE_LABELS, setup
from biocredit.stats import mean_ci_over_runs

__all__ = ["distance_vs_accuracy"]


def distance_vs_accuracy(
    summary: xr.Dataset,
    matched: xr.Dataset,
    baselines: xr.Dataset,
    arch: str,
    title: str,
    value: str = "procrustes",
    ylabel: str = "Procrustes distance to recordings (0 = identical)",
    xlabel: str = "task accuracy (1 − normalised error)",
):
    """Figure A2: each run's trajectory over checkpoints (thin), mean and 95% CI over seeds at matched accuracy
    (thick, shaded), the untrained network (open circle), and the data's reference lines."""
    import matplotlib.pyplot as plt

    setup()
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    for rule in summary.rule.values:
        color = RULE_COLORS.get(str(rule), None)
        label = RULE_LABELS.get(str(rule), str(rule))
        runs = summary.sel(rule=rule, arch=arch)
        for seed in runs.seed.values:
            r = runs.sel(seed=seed)
            ax.plot(r["accuracy"], r[value], color=color, alpha=0.25, lw=0.8)
            ax.plot(r["accuracy"][0], r[value][0], "o", mfc="white", mec=color, ms=6)
        curves = matched[value].sel(rule=rule, arch=arch).values
        if curves.size and matched.accuracy.size:
            mean, lo, hi = mean_ci_over_runs(curves)
            ax.plot(matched.accuracy, mean, color=color, lw=2.2, label=f"{label} (mean, n={curves.shape[0]})")
            ax.fill_between(matched.accuracy, lo, hi, color=color, alpha=0.2, lw=0)
    ax.plot([], [], "o", mfc="white", mec="grey", ls="none", label="untrained")
    ax.axhline(float(baselines["cross_condition"]), color="grey", ls="--", lw=1.2, label="cross-condition average")
    split = baselines["split_half"].values
    ax.axhline(float(np.mean(split)), color="tab:blue", ls=":", lw=1.5, label="data split-half")
    lo, hi = float(np.mean(split) - np.std(split)), float(np.mean(split) + np.std(split))
    ax.axhspan(lo, hi, color="tab:blue", alpha=0.1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.set_xlim(min(0.0, float(summary["accuracy"].min())), 1.0)
    ax.set_ylim(0, 1)
    ax.legend(frameon=False, fontsize=8, loc="best")
    sns_despine(ax)
    return fig


def sns_despine(ax) -> None:
    import seaborn as sns

    sns.despine(ax=ax)
