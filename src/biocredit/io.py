"""Atomic file writing: every output appears whole or not at all.

Writers produce a temporary file beside the target and rename it into place (``os.replace`` is atomic on
POSIX within one file system), so an interrupted job never leaves a half-written output behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["atomic_path", "write_json", "write_netcdf", "open_netcdf", "sha256_file", "save_torch", "load_torch",
           "CorruptFileError"]


class CorruptFileError(ValueError):
    """An intermediate file that exists but cannot be read (truncated, not the expected format)."""


def remake_hint(path: str | os.PathLike) -> str:
    """How to remake a workflow output: delete it and ask Snakemake for it again (it reruns what depends on it)."""
    return (f"delete it and rerun the workflow with the same --configfile options (`rm {path}; snakemake --cores all "
            f"...`), or force it: `snakemake --cores all --forcerun {path} ...`")


def _umask() -> int:
    """The process's umask (read without changing it for good)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds.

    The temporary file keeps the target's suffix (some writers choose a format by it). On any exception it
    is removed and ``path`` is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix or path.suffix or ".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp creates the file 0600; give the output the mode any new file gets (0644 under umask 022)
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def write_json(obj: Any, path: str | os.PathLike) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=False, allow_nan=True) + "\n")


def write_netcdf(ds, path: str | os.PathLike, complevel: int = 4) -> None:
    """Write an xarray Dataset/DataArray to NetCDF4 (zlib-compressed numeric variables), atomically."""
    import xarray as xr

    if isinstance(ds, xr.DataArray):
        ds = ds.to_dataset()
    encoding = {
        name: {"zlib": True, "complevel": complevel}
        for name, var in ds.variables.items()
        if var.dtype.kind in "fiu" and var.ndim > 0
    }
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine="netcdf4", encoding=encoding)


def open_netcdf(path: str | os.PathLike):
    """``xr.open_dataset(path)``; a file that exists but cannot be read (e.g. truncated) raises
    :class:`CorruptFileError` naming it and the command that remakes it."""
    import xarray as xr

    try:
        return xr.open_dataset(path)
    except FileNotFoundError:
        raise
    except Exception as err:  # netCDF4/HDF5 raise OSError or RuntimeError for a damaged file
        raise CorruptFileError(f"{path}: unreadable NetCDF file ({type(err).__name__}: {err}); it is damaged or "
                               f"truncated: {remake_hint(path)}") from err


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def save_torch(obj: Any, path: str | os.PathLike) -> None:
    """``torch.save`` atomically. Only tensors and plain containers should be saved (``weights_only`` loads).

    The object is serialised in memory first: ``torch.save`` names the zip archive's inner folder after the file it
    writes to, and the temporary file's name is random, so saving straight to it would make every rerun's bytes
    differ. In memory the folder has one fixed name, and the same object gives the same bytes."""
    import io

    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getvalue())


def load_torch(path: str | os.PathLike) -> Any:
    """Load a file written by :func:`save_torch` with ``weights_only=True`` (never unpickles code)."""
    import torch

    return torch.load(path, map_location="cpu", weights_only=True)
