"""Figure A5: dynamics of networks trained by different rules, compared at matched accuracy."""

from __future__ import annotations

import numpy as np
import xarray as xr

from biocredit.figures.style import RULE_LABELS, rule_color, setup, stripplot
from biocredit.stats import mean_ci_over_runs

__all__ = ["dynamics_at_matched_accuracy"]


def dynamics_at_matched_accuracy(
    summary: xr.Dataset,
    pr_matched: xr.Dataset,
    spectra: dict[tuple[str, int], np.ndarray],
    pairs: list[dict],
    arch: str,
    level_accuracy: float,
    title: str,
):
    """Four panels: participation ratio vs accuracy (runs thin, mean ± 95% CI at matched accuracy thick);
    eigenvalues of W_rec at the matched level (complex plane, unit circle); DSA distances (``distance``) and the
    cheaper eigenvalue-matching distances of linear fits (``spectral_distance``, when the pairs have it) between
    pairs of networks, within a rule and between rules."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    setup()
    fig, axes = plt.subplots(1, 4, figsize=(19, 4.3))
    ax = axes[0]
    for rule in summary.rule.values:
        r = str(rule)
        runs = summary.sel(rule=rule, arch=arch)
        for seed in runs.seed.values:
            run = runs.sel(seed=seed)
            ax.plot(run["accuracy"], run["participation_ratio"], color=rule_color(r), alpha=0.25, lw=0.8)
        curves = pr_matched["participation_ratio"].sel(rule=rule, arch=arch).values
        if pr_matched.accuracy.size:
            mean, lo, hi = mean_ci_over_runs(curves)
            ax.plot(pr_matched.accuracy, mean, color=rule_color(r), lw=2.2, label=RULE_LABELS.get(r, r))
            ax.fill_between(pr_matched.accuracy, lo, hi, color=rule_color(r), alpha=0.2, lw=0)
    if np.isfinite(level_accuracy):
        ax.axvline(level_accuracy, color="grey", ls=":", lw=1, label="matched level")
    ax.set_xlabel("task accuracy")
    ax.set_ylabel("participation ratio (dimensions)")
    ax.set_title("dimensionality over training")
    ax.legend(frameon=False, fontsize=8)

    ax = axes[1]
    theta = np.linspace(0, 2 * np.pi, 200)
    ax.plot(np.cos(theta), np.sin(theta), color="grey", lw=0.8)
    seen = set()
    for (rule, _seed), eig in spectra.items():
        label = RULE_LABELS.get(rule, rule) if rule not in seen else None
        seen.add(rule)
        ax.scatter(eig.real, eig.imag, s=6, color=rule_color(rule), alpha=0.5, label=label)
    ax.set_xlabel("Re λ(W_rec)")
    ax.set_ylabel("Im λ(W_rec)")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title("recurrent eigenvalues at the matched level")
    ax.legend(frameon=False, fontsize=8, markerscale=3)

    panels = [("distance", "DSA distance (angular; 0 = conjugate dynamics)", "dynamical similarity (DSA)"),
              ("spectral_distance", "eigenvalue-matching distance (0 = same spectrum)", "linear-fit spectra")]
    for ax, (column, ylabel, title_) in zip(axes[2:], panels, strict=True):
        if pairs and column in pairs[0]:
            import pandas as pd

            df = pd.DataFrame(pairs)
            stripplot(df, x="kind", y=column, order=["within", "between"], color="k", size=5, ax=ax)
            sns.barplot(df, x="kind", y=column, order=["within", "between"], color="lightgrey", errorbar=None,
                        ax=ax)
        ax.set_xlabel("pairs of networks (same rule / different rules)")
        ax.set_ylabel(ylabel)
        ax.set_title(title_)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
