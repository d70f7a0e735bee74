"""Turn a verified raw data file into its NetCDF contract file."""

from __future__ import annotations

import os
from collections.abc import Callable

import xarray as xr

from biocredit.data.hatsopoulos import load_hatsopoulos
from biocredit.data.registry import remote_file
from biocredit.io import write_netcdf

__all__ = ["DATASET_LOADERS", "preprocess_dataset"]


def _load_hatsopoulos2007(raw_path: str | os.PathLike) -> xr.Dataset:
    return load_hatsopoulos(raw_path, sha256=remote_file("hatsopoulos2007").sha256)


#: dataset name -> loader taking the raw file's path and returning the contract Dataset
DATASET_LOADERS: dict[str, Callable[[str | os.PathLike], xr.Dataset]] = {
    "hatsopoulos2007": _load_hatsopoulos2007,
}


def preprocess_dataset(name: str, raw_path: str | os.PathLike, out_path: str | os.PathLike) -> None:
    """Load the raw file of dataset ``name`` (checksum-verified) and write it as NetCDF, atomically.

    Raises:
        ValueError: ``name`` is not a known dataset.
    """
    try:
        loader = DATASET_LOADERS[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(sorted(DATASET_LOADERS))}") from None
    write_netcdf(loader(raw_path), out_path)
