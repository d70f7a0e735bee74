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
from biocredit.stats import mean_sem

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


def _runs(ds: xr.Dataset, rule: str, main_only: bool = True) -> xr.Dataset:
    """Runs of ``rule`` (main grid only by default)."""
    sel = ds["rule"].values == rule
    if main_only:
        sel &= ds["main"].values == 1
    return ds.isel(run=np.flatnonzero(sel))


def _verdict(claim: dict) -> str:
    return str(claim.get("verdict", "holds" if claim.get("holds") else "fails"))


def _ci(ci) -> str:
    if not ci or ci[0] is None or ci[1] is None:
        return "[n/a]"
    return f"[{ci[0]:.3g}, {ci[1]:.3g}]"


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


def _finish(fig):
    """Despine every panel and lay the figure out; returns it."""
    import seaborn as sns

    for ax in fig.axes:
        sns.despine(ax=ax)
    fig.tight_layout()
    return fig


def _num(v) -> str:
    return "n/a" if v is None or not np.isfinite(v) else f"{v:.3g}"


def _strip(ax, ds: xr.Dataset, rules: list[str], var: str, log: bool = False) -> None:
    """Per-rule points (seeds) with the mean ± SEM as a bar; ``n`` runs per rule in the tick labels."""
    rng = np.random.default_rng(0)
    labels = []
    for i, rule in enumerate(rules):
        r = _runs(ds, rule)
        v = r[var].values
        v = v[np.isfinite(v)]
        if log:
            v = v[v > 0]
        labels.append(f"{_label(rule)}\n(n={v.size})")
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
    """B1: accuracy and loss on the training set (solid), the clean held-out set (dashed) and the noisy test set
    (dotted) over training, per rule; the title gives each rule's final training-accuracy difference to BPTT."""
    import matplotlib.pyplot as plt

    setup()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.3))
    held = ds.attrs.get("held_out", "validation_set")
    for rule in rules:
        r = _runs(ds, rule)
        if not r.sizes["run"]:
            continue
        x = _x(r)
        for ax, var in zip(axes, ("accuracy", "loss"), strict=True):
            _curve(ax, x, r[f"train_set_{var}"].values, _color(rule), f"{_label(rule)} (n={r.sizes['run']})")
            _curve(ax, x, r[f"{held}_{var}"].values, _color(rule), None, ls="--")
            _curve(ax, x, r[f"test_{var}"].values, _color(rule), None, ls=":")
    for ax in axes:
        ax.plot([], [], color="grey", ls="-", label="training set")
        ax.plot([], [], color="grey", ls="--", label="validation (clean)")
        ax.plot([], [], color="grey", ls=":", label="test (noisy)")
        ax.set_xlabel("update (SGD iterations)")
    diffs = "; ".join(f"{_label(x['rule'])} {x['diff']:+.3f} {_ci(x['ci'])} {x['verdict']}"
                      for x in claim.get("rules", []) if x.get("diff") is not None)
    axes[0].set_ylabel(_acc_label(task))
    axes[1].set_ylabel(_loss_label(task))
    axes[1].set_yscale("log")
    axes[0].legend(frameon=False, fontsize=7, loc="lower right")
    fig.suptitle(f"B1 {task}: training and held-out performance (mean ± SEM over seeds); premise "
                 f"{_verdict(claim)}\nfinal training accuracy − BPTT's (CI): {diffs}", fontsize=9)
    return _finish(fig)


def gap_by_rule(ds: xr.Dataset, rules: list[str], task: str, claim: dict):
    """B2: generalization gap per rule at the end of training, seeds as points: the claim's loss gap (clean
    validation − training), the accuracy gap, the loss gap at matched training loss and the noisy-test gap."""
    import matplotlib.pyplot as plt

    setup()
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    unit = _loss_label(task).split(" (")[1].rstrip(")")
    m = claim.get("matched_train_loss") or {}
    level = m.get("level")
    panels = (
        (axes[0, 0], "gap_loss", f"gap: validation − training loss ({unit})",
         f"the claim's gap: bio − BPTT {_num(claim['value'])} {_ci(claim.get('ci'))}"),
        (axes[0, 1], "gap_accuracy", "gap: training − validation accuracy",
         "bio − BPTT " + _num((claim.get("accuracy_gap") or {}).get("diff"))
         + " " + _ci((claim.get("accuracy_gap") or {}).get("ci"))),
        (axes[1, 0], "gap_loss_matched", f"gap at matched training loss ({unit})",
         (f"where training loss first reaches {level:.3g}; " if level is not None else "")
         + "bio − BPTT " + _num(m.get("diff")) + " " + _ci(m.get("ci"))),
        (axes[1, 1], "gap_noisy_loss", f"noisy test − training loss ({unit})",
         "robustness (reported, not the claim): bio − BPTT "
         + _num((claim.get("noisy_test_gap") or {}).get("diff"))
         + " " + _ci((claim.get("noisy_test_gap") or {}).get("ci"))),
    )
    for ax, var, ylabel, title in panels:
        _strip(ax, ds, rules, var)
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=8)
    sesoi = claim.get("sesoi")
    if sesoi:
        axes[0, 0].axhspan(0, 0, color="none")
    div = {r: k for r, k in (claim.get("n_diverged") or {}).items() if k}
    parts = claim.get("parts") or {}
    fig.suptitle(
        f"B2 {task}: {_verdict(claim)} (mean {parts.get('mean', 'n/a')}, spread {parts.get('spread', 'n/a')}); "
        f"bio rules − BPTT mean gap {_num(claim['value'])} {_ci(claim.get('ci'))}, SD ratio "
        f"{_num(claim.get('sd_ratio'))} {_ci(claim.get('sd_ratio_ci'))}"
        + (f"; diverged runs: {div}" if div else ""),
        fontsize=10,
    )
    return _finish(fig)


def curvature_by_rule(ds: xr.Dataset, rules: list[str], task: str, lr: float, claim: dict):
    """B3: top Hessian eigenvalue over training (mean ± SEM) and at the end, per rule, with the 2/η line."""
    import matplotlib.pyplot as plt

    setup()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), gridspec_kw={"width_ratios": [1.4, 1]})
    for rule in rules:
        r = _runs(ds, rule)
        if r.sizes["run"]:
            _curve_runs(axes[0], r["hessian_update"].values, r["lambda_max"].values, _color(rule),
                        f"{_label(rule)} (n={r.sizes['run']})")
    _strip(axes[1], ds, rules, "lambda_final", log=True)
    for ax in axes:
        ax.axhline(2 / lr, color="black", ls="--", lw=1)
    axes[0].plot([], [], color="black", ls="--", label=f"2/η = {2 / lr:.3g}")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("update (SGD iterations)")
    axes[0].set_ylabel("top Hessian eigenvalue λ_max (loss units / weight²)")
    axes[1].set_ylabel("final λ_max (loss units / weight²)")
    axes[1].set_title("end of training", fontsize=8)
    axes[0].legend(frameon=False, fontsize=7)
    fig.suptitle(f"B3 {task}: curvature (W_rec block), {_verdict(claim)}; bio / BPTT final λ_max "
                 f"×{_num(claim.get('ratio'))} (ln-ratio {_num(claim['value'])} {_ci(claim.get('ci'))})", fontsize=10)
    return _finish(fig)


def gap_vs_curvature(ds: xr.Dataset, rules: list[str], task: str, claim: dict):
    """B4: generalization gap against the final top eigenvalue over the main-grid runs; the correlations are the
    claim row's (not recomputed here)."""
    import matplotlib.pyplot as plt

    setup()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    acc = claim.get("accuracy_gap") or {}
    titles = (f"Spearman ρ={_num(claim['value'])} {_ci(claim.get('ci'))}, n={claim['n']} (BPTT + bio rules)",
              f"Spearman ρ={_num(acc.get('r'))} {_ci(acc.get('ci'))}")
    for ax, var, ylabel, title in ((axes[0], "gap_loss", "gap: validation − training loss", titles[0]),
                                   (axes[1], "gap_accuracy", "gap: training − validation accuracy", titles[1])):
        for rule in rules:
            r = _runs(ds, rule)
            ax.scatter(r["lambda_final"].values, r[var].values, color=_color(rule), s=24, alpha=0.85,
                       label=f"{_label(rule)} (n={r.sizes['run']})")
        ax.set_title(title, fontsize=8)
        ax.set_xscale("log")
        ax.set_xlabel("final λ_max (loss units / weight²)")
        ax.set_ylabel(ylabel)
    axes[0].legend(frameon=False, fontsize=7)
    fig.suptitle(f"B4 {task}: generalization gap vs curvature at the end of training; {_verdict(claim)}",
                 fontsize=10)
    return _finish(fig)


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
    ax.set_title(f"B5 {task}: curvature vs learning rate; {_verdict(claim)}", fontsize=10)
    return _finish(fig)


def remedies(ds: xr.Dataset, lr_rules: list[str], terms: list[str], task: str, claim: dict):
    """B6: the gap and the top eigenvalue against the learning rate (top) and against how many gradient terms the
    rule keeps (bottom: e-prop → MDGL → tBPTT windows → BPTT)."""
    import matplotlib.pyplot as plt

    setup()
    fig, axes = plt.subplots(2, 2, figsize=(10, 7.5))
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
    txt = "; ".join(f"{k.replace('_', ' ')} ρ={v['r']:.2f} {_ci(v.get('ci'))} {v.get('verdict', '')}"
                    for k, v in parts.items() if v.get("r") is not None)
    fig.suptitle(f"B6 {task}: remedies at the end of training (every run); {_verdict(claim)}\n{txt}", fontsize=9)
    return _finish(fig)


def diagnostics(ds: xr.Dataset, rules: list[str], task: str, claim: dict):
    """B7: spectral density of the final Hessian (SLQ, mean over seeds), Hessian trace over training and the cosine
    of each rule's update with the true gradient over training."""
    import matplotlib.pyplot as plt

    setup()
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    grid = ds["grid"].values
    for rule in rules:
        r = _runs(ds, rule)
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
    axes[0].set_title("spectral density at the end of training", fontsize=8)
    axes[0].set_xlabel("Hessian eigenvalue (loss units / weight²)")
    axes[0].set_ylabel("spectral density (SLQ, per unit eigenvalue)")
    axes[1].set_yscale("symlog", linthresh=1e-2)
    axes[1].set_xlabel("update (SGD iterations)")
    axes[1].set_ylabel("Hessian trace (Hutchinson; loss units / weight²)")
    axes[2].set_xlabel("update (SGD iterations)")
    axes[2].set_ylabel("cosine(rule's update, true gradient)")
    axes[2].set_ylim(-0.2, 1.05)
    axes[0].legend(frameon=False, fontsize=7)
    fig.suptitle(f"B7 {task}: diagnostics, {_verdict(claim)}; bio − BPTT final ln trace {_num(claim['value'])} "
                 f"{_ci(claim.get('ci'))}", fontsize=10)
    return _finish(fig)
