"""Sussillo et al. (2015) motor cortex + EMG data (Churchland lab reaches), as prepared by Liu, Yang & Cueva (2025).

These recordings are not public: the user supplies the files (config ``user_data.sussillo2015``). Each is a
MATLAB file holding one numeric array (the variable name does not matter; a file with several arrays must name
the wanted one after a colon, ``path.mat:variable``):

- ``neural``: condition-averaged firing rates, (units, 196, 27): 10 ms bins from −1550 to +400 ms around movement
  onset, 27 reach conditions (180 units in the authors' data);
- ``emg``: EMG of 7 muscles, (7, 66, 27): 10 ms bins from −250 to +400 ms;
- ``plan_input``: the 15-dimensional condition "plan" input, (15, 196, 27) on the neural time grid.

:func:`load_sussillo` returns the NetCDF contract: ``rate(unit, time, condition)`` plus ``emg(muscle, emg_time,
condition)`` and ``plan_input(plan_dim, plan_time, condition)``. As in the authors' analysis, ``rate`` keeps only
the bins from −1450 to +400 ms (186 bins); the plan input keeps the full grid.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr

import biocredit
from biocredit.io import sha256_file

__all__ = ["USER_FILES", "load_sussillo", "read_mat_array", "make_fake_sussillo_files"]

USER_FILES = ("neural", "emg", "plan_input")
NEURAL_T0_MS, EMG_T0_MS, BIN_MS = -1550.0, -250.0, 10.0
ANALYSIS_WINDOW_MS = (-1450.0, 400.0)


def read_mat_array(spec: str | os.PathLike) -> np.ndarray:
    """The numeric array in a MATLAB (v5) file; ``path.mat:name`` picks one variable among several."""
    import scipy.io

    text = str(spec)
    path, _, name = text.partition(":") if text.count(":") == 1 and not Path(text).exists() else (text, "", "")
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        contents = scipy.io.loadmat(path)
    except NotImplementedError as err:  # MATLAB v7.3 (HDF5)
        raise ValueError(f"{path}: MATLAB v7.3 (HDF5) files are not supported; save with -v7") from err
    except Exception as err:  # scipy's messages ("Unknown mat file type, version 138, 120") name no file
        raise ValueError(f"{path}: not a readable MATLAB .mat file ({type(err).__name__}: {err})") from err
    arrays = {k: v for k, v in contents.items() if not k.startswith("__") and isinstance(v, np.ndarray)}
    if name:
        if name not in arrays:
            raise ValueError(f"{path}: no variable {name!r}; it holds {sorted(arrays)}")
        return np.asarray(arrays[name], dtype=np.float64)
    if len(arrays) != 1:
        raise ValueError(f"{path}: holds {sorted(arrays)}; name the variable as {path}:<variable>")
    return np.asarray(next(iter(arrays.values())), dtype=np.float64)


def _check(arr: np.ndarray, name: str, spec, shape: tuple) -> None:
    want = tuple("any" if s is None else s for s in shape)
    if arr.ndim != len(shape) or any(s is not None and a != s for a, s in zip(arr.shape, shape, strict=True)):
        raise ValueError(f"{spec}: {name} must have shape {want}, got {arr.shape}")


def load_sussillo(neural: str, emg: str, plan_input: str) -> xr.Dataset:
    """Read the three user files, check their shapes against each other, and build the contract dataset."""
    rate = read_mat_array(neural)
    _check(rate, "neural", neural, (None, None, None))
    n_time, n_cond = rate.shape[1:]
    m = read_mat_array(emg)
    _check(m, "emg", emg, (None, None, n_cond))
    plan = read_mat_array(plan_input)
    _check(plan, "plan_input", plan_input, (None, n_time, n_cond))
    time = NEURAL_T0_MS + BIN_MS * np.arange(n_time)
    emg_time = EMG_T0_MS + BIN_MS * np.arange(m.shape[1])
    keep = (time >= ANALYSIS_WINDOW_MS[0]) & (time <= ANALYSIS_WINDOW_MS[1])
    return xr.Dataset(
        {
            "rate": (("unit", "time", "condition"), rate[:, keep], {"units": "spikes/s"}),
            "emg": (("muscle", "emg_time", "condition"), m, {"long_name": "normalised EMG"}),
            "plan_input": (("plan_dim", "plan_time", "condition"), plan),
        },
        coords={
            "unit": np.arange(rate.shape[0]),
            "time": ("time", time[keep], {"units": "ms"}),
            "plan_time": ("plan_time", time, {"units": "ms"}),
            "emg_time": ("emg_time", emg_time, {"units": "ms"}),
            "condition": np.arange(n_cond),
            "muscle": np.arange(m.shape[0]),
            "plan_dim": np.arange(plan.shape[0]),
        },
        attrs={
            "dataset": "sussillo2015",
            "area": "M1/PMd",
            "species": "macaque",
            "alignment_event": "movement onset",
            "time_units": "ms",
            "bin_ms": BIN_MS,
            "source": "user-supplied (not public)",
            "sha256": ";".join(f"{k}={sha256_file(str(p).split(':')[0])}" for k, p in
                               zip(USER_FILES, (neural, emg, plan_input), strict=True)),
            "citation": "Sussillo et al. 2015 (Churchland lab data), prepared as in Liu, Yang & Cueva 2025",
            "biocredit_version": biocredit.__version__,
        },
    )


def make_fake_sussillo_files(folder: str | os.PathLike, n_units: int = 6, n_cond: int = 27, seed: int = 0) -> dict:
    """Small files in the expected layout (one array per .mat file), for tests; returns the config entry."""
    import scipy.io

    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    t = np.linspace(0, 1, 196)
    rate = 5 + 5 * np.sin(2 * np.pi * (t[None, :, None] * rng.uniform(0.5, 2, (n_units, 1, 1))
                                       + rng.uniform(0, 1, (1, 1, n_cond))))
    emg = np.abs(rng.normal(size=(7, 66, n_cond))).cumsum(1) / 30
    plan = rng.normal(size=(15, 196, n_cond))
    paths = {}
    for name, arr, var in (("neural", rate, "neuralforRNN"), ("emg", emg, "EMGforRNN"), ("plan_input", plan, "plan")):
        p = folder / f"{name}.mat"
        scipy.io.savemat(p, {var: arr})
        paths[name] = str(p)
    return paths
