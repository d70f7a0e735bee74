"""Loader for the Hatsopoulos et al. (2007) M1 centre-out data as preprocessed by Liu, Yang & Cueva (2025).

The upstream file is a ``.npy`` holding a pickled dict, so its SHA-256 is verified *before* it is unpickled.
:func:`load_hatsopoulos` turns it into the NetCDF contract (an :class:`xarray.Dataset`) described there.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

import biocredit
from biocredit.data.fetch import verify_sha256
from biocredit.data.registry import remote_file
from biocredit.io import sha256_file

__all__ = ["KINEMATIC_KEYS", "load_hatsopoulos", "make_fake_hatsopoulos_npy"]

_ENTRY = remote_file("hatsopoulos2007")
T_MIN_MS, T_MAX_MS, BIN_MS = -800.0, 400.0, 10

#: upstream dict key -> ``kinematic`` coordinate label, in coordinate order
KINEMATIC_KEYS: dict[str, str] = {
    "xhandposition": "x_hand_position",
    "yhandposition": "y_hand_position",
    "xhandspeed": "x_hand_speed",
    "yhandspeed": "y_hand_speed",
    "shoulderangle": "shoulder_angle",
    "elbowangle": "elbow_angle",
}
_DURATION_KEYS = {
    "movement_duration_mean": "time_startmovement_to_endmovement_mean",
    "movement_duration_median": "time_startmovement_to_endmovement_median",
}
_REQUIRED_KEYS = ("firing_rate", *KINEMATIC_KEYS, *_DURATION_KEYS.values())


def _read_verified(path: Path, sha256: str | None) -> dict[str, Any]:
    """Verify the checksum (if given), then unpickle the dict inside the ``.npy``."""
    if sha256 is not None:
        verify_sha256(path, sha256)
    obj = np.load(path, allow_pickle=True)
    if not (isinstance(obj, np.ndarray) and obj.dtype == object and obj.shape == ()):
        raise ValueError(f"{path}: expected a 0-d object array holding a dict, got {type(obj).__name__}")
    data = obj.item()
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a pickled dict, got {type(data).__name__}")
    return data


def _validate(data: dict[str, Any], path: Path) -> tuple[int, int, int]:
    """Check keys and shapes; return ``(n_units, n_time, n_cond)`` or raise ValueError naming the problem."""
    missing = [k for k in _REQUIRED_KEYS if k not in data]
    if missing:
        raise ValueError(f"{path}: missing key(s) {missing}; expected keys {list(_REQUIRED_KEYS)}")
    rate = np.asarray(data["firing_rate"])
    if rate.ndim != 3:
        raise ValueError(
            f"{path}: key 'firing_rate' should be 3-D (unit, time, condition), got shape {rate.shape}"
        )
    n_units, n_time, n_cond = rate.shape
    expected = {k: (n_cond, n_time) for k in KINEMATIC_KEYS} | {k: (n_cond,) for k in _DURATION_KEYS.values()}
    for key, shape in expected.items():
        got = np.asarray(data[key]).shape
        if got != shape:
            raise ValueError(f"{path}: key {key!r} has shape {got}, expected {shape}")
    return n_units, n_time, n_cond


def _time_axis(n_time: int, path: Path) -> np.ndarray:
    """Bin times in ms relative to movement onset; must have a 10 ms step."""
    time = np.linspace(T_MIN_MS, T_MAX_MS, n_time)
    if n_time < 2 or not np.allclose(np.diff(time), BIN_MS):
        raise ValueError(
            f"{path}: key 'firing_rate' has {n_time} time bins, which does not give {BIN_MS} ms bins over "
            f"{T_MIN_MS:g}..{T_MAX_MS:g} ms (expected {int((T_MAX_MS - T_MIN_MS) / BIN_MS) + 1})"
        )
    return time


def _build_dataset(data: dict[str, Any], time: np.ndarray, sha256: str) -> xr.Dataset:
    """Assemble the NetCDF-contract Dataset from a validated upstream dict."""
    rate = np.asarray(data["firing_rate"], dtype=np.float64)
    n_units, _, n_cond = rate.shape
    kin = np.stack([np.asarray(data[k], dtype=np.float64) for k in KINEMATIC_KEYS])
    coords = {
        "unit": np.arange(n_units),
        "time": ("time", time, {"units": "ms", "long_name": "time relative to movement onset"}),
        "condition": np.arange(n_cond),
        "direction_deg": ("condition", np.arange(n_cond) * (360.0 / n_cond), {"units": "degree"}),
        "kinematic": list(KINEMATIC_KEYS.values()),
    }
    data_vars = {
        "rate": (
            ("unit", "time", "condition"),
            rate,
            {"units": "spikes/s", "long_name": "trial-averaged firing rate"},
        ),
        "kinematics": (
            ("kinematic", "condition", "time"),
            kin,
            {
                "units": "1",
                "long_name": "trial-averaged arm kinematics",
                "note": "each kinematic variable scaled to max |value| = 1, with start position 0",
            },
        ),
    }
    for name, key in _DURATION_KEYS.items():
        stat = name.rsplit("_", 1)[1]
        data_vars[name] = (
            ("condition",),
            np.asarray(data[key], dtype=np.float64),
            {
                "units": "ms",
                "long_name": f"{stat} time from movement start to movement end",
                "source_key": key,
            },
        )
    return xr.Dataset(data_vars, coords=coords, attrs=_dataset_attrs(sha256))


def _dataset_attrs(sha256: str) -> dict[str, str | int]:
    """Global attributes (strings and numbers only, as NetCDF requires)."""
    return {
        "dataset": "hatsopoulos2007",
        "area": "M1",
        "species": "macaque",
        "alignment_event": "movement onset",
        "time_units": "ms",
        "bin_ms": BIN_MS,
        "source_url": _ENTRY.url,
        "sha256": sha256,
        "preprocessing": (
            "Spike trains Gaussian-smoothed (SD 25 ms), binned at 10 ms, and trial-averaged per reach "
            "direction, as published by Liu, Yang & Cueva (2025)."
        ),
        "citation": (
            "Hatsopoulos et al. (2007), J Neurosci (raw recordings: Dryad doi:10.5061/dryad.xsj3tx9cm); "
            "data via Liu, Yang & Cueva (2025), github.com/Helena-Yuhan-Liu/LearningRuleSimilarities"
        ),
        "biocredit_version": biocredit.__version__,
    }


def load_hatsopoulos(path: str | os.PathLike, sha256: str | None = _ENTRY.sha256) -> xr.Dataset:
    """Load the Hatsopoulos 2007 ``.npy`` into the NetCDF contract.

    The SHA-256 is checked before anything is unpickled (pass ``sha256=None`` only for files you made).

    Args:
        path: the upstream ``.npy`` file (a pickled dict).
        sha256: expected SHA-256; defaults to the registry's digest of the real file.

    Returns:
        Dataset with ``rate(unit, time, condition)`` in spikes/s, ``kinematics(kinematic, condition, time)``,
        ``movement_duration_mean/median(condition)`` in ms, coords ``unit``, ``time`` (ms from movement
        onset), ``condition``, ``direction_deg(condition)`` and ``kinematic``, and provenance attributes.

    Raises:
        ChecksumError: the file's digest differs from ``sha256``.
        ValueError: the dict is malformed (missing key, wrong shape).
    """
    path = Path(path)
    data = _read_verified(path, sha256)
    _, n_time, _ = _validate(data, path)
    time = _time_axis(n_time, path)
    digest = sha256.lower() if sha256 is not None else sha256_file(path)
    return _build_dataset(data, time, digest)


def make_fake_hatsopoulos_npy(
    path: str | os.PathLike, n_units: int = 5, n_time: int = 121, n_cond: int = 8, seed: int = 0
) -> str:
    """Write a small file in the upstream format (pickled dict in a ``.npy``) and return its SHA-256.

    Values are random but shaped and typed like the real file: non-negative ``firing_rate`` of shape
    ``(n_units, n_time, n_cond)``, kinematics ``(n_cond, n_time)`` scaled to max |value| = 1 and starting
    at 0, and durations ``(n_cond,)`` in ms.
    """
    rng = np.random.default_rng(seed)
    data: dict[str, np.ndarray] = {"firing_rate": rng.gamma(2.0, 3.0, size=(n_units, n_time, n_cond))}
    for key in KINEMATIC_KEYS:
        walk = np.cumsum(rng.standard_normal((n_cond, n_time)), axis=1)
        walk -= walk[:, :1]
        data[key] = walk / np.abs(walk).max()
    data["time_startmovement_to_endmovement_mean"] = rng.uniform(400.0, 700.0, n_cond)
    data["time_startmovement_to_endmovement_median"] = rng.uniform(300.0, 670.0, n_cond)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:  # a file object stops np.save appending ".npy" to other names
        np.save(f, np.array(data, dtype=object), allow_pickle=True)
    return sha256_file(path)
