"""Compare learning rules at matched task accuracy.

Accuracy rises unevenly during training and rules learn at different speeds, so distances are compared at
equal accuracy, not at equal update count: each run's distance-vs-accuracy trajectory is read at the moment the
run first reaches each accuracy of a common grid (:func:`biocredit.stats.first_passage_interpolate`); a run that
never reaches a level has no value there (NaN), it is never extrapolated.

The grid starts where every run has started (the largest untrained accuracy) and ends at the highest accuracy
that some runs of *every* rule reach, so that each level can compare rules; at each level only the runs that
reached it count.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from biocredit.io import open_netcdf
from biocredit.stats import first_passage_interpolate, permutation_p

__all__ = [
    "stack_runs",
    "matched_grid",
    "matched_curves",
    "curve_difference",
    "rule_difference",
    "matched_runs",
    "n_diverged",
    "levels_of_runs",
    "stack_run_files",
    "values_at_levels",
    "per_run_means",
]


def stack_run_files(runs: list[str], metrics: list[str]) -> xr.Dataset:
    """:func:`stack_runs` of per-run distance files, each with its run's ``diverged_at`` (update of a non-finite
    loss, −1 if none) from the training metrics file beside it (``metrics[i]`` belongs to ``runs[i]``)."""
    if len(runs) != len(metrics):
        raise ValueError(f"{len(runs)} distance files but {len(metrics)} metrics files")
    datasets = []
    for p, m in zip(runs, metrics, strict=True):
        with open_netcdf(p) as ds, open_netcdf(m) as met:
            run = ds.load()
            run["diverged_at"] = ((), int(met.attrs.get("diverged_at", -1)))
            datasets.append(run)
    return stack_runs(datasets)


def stack_runs(runs: list[xr.Dataset]) -> xr.Dataset:
    """Combine per-run files (attrs ``rule``, ``arch``, ``seed``) into one (rule, arch, seed, checkpoint) dataset.

    Runs may have different checkpoints (a diverged run stops early): the union is used and missing values are NaN.
    """
    if not runs:
        raise ValueError("no runs to combine")
    keys = [(str(r.attrs["rule"]), str(r.attrs["arch"]), int(r.attrs["seed"])) for r in runs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"duplicate runs among {keys}")
    aligned = [r.drop_attrs() for r in runs]
    if all("checkpoint" in r.dims for r in runs):
        ckpts = sorted(set().union(*(r.checkpoint.values.tolist() for r in runs)))
        aligned = [r.reindex(checkpoint=ckpts) for r in aligned]
    stacked = xr.concat(aligned, dim="run", data_vars="all", coords="minimal", join="outer")
    rule, arch, seed = zip(*keys, strict=True)
    stacked = stacked.assign_coords(rule=("run", list(rule)), arch=("run", list(arch)), seed=("run", list(seed)))
    out = stacked.set_index(run=["rule", "arch", "seed"]).unstack("run")
    return out.transpose("rule", "arch", "seed", ...)


def matched_grid(summary: xr.Dataset, n_grid: int = 50, top: str = "rule") -> np.ndarray:
    """Accuracy levels from the largest untrained accuracy to a top accuracy; empty when that range is empty.

    ``top="rule"``: the smallest, over rules, of the best accuracy any run of that rule reaches (the figures'
    range: a level may be reached by only some runs of a rule). ``top="run"``: the smallest best accuracy over
    all runs, so that every run reaches every level and a comparison drops no run (the claims' range: dropping the
    runs that never reach a level would compare only the seeds that learned best)."""
    if top not in ("rule", "run"):
        raise ValueError(f"top must be 'rule' or 'run', got {top!r}")
    acc = summary["accuracy"]
    first = acc.isel(checkpoint=0)
    if not np.isfinite(first.values).any():
        return np.empty(0)
    lo = float(first.max(skipna=True))
    if top == "rule":
        hi = float(acc.max(dim=[d for d in acc.dims if d != "rule"], skipna=True).min())
    else:
        best = acc.max(dim="checkpoint", skipna=True)
        hi = float(best.where(np.isfinite(first)).min(skipna=True))  # runs that exist (a grid's missing cell: NaN)
    if not hi > lo:
        return np.empty(0)
    return np.linspace(lo, hi, n_grid)


def matched_curves(summary: xr.Dataset, n_grid: int = 50, value: str = "procrustes", top: str = "rule") -> xr.Dataset:
    """Each run's ``value`` on the matched accuracy grid (:func:`matched_grid` with ``top``), dims (rule, arch, seed,
    accuracy)."""
    grid = matched_grid(summary, n_grid, top=top)
    acc = summary["accuracy"].stack(run=("rule", "arch", "seed")).transpose("run", "checkpoint")
    val = summary[value].stack(run=("rule", "arch", "seed")).transpose("run", "checkpoint")
    curves = np.array([first_passage_interpolate(a, v, grid) for a, v in zip(acc.values, val.values, strict=True)])
    out = xr.DataArray(
        curves.reshape(len(acc.run), len(grid)), dims=("run", "accuracy"), coords={"run": acc.run, "accuracy": grid}
    )
    return out.unstack("run").transpose("rule", "arch", "seed", "accuracy").to_dataset(name=value)


def _level_difference(a: np.ndarray, b: np.ndarray, min_runs: int) -> float:
    """Mean over levels (where both groups have ≥ min_runs values) of the difference of group means."""
    ok = (np.isfinite(a).sum(0) >= min_runs) & (np.isfinite(b).sum(0) >= min_runs)
    if not ok.any():
        return float("nan")
    with np.errstate(all="ignore"):
        return float(np.mean(np.nanmean(a[:, ok], axis=0) - np.nanmean(b[:, ok], axis=0)))


def curve_difference(
    curves_a: np.ndarray,
    curves_b: np.ndarray,
    min_runs: int = 2,
    n_boot: int = 2000,
    n_perm: int = 5000,
    level: float = 0.95,
    seed: int = 0,
) -> dict:
    """Difference between two groups of runs' curves on a shared grid (rows = runs, NaN = level not reached).

    Statistic: the mean over grid levels (those reached by at least ``min_runs`` runs of each group) of
    ``mean_a(level) − mean_b(level)``. CI: percentile bootstrap resampling whole runs within each group.
    p: two-sided permutation test relabelling whole runs (:func:`biocredit.stats.permutation_p`: exact when there
    are at most ``n_perm`` relabellings).
    """
    a, b = np.asarray(curves_a, float), np.asarray(curves_b, float)
    a, b = a[np.isfinite(a).any(1)], b[np.isfinite(b).any(1)]
    n_a, n_b = len(a), len(b)
    stat = _level_difference(a, b, min_runs) if n_a and n_b else float("nan")
    used = (np.isfinite(a).sum(0) >= min_runs) & (np.isfinite(b).sum(0) >= min_runs) if n_a and n_b else None
    out = {"mean_diff": stat, "ci": (float("nan"), float("nan")), "p": float("nan"), "n_a": n_a, "n_b": n_b,
           "levels_used": int(used.sum()) if used is not None else 0}
    if not np.isfinite(stat):
        return out
    rng = np.random.default_rng(seed)
    boots = np.array([
        _level_difference(a[rng.integers(0, n_a, n_a)], b[rng.integers(0, n_b, n_b)], 1) for _ in range(n_boot)
    ])
    boots = boots[np.isfinite(boots)]
    if boots.size and n_a >= 2 and n_b >= 2:
        alpha = (1 - level) / 2
        out["ci"] = tuple(float(q) for q in np.quantile(boots, [alpha, 1 - alpha]))
    out["p"] = permutation_p(a, b, "two-sided", n_perm, rng,
                             statistic=lambda x, y: _level_difference(x, y, min_runs))
    return out


def rule_difference(
    matched: xr.Dataset,
    rule_a: str,
    rule_b: str,
    arch: str,
    value: str = "procrustes",
    seed: int = 0,
    min_runs: int = 2,
) -> dict:
    """:func:`curve_difference` of rule a − rule b for one architecture, with the accuracy range it covers."""
    a = matched[value].sel(arch=arch, rule=rule_a).values
    b = matched[value].sel(arch=arch, rule=rule_b).values
    result = curve_difference(a, b, min_runs=min_runs, seed=seed)
    acc = matched.accuracy.values
    ok = (np.isfinite(a).sum(0) >= min_runs) & (np.isfinite(b).sum(0) >= min_runs) if acc.size else np.zeros(0, bool)
    result["accuracy_range"] = [float(acc[ok].min()), float(acc[ok].max())] if ok.any() else []
    return result


def values_at_levels(summary: xr.Dataset, fractions: list[float], value: str = "procrustes",
                     top: str = "rule") -> xr.Dataset:
    """Each run's ``value`` when it first reaches given accuracy levels, dims (rule, arch, seed, level).

    A level ``f`` is the accuracy ``lo + f·(top − lo)`` of the matched range (:func:`matched_grid`: from the
    largest untrained accuracy to the best accuracy that runs of every rule reach), so that levels mean the same
    for every task whatever its accuracy scale (1 − normalised error can be far below 0 untrained). Runs that
    never reach a level are NaN there. ``top="run"``: the range's top is the best accuracy that every run reaches
    (:func:`matched_grid`), so no run is NaN at any level.
    """
    grid = matched_grid(summary, n_grid=2, top=top)
    lo, top = (float(grid[0]), float(grid[-1])) if grid.size else (float("nan"), float("nan"))
    levels = np.array([lo + f * (top - lo) for f in fractions])
    acc = summary["accuracy"].stack(run=("rule", "arch", "seed")).transpose("run", "checkpoint")
    val = summary[value].stack(run=("rule", "arch", "seed")).transpose("run", "checkpoint")
    rows = np.array([first_passage_interpolate(a, v, levels) for a, v in zip(acc.values, val.values, strict=True)])
    out = xr.DataArray(rows.reshape(len(acc.run), len(levels)), dims=("run", "level"),
                       coords={"run": acc.run, "level": list(fractions), "accuracy": ("level", levels)})
    return out.unstack("run").transpose("rule", "arch", "seed", "level").to_dataset(name=value)


def per_run_means(matched: xr.Dataset, rule: str, arch: str, value: str = "procrustes") -> np.ndarray:
    """Each run's mean of ``value`` over the matched grid (runs without any value left out)."""
    curves = matched[value].sel(arch=arch, rule=rule).values
    keep = np.isfinite(curves).any(axis=1)
    with np.errstate(all="ignore"):
        return np.nanmean(curves[keep], axis=1) if keep.any() else np.empty(0)


def matched_runs(summary: xr.Dataset, rules: list[str], n_grid: int, value: str = "procrustes") -> xr.Dataset:
    """The curves of ``value`` of the runs of ``rules`` (a summary may hold sensitivity runs beside them) on the
    accuracy grid every one of those runs reaches: what claims A2 and A6 compare and their figures draw."""
    return matched_curves(summary.sel(rule=list(rules)), n_grid=n_grid, value=value, top="run")


def levels_of_runs(summary: xr.Dataset, rules: list[str], fractions: list[float]) -> xr.Dataset:
    """The values of ``rules``' runs at ``fractions`` of the range every one of them reaches (A3's test and
    figure)."""
    return values_at_levels(summary.sel(rule=list(rules)), fractions, top="run")


def n_diverged(summary: xr.Dataset) -> int:
    """Runs of a summary whose loss became non-finite."""
    return int((summary["diverged_at"] >= 0).sum()) if "diverged_at" in summary else 0
