"""Study B figures (B1–B7), drawn from a task's ``summary.nc`` (:func:`biocredit.generalization.summarize_runs`)
and the figure's claim row only.

Every figure takes the summary, the rules to show (run names; the first is the reference, BPTT) and the task, and
returns a matplotlib Figure. Curves are means over seeds with ± SEM bands; per-run values are points.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from biocredit.figures.style import rule_color, setup
from biocredit.runs import parse_variant, rule_label
from biocredit.stats import correlation, mean_sem

__all__ = [
    "training_curves",
    "gap_by_rule",
    "curvature_by_rule",
    "gap_vs_curvature",
    "curvature_vs_lr",
    "remedies",
    "diagnostics",
]

_CLASSIFICATION = {"smnist", "sdigits", "decision"}


def _label(rule: str) -> str:
    return rule_label(rule)


def _color(rule: str) -> str:
    return rule_color(parse_variant(rule)["rule"])


def _loss_label(task: str) -> str:
    return "cross-entropy loss (nats)" if task in _CLASSIFICATION else "mean squared error (output units²)"


def _acc_label(task: str) -> str:
    return "accuracy (fraction correct)" if task in _CLASSIFICATION else "accuracy (1 − normalised error)"


def _runs(ds: xr.Dataset, rule: str, main_only: bool = True, matched: bool | None = None) -> xr.Dataset:
    """Runs of ``rule`` (main grid only by default); ``matched`` True/False keeps the runs that did / did not reach
    the matched point (summary variable ``matched``; every run counts as matched in summaries without it)."""
    sel = ds["rule"].values == rule
    if main_only:
        sel &= ds["main"].values == 1
    if matched is not None:
        m = ds["matched"].values == 1 if "matched" in ds else np.ones(ds.sizes["run"], dtype=bool)
        sel &= m if matched else ~m
    return ds.isel(run=np.flatnonzero(sel))


def _matched_mask(ds: xr.Dataset) -> np.ndarray:
    return ds["matched"].values == 1 if "matched" in ds else np.ones(ds.sizes["run"], dtype=bool)


def _where(ds: xr.Dataset) -> str:
    """Where the per-run values are read: the matched point when the runs were trained to a criterion."""
    c = ds.attrs.get("criterion", "")
    return f"at the matched point ({c})" if c else "end of training"


def _curve_runs(ax, x: np.ndarray, values: np.ndarray, color: str, label: str | None) -> None:
    """Mean ± SEM when every run shares its x (checkpoints); otherwise (runs stopped at different updates) one thin
    line per run, each ending at its own last point."""
    x = np.atleast_2d(x)
    same = all(np.array_equal(row[np.isfinite(row)], x[0][np.isfinite(x[0])]) for row in x)
    if same:
        _curve(ax, x[0], values, color, label)
        return
    for i, (xi, yi) in enumerate(zip(x, values, strict=True)):
        ok = np.isfinite(xi) & np.isfinite(yi)
        ax.plot(xi[ok], yi[ok], color=color, lw=0.9, alpha=0.7, marker=".", ms=3, label=label if i == 0 else None)


def _curve(ax, x: np.ndarray, values: np.ndarray, color: str, label: str | None, ls: str = "-") -> None:
    mean, sem = mean_sem(values, axis=0)
    ok = np.isfinite(x) & np.isfinite(mean)
    ax.plot(x[ok], mean[ok], color=color, ls=ls, lw=1.8, label=label)
    band = ok & np.isfinite(sem)
    ax.fill_between(x[band], (mean - sem)[band], (mean + sem)[band], color=color, alpha=0.18, lw=0)


def _main_runs(ds: xr.Dataset) -> xr.Dataset:
    return ds.isel(run=np.flatnonzero(ds["main"].values == 1))


def _x(runs: xr.Dataset, var: str = "update") -> np.ndarray:
    return runs[var].values[0] if runs.sizes["run"] else np.empty(0)


def _despine(fig) -> None:
    import seaborn as sns

    for ax in fig.axes:
        sns.despine(ax=ax)


def _p(p) -> str:
    return "n/a" if p is None or not np.isfinite(p) else (f"{p:.2g}" if p >= 1e-3 else f"{p:.1e}")


def _num(v) -> str:
    return "n/a" if v is None or not np.isfinite(v) else f"{v:.3g}"


def _strip(ax, ds: xr.Dataset, rules: list[str], var: str, log: bool = False, matched_only: bool = False) -> None:
    """Per-rule points (seeds) with the mean ± SEM as a bar. With ``matched_only`` the bar is over the runs at the
    matched point; runs that never reached it are drawn hollow (flagged, not in the bar) and ``n`` is written."""
    rng = np.random.default_rng(0)
    labels = []
    for i, rule in enumerate(rules):
        r = _runs(ds, rule, matched=True if matched_only else None)
        labels.append(f"{_label(rule)}\n(n={r.sizes['run']}/{_runs(ds, rule).sizes['run']})" if matched_only
                      else _label(rule))
        if matched_only:
            u = _runs(ds, rule, matched=False)[var].values
            u = u[np.isfinite(u) & ((u > 0) if log else True)]
            if u.size:
                ax.scatter(i + rng.uniform(-0.12, 0.12, u.size), u, facecolors="none", edgecolors=_color(rule),
                           s=22, alpha=0.8, zorder=3)
        v = r[var].values
        v = v[np.isfinite(v)]
        if log:
            v = v[v > 0]
        if not v.size:
            continue
        ax.scatter(i + rng.uniform(-0.12, 0.12, v.size), v, color=_color(rule), s=22, alpha=0.8, zorder=3)
        mean, sem = mean_sem(v)
        ax.errorbar(i + 0.28, mean, yerr=0 if not np.isfinite(sem) else sem, fmt="_", color="black", ms=14,
                    capsize=3, zorder=4)
    ax.set_xticks(range(len(rules)), labels, rotation=30, ha="right")
    ax.set_xlim(-0.6, len(rules) - 0.3)
    if log:
        ax.set_yscale("log")


def training_curves(ds: xr.Dataset, rules: list[str], task: str, claim: dict):
    """B1: accuracy and loss on the training set (solid) and the test set (dashed) over training, per rule."""
    import matplotlib.pyplot as plt

    setup()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for rule in rules:
        r = _runs(ds, rule)
        if not r.sizes["run"]:
            continue
        x = _x(r)
        for ax, var in zip(axes, ("accuracy", "loss"), strict=True):
            _curve(ax, x, r[f"train_set_{var}"].values, _color(rule), f"{_label(rule)} (n={r.sizes['run']})")
            _curve(ax, x, r[f"test_{var}"].values, _color(rule), None, ls="--")
    for ax in axes:
        ax.plot([], [], color="grey", ls="-", label="training set")
        ax.plot([], [], color="grey", ls="--", label="test set")
        ax.set_xlabel("update (SGD iterations)")
    crit = ds.attrs.get("criterion", "")
    title = f"B1 {task}: training and test performance (mean ± SEM over the seeds still training)"
    if crit:
        metric, _, level = crit.split()[:3]
        ax = axes[0] if metric.endswith("accuracy") else axes[1]
        ax.axhline(float(level), color="black", ls=":", lw=1, label=f"criterion: {metric} {crit.split()[1]} {level}")
        reach = "; ".join(f"{_label(x['rule'])} {x['n_reached']}/{x['n']}"
                          + (f" (median {x['median_updates']:.0f} upd.)" if x["median_updates"] is not None else "")
                          for x in claim["reached"])
        title += f"\nreached the criterion: {reach}"
    axes[0].set_ylabel(_acc_label(task))
    axes[1].set_ylabel(_loss_label(task))
    axes[1].set_yscale("log")
    axes[0].legend(frameon=False, fontsize=7, loc="lower right")
    fig.suptitle(title, fontsize=10)
    _despine(fig)
    fig.tight_layout()
    return fig


def gap_by_rule(ds: xr.Dataset, rules: list[str], task: str, claim: dict):
    """B2: generalization gap per rule at the end of training, seeds as points; the mean and spread tests."""
    import matplotlib.pyplot as plt

    setup()
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.4))
    unit = _loss_label(task).split(" (")[1].rstrip(")")
    _strip(axes[0], ds, rules, "gap_loss", matched_only=True)
    axes[0].set_ylabel(f"gap: test − training loss ({unit})")
    axes[0].set_title(_where(ds) + ("; hollow: never reached" if ds.attrs.get("criterion") else ""), fontsize=8)
    _strip(axes[1], ds, rules, "gap_accuracy", matched_only=True)
    axes[1].set_ylabel("gap: training − test accuracy")
    axes[1].set_title(_where(ds), fontsize=8)
    _strip(axes[2], ds, rules, "gap_loss_matched")
    m = claim.get("matched_train_loss") or {}
    level = m.get("level")
    axes[2].set_ylabel(f"gap: test − training loss ({unit})")
    axes[2].set_title(f"at matched training loss {level:.3g}; bio − BPTT {_num(m.get('diff'))} (p={_p(m.get('p'))})"
                      if level is not None else "at matched training loss", fontsize=9)
    for ax in axes:
        ax.axhline(0, color="grey", lw=0.8)
    div = {r: k for r, k in (claim.get("n_diverged") or {}).items() if k}
    fig.suptitle(
        f"B2 {task}: bio rules − BPTT mean gap {_num(claim['value'])} (p={_p(claim['p'])}); SD ratio "
        f"{_num(claim['sd_ratio'])} (Brown–Forsythe p={_p(claim['p_spread'])})"
        + (f"; diverged runs (excluded): {div}" if div else ""),
        fontsize=10,
    )
    _despine(fig)
    fig.tight_layout()
    return fig


def curvature_by_rule(ds: xr.Dataset, rules: list[str], task: str, lr: float, claim: dict):
    """B3: top Hessian eigenvalue over training (mean ± SEM) and at the end, per rule, with the 2/η line."""
    import matplotlib.pyplot as plt

    setup()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), gridspec_kw={"width_ratios": [1.4, 1]})
    for rule in rules:
        r = _runs(ds, rule, matched=True)
        if r.sizes["run"]:
            _curve_runs(axes[0], r["hessian_update"].values, r["lambda_max"].values, _color(rule),
                        f"{_label(rule)} (n={r.sizes['run']})")
    _strip(axes[1], ds, rules, "lambda_final", log=True, matched_only=True)
    for ax in axes:
        ax.axhline(2 / lr, color="black", ls="--", lw=1)
    axes[0].plot([], [], color="black", ls="--", label=f"2/η = {2 / lr:.3g}")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("update (SGD iterations)")
    axes[0].set_ylabel("top Hessian eigenvalue λ_max (loss units / weight²)")
    axes[1].set_ylabel("final λ_max (loss units / weight²)")
    axes[1].set_title(_where(ds), fontsize=8)
    axes[0].legend(frameon=False, fontsize=7)
    fig.suptitle(f"B3 {task}: curvature (W_rec block); bio − BPTT final λ_max {_num(claim['value'])} "
                 f"(p={_p(claim['p'])})", fontsize=10)
    _despine(fig)
    fig.tight_layout()
    return fig


def gap_vs_curvature(ds: xr.Dataset, rules: list[str], task: str, claim: dict):
    """B4: generalization gap against the final top eigenvalue over all main-grid runs, with the correlations."""
    import matplotlib.pyplot as plt

    setup()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    main = _main_runs(ds)
    main = main.isel(run=np.flatnonzero(_matched_mask(main)))
    for ax, var, ylabel in ((axes[0], "gap_loss", "gap: test − training loss"),
                            (axes[1], "gap_accuracy", "gap: training − test accuracy")):
        for rule in rules:
            r = _runs(ds, rule, matched=True)
            ax.scatter(r["lambda_final"].values, r[var].values, color=_color(rule), s=24, alpha=0.85,
                       label=f"{_label(rule)} (n={r.sizes['run']})")
            u = _runs(ds, rule, matched=False)
            if u.sizes["run"] and ds.attrs.get("criterion"):
                ax.scatter(u["lambda_final"].values, u[var].values, facecolors="none", edgecolors=_color(rule),
                           s=24, alpha=0.6)
        c = correlation(main["lambda_final"].values, main[var].values)
        lam = main["lambda_final"].values
        cl = correlation(np.log10(np.where(lam > 0, lam, np.nan)), main[var].values)
        ax.set_title(f"Spearman ρ={c['spearman_r']:.2f} (p={_p(c['spearman_p'])}); Pearson r(log λ)="
                     f"{cl['pearson_r']:.2f} (p={_p(cl['pearson_p'])}), n={c['n']}", fontsize=8)
        ax.set_xscale("log")
        ax.set_xlabel("final λ_max (loss units / weight²)")
        ax.set_ylabel(ylabel)
    axes[0].legend(frameon=False, fontsize=7)
    fig.suptitle(f"B4 {task}: generalization gap vs curvature, {_where(ds)}"
                 + ("; hollow: never reached (not in the correlations)" if ds.attrs.get("criterion") else ""),
                 fontsize=10)
    _despine(fig)
    fig.tight_layout()
    return fig


def _swept(ds: xr.Dataset) -> xr.Dataset:
    return ds.isel(run=np.flatnonzero(ds["lr_sweep"].values == 1))


def _by_lr(ax, sweep: xr.Dataset, rule: str, var: str) -> None:
    r = sweep.isel(run=np.flatnonzero(sweep["base_rule"].values == rule))
    if not r.sizes["run"]:
        return
    lr, v = r["lr"].values, r[var].values
    ax.scatter(lr, v, color=_color(rule), s=20, alpha=0.7)
    grid = np.unique(lr)
    med = [np.nanmedian(v[lr == g]) if np.isfinite(v[lr == g]).any() else np.nan for g in grid]
    ax.plot(grid, med, color=_color(rule), lw=1.8, label=f"{_label(rule)} (median)")


def curvature_vs_lr(ds: xr.Dataset, lr_rules: list[str], task: str, claim: dict):
    """B5: final top eigenvalue against the learning rate per rule, with the stability line λ = 2/η."""
    import matplotlib.pyplot as plt

    setup()
    fig, ax = plt.subplots(figsize=(6, 4.5))
    sweep = _swept(ds)
    for rule in lr_rules:
        _by_lr(ax, sweep, rule, "lambda_final")
    lrs = np.unique(sweep["lr"].values)
    if lrs.size:
        x = np.geomspace(lrs.min() / 1.3, lrs.max() * 1.3, 50)
        ax.plot(x, 2 / x, color="black", ls="--", lw=1.2, label="2/η (stability bound of GD)")
        ax.fill_between(x, 2 / x, np.full_like(x, 1e12), color="grey", alpha=0.08, lw=0)
        lam = sweep["lambda_final"].values
        lam = lam[np.isfinite(lam) & (lam > 0)]
        if lam.size:
            ax.set_ylim(min(lam.min(), (2 / x).min()) / 2, max(lam.max(), (2 / x).max()) * 2)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("learning rate η")
    ax.set_ylabel("final λ_max (loss units / weight²)")
    ax.legend(frameon=False, fontsize=7)
    ax.set_title(f"B5 {task}: curvature vs learning rate; claim {'holds' if claim['holds'] else 'does not hold'}",
                 fontsize=10)
    _despine(fig)
    fig.tight_layout()
    return fig


def remedies(ds: xr.Dataset, lr_rules: list[str], terms: list[str], task: str, claim: dict):
    """B6: the gap and the top eigenvalue against the learning rate (top) and against how many gradient terms the
    rule keeps (bottom: e-prop → MDGL → tBPTT windows → BPTT)."""
    import matplotlib.pyplot as plt

    setup()
    fig, axes = plt.subplots(2, 2, figsize=(10, 7.5))
    ds = ds.isel(run=np.flatnonzero(_matched_mask(ds)))  # runs at the matched point only (as the B6 claim)
    sweep = _swept(ds)
    for rule in lr_rules:
        _by_lr(axes[0, 0], sweep, rule, "gap_loss")
        _by_lr(axes[0, 1], sweep, rule, "lambda_final")
    for ax in axes[0]:
        ax.set_xscale("log")
        ax.set_xlabel("learning rate η")
    axes[0, 1].set_yscale("log")
    axes[0, 0].legend(frameon=False, fontsize=7)
    sel = ds.isel(run=np.flatnonzero(ds["terms"].values == 1))
    rng = np.random.default_rng(0)
    for ax, var in ((axes[1, 0], "gap_loss"), (axes[1, 1], "lambda_final")):
        med = []
        for i, name in enumerate(terms):
            v = sel[var].values[sel["rule"].values == name]
            ax.scatter(i + rng.uniform(-0.1, 0.1, v.size), v, color=_color(name), s=20, alpha=0.8)
            med.append(np.nanmedian(v) if np.isfinite(v).any() else np.nan)
        ax.plot(range(len(terms)), med, color="black", lw=1.2, marker="_", ms=14, label="median")
        ax.set_xticks(range(len(terms)), [_label(t) for t in terms], rotation=30, ha="right")
        ax.set_xlabel("gradient terms kept (fewer → more)")
    axes[1, 1].set_yscale("log")
    axes[1, 0].legend(frameon=False, fontsize=7)
    for ax in axes[:, 0]:
        ax.set_ylabel("gap: test − training loss")
    for ax in axes[:, 1]:
        ax.set_ylabel("final λ_max (loss units / weight²)")
    parts = claim.get("parts", {})
    txt = "; ".join(f"{k.replace('_', ' ')} ρ={v['spearman_r']:.2f} (p={_p(v['spearman_p'])})"
                    for k, v in parts.items() if v.get("spearman_r") is not None)
    excl = claim.get("n_excluded") or {}
    fig.suptitle(f"B6 {task}: remedies, {_where(ds)}"
                 + (f" (never reached, excluded: {excl})" if ds.attrs.get("criterion") else "") + f"\n{txt}",
                 fontsize=9)
    _despine(fig)
    fig.tight_layout()
    return fig


def diagnostics(ds: xr.Dataset, rules: list[str], task: str, claim: dict):
    """B7: spectral density of the final Hessian (SLQ, mean over seeds), Hessian trace over training and the cosine
    of each rule's update with the true gradient over training."""
    import matplotlib.pyplot as plt

    setup()
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    grid = ds["grid"].values
    for rule in rules:
        r = _runs(ds, rule, matched=True)
        if not r.sizes["run"]:
            continue
        label = f"{_label(rule)} (n={r.sizes['run']})"
        dens = np.nanmean(r["density"].values, axis=0) if np.isfinite(r["density"].values).any() else None
        if dens is not None:
            axes[0].plot(grid, np.maximum(dens, 1e-12), color=_color(rule), lw=1.3, label=label)
        _curve_runs(axes[1], r["hessian_update"].values, r["trace"].values, _color(rule), label)
        _curve(axes[2], _x(r), r["grad_cosine"].values, _color(rule), label)
    axes[0].set_yscale("log")
    axes[0].set_ylim(bottom=1e-6)
    axes[0].set_title(f"spectral density {_where(ds)}", fontsize=8)
    axes[0].set_xlabel("Hessian eigenvalue (loss units / weight²)")
    axes[0].set_ylabel("spectral density (SLQ, per unit eigenvalue)")
    axes[1].set_yscale("symlog", linthresh=1e-2)
    axes[1].set_xlabel("update (SGD iterations)")
    axes[1].set_ylabel("Hessian trace (Hutchinson; loss units / weight²)")
    axes[2].set_xlabel("update (SGD iterations)")
    axes[2].set_ylabel("cosine(rule's update, true gradient)")
    axes[2].set_ylim(-0.2, 1.05)
    axes[0].legend(frameon=False, fontsize=7)
    fig.suptitle(f"B7 {task}: diagnostics; bio − BPTT final trace {_num(claim['value'])} (p={_p(claim['p'])})",
                 fontsize=10)
    _despine(fig)
    fig.tight_layout()
    return fig
