"""Stages of ``rules/similarity.smk``: model activity × recordings → distances per run, the recordings' own
baselines, and one dataset's runs stacked into its summary."""

from __future__ import annotations

import numpy as np
import xarray as xr

from biocredit.io import open_netcdf, write_netcdf
from biocredit.similarity import checkpoint_distances, data_baselines, normalized_with_data
from biocredit.similarity.matched import matched_curves, stack_run_files

__all__ = ["compare_run", "baselines", "summarize_similarity", "normalized_run"]


def compare_run(activity: str, data: str, out: str) -> None:
    """Procrustes distance of each checkpoint's activity to the recordings."""
    with open_netcdf(activity) as act, open_netcdf(data) as rec:
        write_netcdf(checkpoint_distances(act.load(), rec.load()), out)


def normalized_run(activity: str, distances: str, data: str, out: str, n_iter: int = 100) -> None:
    """Normalised-with-data distance ((d_model − d_split)/(1 − d_split)) at the run's best checkpoint (the one
    closest to the recordings), with the cross-condition baseline normalised the same way."""
    with open_netcdf(activity) as act, open_netcdf(distances) as dist, open_netcdf(data) as rec:
        d = dist["procrustes"]
        finite = d.where(np.isfinite(d), drop=True)
        if finite.size == 0:
            raise ValueError(f"{distances}: no checkpoint has a finite distance; cannot pick a best checkpoint")
        best = int(finite.idxmin("checkpoint"))
        model = act["rate"].sel(checkpoint=best).transpose("unit", "time", "condition").values
        target = rec["rate"].sel(time=act.time).transpose("unit", "time", "condition").values
        seed = int(act.attrs.get("seed", 0))
        res = normalized_with_data(model, target, n_iter=n_iter, seed=seed)
        out_ds = xr.Dataset(
            {
                "normalized": ("iteration", np.asarray(res["values"])),
                "baseline": ("iteration", np.asarray(res["baseline_values"])),
                "split_half": ("iteration", np.asarray(res["split_half"])),
                "best_checkpoint": ((), best),
                "best_distance": ((), float(d.sel(checkpoint=best))),
                "best_accuracy": ((), float(dist["accuracy"].sel(checkpoint=best))),
            },
            attrs=dict(act.attrs),
        )
    write_netcdf(out_ds, out)


def baselines(data: str, out: str, n_split_half: int, seed: int = 0) -> None:

    with open_netcdf(data) as rec:
        write_netcdf(data_baselines(rec.load(), n_split_half, seed), out)


def summarize_similarity(runs: list[str], metrics: list[str], out: str) -> None:
    """Stack per-run distance files into one (rule, arch, seed, checkpoint) summary, with each run's
    ``diverged_at`` (update of a non-finite loss, −1 if none) from its training metrics."""
    write_netcdf(stack_run_files(runs, metrics), out)


def matched_participation(summary: str, out: str, *, dataset: str, arch: str, rules: list[str], n_grid: int) -> None:
    """Each run's participation ratio (of the first arch row, rules ``rules``) on the accuracy grid of
    :func:`biocredit.similarity.matched.matched_curves` with ``n_grid`` points: what figure A5 draws beside the
    dynamics, measured here so that the figure job only draws."""
    with open_netcdf(summary) as ds:
        runs = ds.load().sel(arch=[arch]).sel(rule=rules)
    curves = matched_curves(runs, n_grid=n_grid, value="participation_ratio")
    curves.attrs.update({"dataset": dataset, "arch": arch, "n_grid": int(n_grid)})
    write_netcdf(curves, out)
