"""Turn a verified raw data file into its NetCDF contract file."""

from __future__ import annotations

import os
from collections.abc import Callable

import xarray as xr

from biocredit.data.hatsopoulos import load_hatsopoulos
from biocredit.data.mante import load_mante
from biocredit.data.registry import remote_file
from biocredit.data.sussillo import load_sussillo
from biocredit.io import write_netcdf

__all__ = ["DATASET_LOADERS", "preprocess_dataset"]


def _load_hatsopoulos2007(raw_path: str | os.PathLike) -> xr.Dataset:
    return load_hatsopoulos(raw_path, sha256=remote_file("hatsopoulos2007").sha256)


#: dataset name -> loader taking the raw file's path and returning the contract Dataset
DATASET_LOADERS: dict[str, Callable[[str | os.PathLike], xr.Dataset]] = {
    "hatsopoulos2007": _load_hatsopoulos2007,
    "mante2013": load_mante,  # verifies (or on first use records) the zip's SHA-256 in the checked-in lock file
}


#: datasets the user supplies (not downloadable): name -> loader taking the files by keyword
USER_DATASET_LOADERS: dict[str, Callable[..., xr.Dataset]] = {"sussillo2015": load_sussillo}


def preprocess_dataset(name: str, raw_path, out_path: str | os.PathLike, **options) -> None:
    """Load the raw file(s) of dataset ``name`` (downloads checksum-verified) and write NetCDF, atomically.

    ``raw_path`` is the downloaded file's path, or for user-supplied datasets a dict of their files by role;
    ``options`` go to the dataset's loader (e.g. ``lock_file`` for Mante).

    Raises:
        ValueError: ``name`` is not a known dataset.
    """
    if name in USER_DATASET_LOADERS:
        write_netcdf(USER_DATASET_LOADERS[name](**raw_path), out_path)
        return
    try:
        loader = DATASET_LOADERS[name]
    except KeyError:
        known = sorted(DATASET_LOADERS) + sorted(USER_DATASET_LOADERS)
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(known)}") from None
    write_netcdf(loader(raw_path, **options), out_path)
