"""Study A figures: distance to the recordings against task accuracy."""

from __future__ import annotations

import numpy as np
import xarray as xr

from biocredit.figures.style import RULE_LABELS, rule_color, setup, stripplot
from biocredit.stats import mean_ci_over_runs

__all__ = ["distance_vs_accuracy", "distance_at_levels", "level_annotation", "normalized_bars", "distance_across_archs"]


def distance_vs_accuracy(
    summary: xr.Dataset,
    matched: xr.Dataset,
    baselines: xr.Dataset | None,
    arch: str,
    title: str,
    value: str = "procrustes",
    ylabel: str = "Procrustes distance to recordings (0 = identical)",
    xlabel: str = "task accuracy (1 − normalised error)",
    ax=None,
):
    """Figure A2: each run's trajectory over checkpoints (thin), mean and 95% CI over seeds at matched accuracy
    (thick, shaded), the untrained network (open circle), and the data's reference lines (when given)."""
    import matplotlib.pyplot as plt

    setup()
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.5, 4.2))
    else:
        fig = ax.figure
    for rule in summary.rule.values:
        color = rule_color(str(rule))
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
    if baselines is not None:
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


def level_annotation(test: dict, margin: float | None = None) -> str:
    """The text over one level of figure A3: the difference of rule means with its CI (and the CI's level when it is
    not 95%, e.g. Bonferroni-adjusted), the permutation p, the runs per rule at the level (the difference's first
    rule first), and (given the margin) the level's verdict against ±margin."""
    lo, hi = test["ci"]
    p = test["p"]
    ci_level = test.get("ci_level", 0.95)
    ci_name = "CI" if abs(ci_level - 0.95) < 1e-12 else f"{100 * ci_level:.3g}% CI"
    lines = [f"Δ={test['mean_diff']:+.4f}", f"{ci_name} [{lo:+.4f}, {hi:+.4f}]",
             f"p{'<0.001' if p < 0.001 else f'={p:.3f}'}, n={test['n_a']}/{test['n_b']}"]
    if margin is not None:
        verdict = test.get("verdict", "holds" if test.get("equivalent") else "fails")
        lines.append(f"±{margin:g}: {verdict}")
    return "\n".join(lines)


def distance_at_levels(at_levels: xr.Dataset, tests: list[dict], arch: str, title: str, value: str = "procrustes",
                       ylabel: str = "Procrustes distance to recordings", margin: float | None = None):
    """Figure A3: distance when each run first reaches matched accuracy levels; seeds as points, rule means as
    bars, and over each level its test of the rule difference (:func:`level_annotation`: difference of means,
    95% CI, permutation p, runs per rule, and whether the CI lies within ±``margin``)."""
    import matplotlib.pyplot as plt
    import pandas as pd
    import seaborn as sns

    setup()
    df = at_levels[value].sel(arch=arch).to_dataframe().reset_index().dropna(subset=[value])
    df["rule"] = df["rule"].map(lambda r: RULE_LABELS.get(r, r))
    acc = at_levels["accuracy"].values
    df["level"] = df["level"].map(lambda f: f"{f:g} of range\n(acc {acc[list(at_levels.level.values).index(f)]:.2f})")
    order = [f"{f:g} of range\n(acc {a:.2f})" for f, a in zip(at_levels.level.values, acc, strict=True)]
    palette = {RULE_LABELS.get(r, r): rule_color(str(r)) for r in at_levels.rule.values}
    fig, ax = plt.subplots(figsize=(6, 4.2))
    if len(df):
        sns.barplot(df, x="level", y=value, hue="rule", order=order, palette=palette, alpha=0.35, errorbar=None,
                    ax=ax)
        stripplot(df, x="level", y=value, hue="rule", order=order, palette=palette, dodge=True, size=6,
                  ax=ax, legend=False)
    top = float(np.nanmax(df[value])) if len(df) else 1.0
    for k, t in enumerate(tests):
        if t.get("mean_diff") is None or not np.isfinite(t.get("mean_diff", np.nan)):
            continue
        ax.text(k, top * 1.04, level_annotation(t, margin), ha="center", va="bottom", fontsize=7)
    ax.set_ylim(0, max(1.0, top * 1.3))
    ax.set_xlabel("matched accuracy level")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=8, title=None, loc="lower right")
    sns_despine(ax)
    _ = pd  # pandas is seaborn's input format here
    return fig


def normalized_bars(summary: xr.Dataset, title: str):
    """Figure A7: per rule, the normalised-with-data distance at each run's best checkpoint (points: runs, mean
    over unit splits; error bars: s.d. over splits), with the normalised cross-condition baseline (dashed) and 0,
    the data's own split-half distance (dotted)."""
    import matplotlib.pyplot as plt

    setup()
    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    rules = [str(r) for r in summary.rule.values]
    for k, rule in enumerate(rules):
        runs = summary.sel(rule=rule)
        vals = runs["normalized"]
        mean = vals.mean("iteration").values
        sd = vals.std("iteration").values
        ok = np.isfinite(mean)
        x = k + np.linspace(-0.15, 0.15, max(len(mean), 1))[: len(mean)]
        ax.errorbar(x[ok], mean[ok], yerr=sd[ok], fmt="o", color=rule_color(rule), capsize=3, label=None)
        ax.bar(k, np.nanmean(mean), color=rule_color(rule), alpha=0.3, width=0.6,
               label=RULE_LABELS.get(rule, rule))
    ax.axhline(float(summary["baseline"].mean()), color="grey", ls="--", label="cross-condition average")
    ax.axhline(0.0, color="tab:blue", ls=":", label="data split-half (noise ceiling)")
    ax.set_xticks(range(len(rules)), [RULE_LABELS.get(r, r) for r in rules])
    ax.set_ylabel("normalised distance, (d − d_split)/(1 − d_split)")
    ax.set_title(title, fontsize=10)
    ax.legend(frameon=False, fontsize=8)
    sns_despine(ax)
    return fig


def distance_across_archs(df, shares: dict[str, float], level_accuracy: float, title: str, note: str = ""):
    """Figure A4: distance at the matched level per architecture row (x) and rule (colour), seeds as points;
    right: share of variance explained by each factor. ``note`` (e.g. which rows a rule's seeds did not all
    reach the level in) is printed under the panels."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    setup()
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [3, 1]})
    if len(df):
        d = df.assign(rule=df["rule"].map(lambda r: RULE_LABELS.get(r, r)))
        palette = {RULE_LABELS.get(r, r): rule_color(r) for r in df["rule"].unique()}
        sns.pointplot(d, x="arch", y="procrustes", hue="rule", palette=palette, dodge=0.3, errorbar=("ci", 95),
                      linestyle="none", markers="D", ax=ax, seed=0)
        stripplot(d, x="arch", y="procrustes", hue="rule", palette=palette, dodge=True, alpha=0.5, size=4,
                  ax=ax, legend=False)
    ax.set_xlabel("architecture / initialisation (rows of the arch table)")
    ax.set_ylabel(f"Procrustes distance at accuracy {level_accuracy:.2f}")
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=8)
    names = [k for k in shares if k != "residual"] + (["residual"] if "residual" in shares else [])
    bx.bar(range(len(names)), [shares[k] for k in names], color=["0.3"] * (len(names) - 1) + ["0.8"])
    bx.set_xticks(range(len(names)), names, rotation=30)
    bx.set_ylabel("share of variance")
    bx.set_ylim(0, 1)
    bx.set_title("variance explained")
    sns_despine(ax)
    sns_despine(bx)
    fig.tight_layout()
    if note:
        fig.text(0.01, 0.005, note, fontsize=7, color="0.3", ha="left", va="bottom", wrap=True)
        fig.subplots_adjust(bottom=0.27)
    return fig


def distance_vs_accuracy_by_metric(summary_ds: xr.Dataset, curves: dict[str, xr.Dataset], labels: dict[str, str],
                                   arch: str, title: str):
    """Figure A6: :func:`distance_vs_accuracy` once per metric (``curves[metric]``: its matched curves, ``labels``:
    its axis label), side by side."""
    import matplotlib.pyplot as plt

    setup()
    fig, axes = plt.subplots(1, len(labels), figsize=(15, 4.2))
    for ax, metric in zip(axes, labels, strict=True):
        distance_vs_accuracy(summary_ds, curves[metric], None, arch=arch, title=metric.upper() if metric != "procrustes"
                             else "Procrustes", value=metric, ylabel=labels[metric], ax=ax)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
