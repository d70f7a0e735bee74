"""The calibration figure (``snakemake calibration``): every run's final and best accuracy per setting and budget,
from :mod:`biocredit.calibration`'s tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from biocredit.figures.style import rule_color, setup
from biocredit.runs import RULE_LABELS

__all__ = ["calibration_figure", "calibration_b_figure"]


def _setting_label(n_hidden, lr) -> str:
    return f"N={int(n_hidden)}\nlr={float(lr):g}"


def calibration_figure(runs: pd.DataFrame, settings: pd.DataFrame, rules, threshold: float, read_at: str,
                       choice: dict | None, title: str):
    """Final and best accuracy of every run (dots) and the seed mean (bar) per setting, one column per budget; a
    tick marks the settings where every run's ``read_at`` accuracy reaches the threshold."""
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
            if kind == read_at:
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


def calibration_b_figure(settings: pd.DataFrame, rules, reference: str, target: dict, tolerance: float,
                         drop_tolerance: float, choice: dict, title: str):
    """Study B's calibration: per non-reference rule, the mean final training-accuracy difference to the reference
    against the budget, one line per (N, n_train), with the paper-scale slice's difference ± ``tolerance`` as a
    band (condition a); last panel: the reference's largest validation-accuracy drop and mean accuracy gap
    (condition b, memorisation). The chosen setting is circled."""
    import matplotlib.pyplot as plt

    setup()
    others = [r for r in rules if r != reference]
    fig, axes = plt.subplots(1, len(others) + 1, figsize=(3.6 * (len(others) + 1), 3.9), squeeze=False)
    axes = axes[0]
    combos = sorted({(int(n), int(m)) for n, m in zip(settings["n_hidden"], settings["n_train"], strict=True)})
    styles = ["-", "--", ":", "-."]
    sizes = sorted({n for n, _ in combos})
    trains = sorted({m for _, m in combos})
    palette = plt.get_cmap("viridis")

    def style(n, m):
        return {"color": palette(sizes.index(n) / max(len(sizes) - 1, 1) * 0.85),
                "ls": styles[trains.index(m) % len(styles)], "marker": "o", "ms": 3, "lw": 1.4}

    chosen = (settings["n_hidden"] == choice["n_hidden"]) & (settings["n_train"] == choice["n_train"]) & \
        (settings["budget"] == choice["budget"])
    for ax, r in zip(axes, others, strict=False):
        want = float(target["train_accuracy_difference"][r])
        ax.axhspan(want - tolerance, want + tolerance, color=rule_color(r), alpha=0.15, lw=0)
        ax.axhline(want, color=rule_color(r), lw=1, label=f"slice {want:+.3f} ± {tolerance:g}")
        for n, m in combos:
            sel = settings[(settings["n_hidden"] == n) & (settings["n_train"] == m)].sort_values("budget")
            ax.plot(sel["budget"], sel[f"{r}_diff"], label=f"N={n}, {m // 1000}k train", **style(n, m))
        c = settings[chosen]
        ax.scatter(c["budget"], c[f"{r}_diff"], s=140, facecolors="none", edgecolors="black", zorder=5)
        ax.set_title(f"{RULE_LABELS.get(r, r)} − {RULE_LABELS.get(reference, reference)}", fontsize=9)
        ax.set_xlabel(f"budget ({RULE_LABELS.get(reference, reference)} updates; three-factor ×1.6)")
        ax.set_ylabel("final training-accuracy difference")
    axes[0].legend(frameon=False, fontsize=6)
    ax = axes[-1]
    for n, m in combos:
        sel = settings[(settings["n_hidden"] == n) & (settings["n_train"] == m)].sort_values("budget")
        ax.plot(sel["budget"], sel["reference_drop"], **style(n, m))
        ax.plot(sel["budget"], sel["reference_gap"], **(style(n, m) | {"marker": "s", "alpha": 0.5}))
    lo, hi = target.get("reference_gap_accuracy") or [np.nan, np.nan]
    ax.axhspan(lo - drop_tolerance, hi + drop_tolerance, color="grey", alpha=0.15, lw=0,
               label="slice's gap range ± tolerance")
    ax.axhline(drop_tolerance, color="black", ls="--", lw=1, label=f"drop tolerance {drop_tolerance:g}")
    ax.set_title(f"{RULE_LABELS.get(reference, reference)}: validation drop (o), accuracy gap (s)", fontsize=9)
    ax.set_xlabel("budget (updates)")
    ax.set_ylabel("accuracy (fraction)")
    ax.legend(frameon=False, fontsize=6)
    verdict = "qualifies" if choice["qualifies"] else f"closest (misses by {choice['max_deviation']:.3f})"
    fig.suptitle(f"{title}\nchosen: N={choice['n_hidden']}, {choice['n_train']} training images, budget "
                 f"{choice['budget']} ({verdict})", fontsize=9)
    fig.tight_layout()
    return fig
