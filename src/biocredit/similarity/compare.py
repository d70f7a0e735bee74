"""Model-to-data comparisons over training checkpoints, and the data's own reference distances."""

from __future__ import annotations

import logging

import numpy as np
import xarray as xr

from biocredit.similarity.baselines import cross_condition_baseline, split_half_distances
from biocredit.similarity.cca import cca_distance
from biocredit.similarity.cka import cka_distance
from biocredit.similarity.dimensionality import participation_ratio
from biocredit.similarity.procrustes import as_samples, procrustes_distance

log = logging.getLogger(__name__)

__all__ = ["checkpoint_distances", "data_baselines"]


def _aligned(model_rate: xr.DataArray, data_rate: xr.DataArray) -> np.ndarray:
    """Model rates as (unit, time, condition), checked to share the recordings' time bins and conditions."""
    for dim in ("time", "condition"):
        m, d = model_rate[dim].values, data_rate[dim].values
        if m.shape != d.shape or not np.allclose(m, d):
            raise ValueError(
                f"model and recordings disagree on '{dim}': model has {m.shape[0]} values "
                f"({m[:3]}...), recordings {d.shape[0]} ({d[:3]}...)"
            )
    return model_rate.transpose("unit", "time", "condition").values


METRICS = {
    "procrustes": ("Procrustes shape distance to the recordings (0-1)", procrustes_distance),
    "cka": ("1 - linear CKA with the recordings", cka_distance),
    "cca": ("1 - mean canonical correlation with the recordings (top 20 PCs each)", cca_distance),
}


def _distances_or_nan(model: np.ndarray, target: np.ndarray, checkpoint: int, metrics) -> dict[str, float]:
    if not np.any(np.ptp(model.reshape(model.shape[0], -1), axis=1) > 0):
        log.warning("checkpoint %d: every unit's activity is constant; its distances are undefined (NaN)", checkpoint)
        return {m: float("nan") for m in metrics} | {"participation_ratio": float("nan")}
    x, y = as_samples(model), as_samples(target)
    out = {m: float(METRICS[m][1](x, y)) for m in metrics}
    out["participation_ratio"] = participation_ratio(model)
    return out


def checkpoint_distances(
    activity: xr.Dataset, data: xr.Dataset, metrics: tuple[str, ...] = ("procrustes", "cka", "cca")
) -> xr.Dataset:
    """Distances (0 = identical) between each checkpoint's activity and the recordings, the activity's
    participation-ratio dimensionality, and the checkpoint's accuracy.

    A checkpoint whose units are all silent or constant has no shape to compare: its values are NaN.
    """
    unknown = sorted(set(metrics) - set(METRICS))
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; known: {sorted(METRICS)}")
    data_rate = data["rate"].transpose("unit", "time", "condition")
    target = data_rate.values
    rows = [
        _distances_or_nan(_aligned(activity["rate"].sel(checkpoint=c), data_rate), target, int(c), metrics)
        for c in activity.checkpoint
    ]
    variables = {m: ("checkpoint", np.array([r[m] for r in rows]), {"long_name": METRICS[m][0]}) for m in metrics}
    variables["participation_ratio"] = (
        "checkpoint",
        np.array([r["participation_ratio"] for r in rows]),
        {"long_name": "participation-ratio dimensionality of the model activity"},
    )
    variables["accuracy"] = activity["accuracy"]
    return xr.Dataset(variables, coords={"checkpoint": activity.checkpoint}, attrs=dict(activity.attrs))


def data_baselines(data: xr.Dataset, n_split_half: int = 100, seed: int = 0) -> xr.Dataset:
    """Reference distances of the recordings: cross-condition-average baseline and split-half distances."""
    rate = data["rate"].transpose("unit", "time", "condition").values
    return xr.Dataset(
        {
            "cross_condition": ((), cross_condition_baseline(rate)),
            "split_half": ("iteration", split_half_distances(rate, n_iter=n_split_half, seed=seed)),
        },
        attrs={"dataset": str(data.attrs.get("dataset", "")), "seed": seed},
    )
