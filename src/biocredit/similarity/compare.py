"""Model-to-data comparisons over training checkpoints, and the data's own reference distances."""

from __future__ import annotations

import logging

import numpy as np
import xarray as xr

from biocredit.similarity.baselines import cross_condition_baseline, split_half_distances
from biocredit.similarity.procrustes import shape_distance

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


def _distance_or_nan(model: np.ndarray, target: np.ndarray, checkpoint: int) -> float:
    if not np.any(np.ptp(model.reshape(model.shape[0], -1), axis=1) > 0):
        log.warning("checkpoint %d: every unit's activity is constant; its distance is undefined (NaN)", checkpoint)
        return float("nan")
    return shape_distance(model, target)


def checkpoint_distances(activity: xr.Dataset, data: xr.Dataset) -> xr.Dataset:
    """Procrustes distance (0–1) between each checkpoint's activity and the recordings, with its accuracy.

    A checkpoint whose units are all silent or constant has no shape to compare: its distance is NaN.
    """
    data_rate = data["rate"].transpose("unit", "time", "condition")
    target = data_rate.values
    dist = np.array(
        [
            _distance_or_nan(_aligned(activity["rate"].sel(checkpoint=c), data_rate), target, int(c))
            for c in activity.checkpoint
        ]
    )
    return xr.Dataset(
        {
            "procrustes": ("checkpoint", dist, {"long_name": "Procrustes shape distance to the recordings (0-1)"}),
            "accuracy": activity["accuracy"],
        },
        coords={"checkpoint": activity.checkpoint},
        attrs=dict(activity.attrs),
    )


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
