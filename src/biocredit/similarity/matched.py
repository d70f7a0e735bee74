"""Compare learning rules at matched task accuracy.

Accuracy rises unevenly during training and rules learn at different speeds, so distances are compared at
equal accuracy, not at equal update count: each run's distance-vs-accuracy trajectory is read at the moment the
run first reaches each accuracy of a common grid (:func:`biocredit.stats.first_passage_interpolate`). The grid
spans the accuracies every run passes through, so no run is extrapolated.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from biocredit.stats import common_accuracy_grid, difference_of_means, first_passage_interpolate

__all__ = ["stack_runs", "matched_curves", "rule_difference"]


def stack_runs(runs: list[xr.Dataset]) -> xr.Dataset:
    """Combine per-run distance files (attrs ``rule``, ``arch``, ``seed``) into one (rule, arch, seed, checkpoint)
    dataset."""
    if not runs:
        raise ValueError("no runs to combine")
    keyed = [r.expand_dims(rule=[r.attrs["rule"]], arch=[r.attrs["arch"]], seed=[int(r.attrs["seed"])]) for r in runs]
    out = xr.combine_by_coords([k.drop_attrs() for k in keyed], combine_attrs="drop")
    return out.transpose("rule", "arch", "seed", "checkpoint")


def matched_curves(summary: xr.Dataset, n_grid: int = 50, value: str = "procrustes") -> xr.Dataset:
    """Each run's ``value`` on a common accuracy grid, dims (rule, arch, seed, accuracy)."""
    acc = summary["accuracy"].stack(run=("rule", "arch", "seed")).transpose("run", "checkpoint")
    val = summary[value].stack(run=("rule", "arch", "seed")).transpose("run", "checkpoint")
    finite = [a[np.isfinite(a)] for a in acc.values]
    grid = common_accuracy_grid([a for a in finite if a.size], n=n_grid)
    curves = np.array([first_passage_interpolate(a, v, grid) for a, v in zip(acc.values, val.values, strict=True)])
    out = xr.DataArray(
        curves.reshape(len(acc.run), len(grid)), dims=("run", "accuracy"), coords={"run": acc.run, "accuracy": grid}
    )
    return out.unstack("run").transpose("rule", "arch", "seed", "accuracy").to_dataset(name=value)


def rule_difference(
    matched: xr.Dataset,
    rule_a: str,
    rule_b: str,
    arch: str,
    value: str = "procrustes",
    seed: int = 0,
) -> dict:
    """Mean over the matched-accuracy grid per run, then the difference of means between two rules (a − b)."""
    per_run = matched[value].sel(arch=arch).mean("accuracy", skipna=True)
    a = per_run.sel(rule=rule_a).values
    b = per_run.sel(rule=rule_b).values
    result = difference_of_means(a[np.isfinite(a)], b[np.isfinite(b)], seed=seed)
    result["accuracy_range"] = (
        [float(matched.accuracy.min()), float(matched.accuracy.max())] if matched.accuracy.size else []
    )
    return result
