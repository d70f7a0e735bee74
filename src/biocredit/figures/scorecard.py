"""The rule scorecard figure: rules as rows, one panel per metric, each rule's mean over seeds with its CI."""

from __future__ import annotations

import math

import numpy as np

from biocredit.figures.style import rule_color, setup
from biocredit.runs import RULE_LABELS, rule_label


def _label(rule: str) -> str:
    return rule_label(rule) if "-" in rule else RULE_LABELS.get(rule, rule)


def _base(rule: str) -> str:
    return rule.split("-")[0]


def scorecard_figure(rows: list[dict], metrics, title: str = ""):
    """One panel per metric (x: the metric, labelled), the rules as rows (y, top to bottom in the order of
    ``rows``): a dot at the mean over seeds, a bar over its CI, "n/a" where the rule has no value."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    setup()
    n_rules, n_metrics = len(rows), len(metrics)
    n_cols = min(n_metrics, 4)
    n_rows = -(-n_metrics // n_cols)
    fig, grid = plt.subplots(n_rows, n_cols, figsize=(2.6 * n_cols + 1.2, (0.4 * n_rules + 1.3) * n_rows),
                             sharey=True, squeeze=False)
    axes = grid.ravel()
    for ax in axes[n_metrics:]:
        ax.remove()
    y = np.arange(n_rules)[::-1]
    for ax, m in zip(axes, metrics, strict=False):
        for yi, row in zip(y, rows, strict=True):
            mean, lo, hi = row[m.key], row[f"{m.key}_lo"], row[f"{m.key}_hi"]
            color = rule_color(_base(row["rule"]))
            if not math.isfinite(mean):
                ax.text(0.5, yi, "n/a", transform=ax.get_yaxis_transform(), ha="center", va="center",
                        color="0.6", fontsize=8)
                continue
            if math.isfinite(lo) and math.isfinite(hi):
                ax.plot([lo, hi], [yi, yi], color=color, lw=2, solid_capstyle="butt")
            ax.plot([mean], [yi], "o", color=color, ms=5)
        ax.set_xlabel(m.label, fontsize=9)
        ax.tick_params(axis="x", labelsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
        ax.grid(axis="y", color="0.92")
        ax.set_ylim(-0.6, n_rules - 0.4)
    axes[0].set_yticks(y, [_label(r["rule"]) for r in rows])
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
