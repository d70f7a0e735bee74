"""Mante et al. (2013) macaque PFC recordings (context-dependent integration), preprocessed as Liu, Yang & Cueva (2025).

Upstream is the Mante lab's ``PFC data.zip`` (:data:`MANTE_URL`). It unzips to ``PFC data/PFC data 1`` (monkey
"ar") and ``PFC data/PFC data 2`` (monkey "fe"); each folder holds one MATLAB (v5) file per recorded unit with one
struct ``unit``:

- ``unit.time``: 1 × 751 sample times (seconds; 1 ms apart),
- ``unit.response``: trials × 751 spike counts per 1-ms sample (0/1),
- ``unit.task_variable``: a struct of per-trial vectors, of which this module uses ``stim_dir`` (signed motion
  coherence, > 0 towards the unit's preferred target), ``stim_col2dir`` (signed colour coherence, > 0 towards the
  preferred target), ``context`` (1 = motion, −1 or 2 = colour), ``correct`` (1/0) and, when present,
  ``targ_dir`` (location of the chosen target, +1 preferred, −1 anti-preferred). These meanings follow the
  documentation of the Mante lab's loader ``tdrLoadPfcData.m`` (TDR toolbox), which also gives ``unit.time`` in
  seconds. Other fields (``stim_col``, ``targ_col``, ``congruent``, ``stim_dir2col``, ``stim_trial``) are ignored.

Checksums. The zip's SHA-256 is not published, so it is recorded on first use ("trust on first use") in the
checked-in lock file :data:`LOCK_FILE` (``{name: {"sha256": ..., "size": ...}}``) and verified on every later
use (:func:`record_or_verify`). Commit the lock file after the first download so other machines verify against it.

Preprocessing (:func:`preprocess_mante`, following the authors' ``mante2013_neuraldata.py``), per unit:

1. Coherences are mapped to ranks. Sessions used slightly different coherence values, so each session's six
   distinct signed values per modality are mapped to ranks −3, −2, −1 (most negative first) and 1, 2, 3 (weakest
   positive first). The authors sort each unit's raw values and ignore the labels, which is the same ordering.
   The dataset stores the ranks and, as reference values, those of :data:`REFERENCE_FILE` (the authors' reference
   session) or, if that file is absent or unusable, of the first kept unit in file-name order.
2. Choice. For correct trials the choice follows the context: in the motion context choice 2 if the motion
   coherence is positive, otherwise 1; in the colour context choice 2 if the colour coherence (``stim_col2dir``)
   is positive, otherwise 1. The chosen target is read from ``targ_dir`` (−1 → choice 1, +1 → choice 2;
   ``targ_dir`` coded 1/2 is taken as is); without ``targ_dir`` it is the choice the context asks for on correct
   trials and the other one for incorrect trials. A correct trial whose ``targ_dir`` contradicts the context raises an
   error, because the condition order shared with the model would then be wrong.
3. Trials are grouped by (choice, motion rank, colour rank, context), i.e. the authors' (``targ_dir``,
   ``stim_dir``, ``stim_col2dir``, ``context``); groups containing an incorrect trial are dropped (as
   ``targ_dir`` is the chosen target, these are exactly the error trials); each group is trial-averaged.
4. The 751 samples are binned by non-overlapping means of ``dt_ms`` (15) samples: the first 750 samples give 50
   bins; the 751st sample is dropped. Spikes per sample are converted to spikes/s.
5. Units with all 72 conditions (2 contexts × 6 motion × 6 colour coherences; the choice is fixed by these for
   correct trials) are kept (727 units for monkey "ar" in the authors' count).

Conditions are sorted ascending by (choice, motion coherence, colour coherence, context) with context coded
+1 = motion, −1 = colour (as in the authors' code, so colour comes before motion for equal coherences).

Time. ``time`` holds bin centres in ms: ``t0 + dt_ms·k + dt_ms/2``, where ``t0`` is the time of the first sample
read from ``unit.time`` (converted from seconds when its step is 0.001) or given as ``time_origin_ms``; the files
are assumed to be aligned to stimulus onset ("Vstim" in the file names; ``unit.time`` = 0 at stimulus onset). If
``unit.time`` starts at 0 this gives 7.5, 22.5, …, 742.5 ms. (The suffix ``Vstim_100_850_ms`` of the upstream
names may mean that the samples span 100–850 ms after onset; the times then start at 107.5 ms. Either way the
authors map the 50 bins onto model steps 23–72, which :class:`biocredit.tasks.mante.ManteTask` keeps; pass
``time_origin_ms=0`` to label the bins 7.5 … 742.5 ms regardless.)
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, BinaryIO

import numpy as np
import xarray as xr

import biocredit
from biocredit.contexts import context_choice
from biocredit.data.fetch import ChecksumError, RemoteFile, _copy_from_mirror, _download, fetch
from biocredit.io import atomic_path, sha256_file, write_json

__all__ = [
    "MANTE_KEY",
    "MANTE_URL",
    "MANTE_RELPATH",
    "LOCK_FILE",
    "MONKEY_FOLDERS",
    "REFERENCE_FILE",
    "MatFileVersionError",
    "UnsafeZipError",
    "read_lock",
    "record_or_verify",
    "unzip_atomic",
    "read_unit",
    "UnitAverages",
    "unit_condition_averages",
    "expected_conditions",
    "preprocess_mante",
    "load_mante",
    "fetch_mante",
    "mante_remote_file",
    "make_fake_mante_folder",
    "make_fake_mante_zip",
]

log = logging.getLogger(__name__)

MANTE_KEY = "mante2013"
MANTE_URL = "https://www.ini.uzh.ch/dam/jcr:ca4213cf-1692-4c3d-8aeb-d4c5081d2fd1/PFC%20data.zip"
MANTE_RELPATH = "mante2013/PFC data.zip"
#: checked-in lock file: registry name -> {"sha256": hex digest, "size": bytes}
LOCK_FILE = Path(__file__).with_name("checksums.json")
ZIP_ROOT = "PFC data"
#: monkey -> folder inside ``PFC data``
MONKEY_FOLDERS: dict[str, str] = {"ar": "PFC data 1", "fe": "PFC data 2"}
#: the authors' reference session for coherence labels (monkey "ar")
REFERENCE_FILE = "ar090313_1_a1_Vstim_100_850_ms.mat"
REQUIRED_TASK_FIELDS = ("stim_dir", "stim_col2dir", "context", "correct")
#: canonical context codes (as the authors' model code): +1 motion, -1 colour
CONTEXT_NAMES: dict[int, str] = {1: "motion", -1: "colour"}
_CITATION = (
    "Mante, Sussillo, Shenoy & Newsome (2013), Nature 503:78-84; data from the Mante lab "
    "(https://www.ini.uzh.ch/en/research/groups/mante/data.html); preprocessing after Liu, Yang & Cueva (2025), "
    "github.com/Helena-Yuhan-Liu/LearningRuleSimilarities"
)


class MatFileVersionError(ValueError):
    """A MATLAB file is in a format scipy cannot read (v7.3 / HDF5)."""


class UnsafeZipError(ValueError):
    """A zip archive holds an entry that would be written outside the extraction folder."""


# --------------------------------------------------------------------------------------------------------------
# checksum lock
# --------------------------------------------------------------------------------------------------------------


def read_lock(lock_file: str | os.PathLike = LOCK_FILE) -> dict[str, dict[str, Any]]:
    """The lock file's mapping ``name -> {"sha256", "size"}`` (empty when the file does not exist)."""
    lock_file = Path(lock_file)
    if not lock_file.exists():
        return {}
    text = lock_file.read_text()
    try:
        data = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as err:
        raise ValueError(f"checksum lock file {lock_file} is not valid JSON: {err}") from err
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ValueError(f"checksum lock file {lock_file} must map names to {{'sha256': ..., 'size': ...}}")
    return data


@contextlib.contextmanager
def _exclusive(folder: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``folder`` (serialises lock-file updates; no-op where flock is missing)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def record_or_verify(
    path: str | os.PathLike, lock_file: str | os.PathLike = LOCK_FILE, key: str = MANTE_KEY
) -> str:
    """Verify ``path`` against the digest recorded under ``key`` in ``lock_file``, or record it if there is none.

    The first successful use records ``{"sha256": ..., "size": ...}`` under ``key`` (the lock file is rewritten
    atomically, under an exclusive lock on its folder); every later use checks size and SHA-256.

    Args:
        path: the file to check.
        lock_file: JSON lock file (created if missing).
        key: the name the file is recorded under.

    Returns:
        The file's SHA-256 hex digest.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ChecksumError: the file differs from the recorded digest or size (message names file, expected, actual).
        ValueError: the lock file is malformed.
    """
    path, lock_file = Path(path), Path(lock_file)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(lock_file.parent):
        lock = read_lock(lock_file)
        size = path.stat().st_size
        actual = sha256_file(path)
        entry = lock.get(key)
        if entry is not None:
            expected = str(entry.get("sha256", "")).lower()
            expected_size = entry.get("size")
            if len(expected) != 64:
                raise ValueError(f"checksum lock file {lock_file}: entry {key!r} has no valid 'sha256'")
            if actual != expected or (expected_size is not None and int(expected_size) != size):
                raise ChecksumError(
                    f"SHA-256 mismatch for {path} (lock file {lock_file}, entry {key!r}): expected {expected} "
                    f"({expected_size} bytes), got {actual} ({size} bytes)"
                )
            log.info("verified %s against %s[%r] (sha256 %s)", path, lock_file, key, actual)
            return actual
        lock[key] = {"sha256": actual, "size": size}
        write_json(dict(sorted(lock.items())), lock_file)
    log.warning(
        "recorded the SHA-256 of %s (%s, %d bytes) under %r in %s; commit that file so later uses are verified",
        path, actual, size, key, lock_file,
    )
    return actual


# --------------------------------------------------------------------------------------------------------------
# zip handling
# --------------------------------------------------------------------------------------------------------------


def _check_member(name: str, zip_path: Path) -> None:
    """Refuse absolute paths, drive letters and ``..`` components (zip-slip)."""
    posix = name.replace("\\", "/")
    if posix.startswith("/") or PureWindowsPath(name).drive or PureWindowsPath(name).root:
        raise UnsafeZipError(f"{zip_path}: refusing to extract zip entry {name!r}: it is an absolute path")
    if ".." in PurePosixPath(posix).parts:
        raise UnsafeZipError(
            f"{zip_path}: refusing to extract zip entry {name!r}: its '..' would escape the extraction folder"
        )


def _open_zip(zip_path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(zip_path)
    except zipfile.BadZipFile as err:
        raise ValueError(f"{zip_path} is not a valid zip file: {err}") from err


def unzip_atomic(zip_path: str | os.PathLike, out_dir: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Extract a zip archive into ``out_dir`` atomically.

    Every entry is checked first (absolute paths and ``..`` are refused, so nothing is written); the archive is
    extracted into a temporary folder beside ``out_dir`` and renamed into place, so ``out_dir`` appears whole or
    not at all.

    Args:
        zip_path: the archive.
        out_dir: the folder to create (its parent is created if needed).
        overwrite: replace an existing ``out_dir`` (otherwise an existing one raises FileExistsError).

    Returns:
        ``out_dir`` as a Path.

    Raises:
        UnsafeZipError: an entry has an absolute path or a ``..`` component.
        ValueError: the file is not a zip archive.
        FileExistsError: ``out_dir`` exists and ``overwrite`` is false.
    """
    zip_path, out_dir = Path(zip_path), Path(out_dir)
    if out_dir.exists() and not overwrite:
        raise FileExistsError(f"{out_dir} already exists; pass overwrite=True to replace it")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with _open_zip(zip_path) as zf:
        for info in zf.infolist():
            _check_member(info.filename, zip_path)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
        try:
            zf.extractall(tmp)
            if out_dir.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".old", dir=out_dir.parent))
                os.replace(out_dir, old / "d")
                os.replace(tmp, out_dir)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, out_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return out_dir


# --------------------------------------------------------------------------------------------------------------
# reading one unit
# --------------------------------------------------------------------------------------------------------------


def _is_v73(header: bytes) -> bool:
    """MATLAB v7.3 files are HDF5 with a 128-byte MAT header whose version word is 0x0200."""
    if len(header) < 128:
        return False
    if header[126:128] == b"IM":
        version = int.from_bytes(header[124:126], "little")
    elif header[126:128] == b"MI":
        version = int.from_bytes(header[124:126], "big")
    else:
        return False
    return version == 0x0200 or header.startswith(b"MATLAB 7.3")


def _v73_error(label: str) -> MatFileVersionError:
    return MatFileVersionError(
        f"{label}: MATLAB v7.3 (HDF5) files are not supported; re-save it in MATLAB with save(file, 'unit', '-v7')"
    )


def _struct_fields(obj: Any) -> list[str]:
    return list(getattr(obj, "_fieldnames", []) or [])


def read_unit(mat_path: str | os.PathLike | bytes | BinaryIO, *, name: str | None = None) -> dict[str, Any]:
    """Read one upstream unit file (MATLAB v5 struct ``unit``).

    Loaded with ``scipy.io.loadmat(squeeze_me=True, struct_as_record=False)``.

    Args:
        mat_path: a file path, the file's bytes, or a binary file object (e.g. a zip member).
        name: label used in messages (defaults to the path).

    Returns:
        ``{"name", "time", "response", "task_variable"}``: ``time`` a float 1-D array or ``None`` when the struct
        has no ``time`` field; ``response`` float64 (trials, samples) (sparse matrices are densified; a single
        trial becomes one row); ``task_variable`` a dict of field name -> 1-D array (all fields of the struct).

    Raises:
        FileNotFoundError: no such file.
        MatFileVersionError: a MATLAB v7.3 (HDF5) file.
        ValueError: not a MATLAB file, no ``unit`` struct, or a missing ``response``/``task_variable`` field
            (the message names the file and the field).
    """
    import scipy.io
    import scipy.sparse

    if isinstance(mat_path, (str, os.PathLike)):
        label = name or str(mat_path)
        if not Path(mat_path).is_file():
            raise FileNotFoundError(f"{label}: no such file")
        raw = Path(mat_path).read_bytes()
    else:
        label = name or "<in-memory MATLAB file>"
        raw = bytes(mat_path) if isinstance(mat_path, (bytes, bytearray)) else mat_path.read()
    if _is_v73(raw[:128]):
        raise _v73_error(label)
    try:
        contents = scipy.io.loadmat(io.BytesIO(raw), squeeze_me=True, struct_as_record=False)
    except NotImplementedError as err:  # scipy's message for v7.3 files
        raise _v73_error(label) from err
    except Exception as err:  # noqa: BLE001 - scipy raises many types for corrupt files
        raise ValueError(f"{label}: not a readable MATLAB (v5) file: {type(err).__name__}: {err}") from err
    variables = sorted(k for k in contents if not k.startswith("__"))
    if "unit" not in contents:
        raise ValueError(f"{label}: no variable 'unit' (the file holds {variables})")
    unit = contents["unit"]
    fields = _struct_fields(unit)
    if not fields:
        raise ValueError(f"{label}: variable 'unit' is not a MATLAB struct (got {type(unit).__name__})")
    for field in ("response", "task_variable"):
        if field not in fields:
            raise ValueError(f"{label}: struct 'unit' has no field {field!r} (fields: {fields})")

    response = unit.response
    if scipy.sparse.issparse(response):
        response = response.toarray()
    response = np.asarray(response, dtype=np.float64)
    if response.ndim == 1:
        response = response[None, :]
    if response.ndim != 2:
        raise ValueError(f"{label}: unit.response should be 2-D (trials, samples), got shape {response.shape}")

    time = None
    if "time" in fields:
        time = np.asarray(unit.time, dtype=np.float64).ravel()

    tv = unit.task_variable
    tv_fields = _struct_fields(tv)
    if not tv_fields:
        raise ValueError(f"{label}: unit.task_variable is not a MATLAB struct (got {type(tv).__name__})")
    task_variable = {}
    for f in tv_fields:
        value = getattr(tv, f)
        if scipy.sparse.issparse(value):
            value = value.toarray()
        task_variable[f] = np.atleast_1d(np.asarray(value)).ravel() if np.ndim(value) <= 2 else np.asarray(value)
    return {"name": label, "time": time, "response": response, "task_variable": task_variable}


# --------------------------------------------------------------------------------------------------------------
# per-unit condition averages
# --------------------------------------------------------------------------------------------------------------


@dataclass
class UnitAverages:
    """Condition-averaged, binned rates of one unit.

    Attributes:
        name: file name of the unit.
        keys: condition keys ``(choice, motion_rank, colour_rank, context_code)``, sorted ascending.
        rates: ``(condition, bin)`` spikes/s, rows in the order of ``keys``.
        motion_values, colour_values: rank -> signed coherence of this session.
        t0_ms: time of the first sample (ms).
        sample_ms: sample spacing (ms).
        n_trials: number of trials averaged per condition (same order as ``keys``).
    """

    name: str
    keys: list[tuple[int, int, int, int]]
    rates: np.ndarray
    motion_values: dict[int, float]
    colour_values: dict[int, float]
    t0_ms: float
    sample_ms: float
    n_trials: np.ndarray


def _field(tv: dict[str, np.ndarray], field: str, n_trials: int, label: str) -> np.ndarray:
    if field not in tv:
        raise ValueError(
            f"{label}: unit.task_variable has no field {field!r} (fields present: {sorted(tv)}); "
            f"required: {list(REQUIRED_TASK_FIELDS)}"
        )
    value = tv[field]
    try:
        value = np.asarray(value, dtype=np.float64).ravel()
    except (TypeError, ValueError) as err:
        raise ValueError(f"{label}: unit.task_variable.{field} is not numeric ({value.dtype})") from err
    if value.shape != (n_trials,):
        raise ValueError(
            f"{label}: unit.task_variable.{field} has {value.size} entries but unit.response has {n_trials} trials"
        )
    return value


def _time_base(time: np.ndarray | None, n_samples: int, label: str) -> tuple[float, float]:
    """``(t0_ms, sample_ms)`` from ``unit.time`` (seconds if its step is ~0.001, ms if ~1)."""
    if time is None:
        log.warning("%s: unit has no 'time' field; assuming 1 ms samples starting at stimulus onset", label)
        return 0.0, 1.0
    if time.size != n_samples:
        raise ValueError(f"{label}: unit.time has {time.size} samples but unit.response has {n_samples}")
    step = float(np.median(np.diff(time))) if time.size > 1 else 0.001
    if np.isclose(step, 0.001, rtol=1e-3):
        scale = 1000.0
    elif np.isclose(step, 1.0, rtol=1e-3):
        scale = 1.0
    else:
        raise ValueError(f"{label}: unit.time has step {step}; expected 0.001 (s) or 1 (ms) between samples")
    return round(float(time[0]) * scale, 6), round(step * scale, 6)


def _ranks(values: np.ndarray, n_levels: int) -> tuple[np.ndarray, dict[int, float]] | None:
    """Signed ranks (−n..−1, 1..n) of signed coherences, or None unless there are n distinct values per sign."""
    neg = np.unique(values[values < 0])
    pos = np.unique(values[values > 0])
    if len(neg) != n_levels or len(pos) != n_levels or np.any(values == 0):
        return None
    table = {**{-n_levels + i: float(v) for i, v in enumerate(neg)}, **{i + 1: float(v) for i, v in enumerate(pos)}}
    lookup = {v: r for r, v in table.items()}
    return np.array([lookup[float(v)] for v in values], dtype=np.int64), table


def _context_codes(context: np.ndarray, label: str) -> np.ndarray:
    codes = np.zeros(context.shape, dtype=np.int64)
    codes[context == 1] = 1
    codes[(context == -1) | (context == 2)] = -1
    bad = np.unique(context[codes == 0])
    if bad.size:
        raise ValueError(f"{label}: unit.task_variable.context has values {bad.tolist()}; expected 1 (motion) "
                         "and -1 or 2 (colour)")
    return codes


def unit_condition_averages(
    unit: dict[str, Any], *, dt_ms: float = 15, n_samples: int = 751, n_levels: int = 3
) -> UnitAverages | str:
    """Condition-average and bin one unit (steps 1–4 of the module docstring).

    Args:
        unit: the dict returned by :func:`read_unit`.
        dt_ms: bin width (ms).
        n_samples: expected samples per trial (751).
        n_levels: distinct coherences per sign and modality (3).

    Returns:
        The unit's :class:`UnitAverages`, or a string saying why the unit cannot be used (its session does not
        have ``n_levels`` distinct coherences of each sign in both modalities).

    Raises:
        ValueError: the file is malformed (missing field, wrong lengths, unknown codes) or a correct trial's
            ``targ_dir`` contradicts the choice the context asks for.
    """
    label = unit["name"]
    response = unit["response"]
    n_trials, width = response.shape
    if width != n_samples:
        raise ValueError(f"{label}: unit.response has {width} samples per trial, expected {n_samples}")
    t0_ms, sample_ms = _time_base(unit["time"], n_samples, label)
    window = int(round(dt_ms / sample_ms))
    if window < 1 or not np.isclose(window * sample_ms, dt_ms):
        raise ValueError(f"{label}: bin width {dt_ms} ms is not a multiple of the {sample_ms} ms sample spacing")
    n_bins = n_samples // window

    tv = unit["task_variable"]
    motion, colour, context, correct = (_field(tv, f, n_trials, label) for f in REQUIRED_TASK_FIELDS)
    targ = _field(tv, "targ_dir", n_trials, label) if "targ_dir" in tv else None
    usable = np.isfinite(motion) & np.isfinite(colour) & np.isfinite(context) & np.isfinite(correct)
    if targ is not None:
        usable &= np.isfinite(targ)
    motion, colour, context, correct = motion[usable], colour[usable], context[usable], correct[usable] != 0
    rows = response[usable]

    m = _ranks(motion, n_levels)
    c = _ranks(colour, n_levels)
    if m is None or c is None:
        which = "motion (stim_dir)" if m is None else "colour (stim_col2dir)"
        values = np.unique(motion if m is None else colour)
        return f"{which} coherences {values.tolist()} are not {n_levels} distinct negative and positive values"
    (m_rank, m_table), (c_rank, c_table) = m, c
    ctx = _context_codes(context, label)
    asked = context_choice(ctx, m_rank, c_rank)
    if targ is not None:
        targ = targ[usable]
        levels = set(np.unique(targ).tolist())
        if levels <= {-1.0, 1.0}:
            chosen = np.where(targ > 0, 2, 1)
        elif levels <= {1.0, 2.0}:
            chosen = targ.astype(np.int64)
        else:
            raise ValueError(f"{label}: unit.task_variable.targ_dir has values {sorted(levels)}; expected ±1 or 1/2")
    else:
        chosen = np.where(correct, asked, 3 - asked)

    keys = np.stack([chosen, m_rank, c_rank, ctx], axis=1)
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    kept_keys, kept_rates, kept_n = [], [], []
    scale = 1000.0 / sample_ms
    for g, key in enumerate(uniq):
        idx = np.flatnonzero(inverse == g)
        if not correct[idx].all():
            continue  # the authors drop every group that contains an incorrect trial
        if key[0] != asked[idx[0]]:
            raise ValueError(
                f"{label}: correct trials with context {CONTEXT_NAMES[int(key[3])]}, motion coherence "
                f"{m_table[int(key[1])]}, colour coherence {c_table[int(key[2])]} have targ_dir giving choice "
                f"{int(key[0])}, but the context asks for {int(asked[idx[0]])}; the assumed sign convention "
                "(targ_dir = +1 for positive relevant coherence) does not hold for this file"
            )
        mean = rows[idx, : n_bins * window].mean(axis=0)
        kept_rates.append(mean.reshape(n_bins, window).mean(axis=1) * scale)
        kept_keys.append(tuple(int(v) for v in key))
        kept_n.append(idx.size)
    rates = np.array(kept_rates).reshape(len(kept_keys), n_bins)
    return UnitAverages(label, kept_keys, rates, m_table, c_table, t0_ms, sample_ms, np.array(kept_n))


def expected_conditions(n_levels: int = 3) -> list[tuple[int, int, int, int]]:
    """All condition keys ``(choice, motion_rank, colour_rank, context_code)`` in the canonical (sorted) order."""
    ranks = [*range(-n_levels, 0), *range(1, n_levels + 1)]
    keys = []
    for ctx in (-1, 1):
        for mr in ranks:
            for cr in ranks:
                choice = int(context_choice(np.array([ctx]), np.array([mr]), np.array([cr]))[0])
                keys.append((choice, mr, cr, ctx))
    return sorted(keys)


# --------------------------------------------------------------------------------------------------------------
# whole dataset
# --------------------------------------------------------------------------------------------------------------


def _monkey_folder(monkey: str) -> str:
    if monkey not in MONKEY_FOLDERS:
        raise ValueError(f"unknown monkey {monkey!r}; known: {sorted(MONKEY_FOLDERS)}")
    return MONKEY_FOLDERS[monkey]


def _resolve_folder(folder: Path, monkey: str) -> Path:
    sub = _monkey_folder(monkey)
    for candidate in (folder / ZIP_ROOT / sub, folder / sub):
        if candidate.is_dir():
            return candidate
    if folder.is_dir() and any(p.suffix.lower() == ".mat" for p in folder.iterdir()):
        return folder  # the monkey's folder itself
    raise FileNotFoundError(
        f"{folder}: found neither '{ZIP_ROOT}/{sub}' nor '{sub}' nor .mat files for monkey {monkey!r}"
    )


def _is_unit_member(name: str, sub: str) -> bool:
    parts = PurePosixPath(name.replace("\\", "/")).parts
    return (
        len(parts) >= 2
        and parts[-2] == sub
        and parts[-1].lower().endswith(".mat")
        and not parts[-1].startswith("._")
        and "__MACOSX" not in parts
    )


def _select_event(names: list[str], event: str | None, where: str) -> list[str]:
    """Keep the file names containing ``event`` (all when ``event`` is None); none left raises."""
    if event is None:
        return names
    kept = [n for n in names if event in Path(n).name]
    if not kept:
        raise FileNotFoundError(f"{where}: none of the {len(names)} .mat files has {event!r} in its name")
    return kept


def _iter_units(source: Path, monkey: str, event: str | None = "Vstim") -> Iterator[dict[str, Any]]:
    """Read every unit of ``monkey`` from a zip archive or an extracted folder, in file-name order."""
    if source.is_file():
        sub = _monkey_folder(monkey)
        with _open_zip(source) as zf:
            members = sorted((m for m in zf.namelist() if _is_unit_member(m, sub)), key=lambda m: Path(m).name)
            if not members:
                tops = sorted({PurePosixPath(m).parts[0] for m in zf.namelist() if m})
                raise ValueError(f"{source}: no .mat files under a folder {sub!r} (top-level entries: {tops})")
            for member in _select_event(members, event, f"{source}:{sub}"):
                yield read_unit(zf.read(member), name=f"{source}:{member}")
        return
    folder = _resolve_folder(source, monkey)
    files = sorted(p.name for p in folder.iterdir() if p.suffix.lower() == ".mat" and not p.name.startswith("._"))
    if not files:
        raise FileNotFoundError(f"{folder}: no .mat files")
    for name in _select_event(files, event, str(folder)):
        yield read_unit(folder / name)


def _short(name: str) -> str:
    return Path(name.rsplit(":", 1)[-1]).name


def preprocess_mante(
    folder: str | os.PathLike,
    monkey: str = "ar",
    dt_ms: float = 15,
    n_samples: int = 751,
    *,
    n_levels: int = 3,
    time_origin_ms: float | None = None,
    reference_file: str = REFERENCE_FILE,
    event: str | None = "Vstim",
    sha256: str | None = None,
) -> xr.Dataset:
    """Turn the upstream unit files of one monkey into the NetCDF contract (see the module docstring).

    Args:
        folder: the extracted archive (a folder holding ``PFC data/PFC data N``, or ``PFC data``, or the monkey's
            folder itself) or the zip archive (read without extracting).
        monkey: "ar" (``PFC data 1``) or "fe" (``PFC data 2``).
        dt_ms: bin width in ms (15).
        n_samples: samples per trial in the files (751); ``n_samples // dt_ms`` bins are kept.
        n_levels: distinct coherences per sign and modality (3, giving 72 conditions).
        time_origin_ms: time of the first sample re stimulus onset; ``None`` reads it from ``unit.time``.
        reference_file: file name whose coherence values label the conditions (falls back to the first kept unit).
        event: only files whose name contains this alignment tag are read ("Vstim": aligned to the onset of the
            random dots, as the upstream ``*_Vstim_100_850_ms.mat`` files); ``None`` reads every ``.mat`` file.
        sha256: digest of the source archive, stored as an attribute when given.

    Returns:
        Dataset with ``rate(unit, time, condition)`` (spikes/s), ``n_trials(unit, condition)``, coords ``unit``,
        ``unit_name(unit)``, ``time`` (ms, bin centres re stimulus onset), ``condition``, and per condition
        ``context`` ("motion"/"colour"), ``motion_rank``, ``colour_rank``, ``motion_coherence``,
        ``colour_coherence`` (reference values) and ``choice`` (1/2); provenance attributes.

    Raises:
        ValueError: a file is malformed, units disagree on their time base, or no unit has all conditions.
        FileNotFoundError: the folder layout is not recognised.
    """
    source = Path(folder)
    expected = expected_conditions(n_levels)
    kept: list[UnitAverages] = []
    dropped_missing: list[str] = []
    dropped_levels: list[str] = []
    n_files = 0
    for unit in _iter_units(source, monkey, event):
        n_files += 1
        result = unit_condition_averages(unit, dt_ms=dt_ms, n_samples=n_samples, n_levels=n_levels)
        if isinstance(result, str):
            log.info("dropping %s: %s", unit["name"], result)
            dropped_levels.append(_short(unit["name"]))
        elif result.keys != expected:
            log.info("dropping %s: has %d of the %d conditions", unit["name"], len(result.keys), len(expected))
            dropped_missing.append(_short(unit["name"]))
        else:
            kept.append(result)
    if not kept:
        raise ValueError(
            f"{source}: none of the {n_files} unit files of monkey {monkey!r} has all {len(expected)} conditions "
            f"({len(dropped_missing)} lack conditions, {len(dropped_levels)} have other coherence levels)"
        )
    bases = {(u.t0_ms, u.sample_ms) for u in kept}
    if len(bases) > 1:
        raise ValueError(f"{source}: units disagree on their time base (t0 ms, sample ms): {sorted(bases)}")
    t0_ms, sample_ms = bases.pop()
    if time_origin_ms is not None:
        t0_ms = float(time_origin_ms)
    n_bins = kept[0].rates.shape[1]
    time = t0_ms + dt_ms * np.arange(n_bins) + dt_ms / 2

    names = [_short(u.name) for u in kept]
    ref = kept[names.index(reference_file)] if reference_file in names else kept[0]
    n_differ = sum(u.motion_values != ref.motion_values or u.colour_values != ref.colour_values for u in kept)
    keys = np.array(expected)
    rate = np.stack([u.rates.T for u in kept])  # (unit, time, condition)
    n_trials = np.stack([u.n_trials for u in kept])
    coords = {
        "unit": np.arange(len(kept)),
        "unit_name": ("unit", np.array(names, dtype=str)),
        "time": ("time", time, {"units": "ms", "long_name": "bin centre, time relative to stimulus onset"}),
        "condition": np.arange(len(expected)),
        "context": ("condition", np.array([CONTEXT_NAMES[int(k)] for k in keys[:, 3]], dtype=str)),
        "motion_rank": ("condition", keys[:, 1], {"long_name": "signed rank of the motion coherence"}),
        "colour_rank": ("condition", keys[:, 2], {"long_name": "signed rank of the colour coherence"}),
        "motion_coherence": (
            "condition",
            np.array([ref.motion_values[int(r)] for r in keys[:, 1]]),
            {"long_name": "signed motion coherence (stim_dir) of the reference session"},
        ),
        "colour_coherence": (
            "condition",
            np.array([ref.colour_values[int(r)] for r in keys[:, 2]]),
            {"long_name": "signed colour coherence (stim_col2dir) of the reference session"},
        ),
        "choice": (
            "condition",
            keys[:, 0],
            {"long_name": "correct choice: 2 = preferred target (targ_dir +1, positive relevant coherence), 1 = other"},
        ),
    }
    data_vars = {
        "rate": (
            ("unit", "time", "condition"),
            rate,
            {"units": "spikes/s", "long_name": "trial-averaged firing rate (correct trials)"},
        ),
        "n_trials": (("unit", "condition"), n_trials, {"long_name": "correct trials averaged"}),
    }
    attrs: dict[str, str | int | float] = {
        "dataset": "mante2013",
        "area": "PFC",
        "species": "macaque",
        "monkey": monkey,
        "alignment_event": "stimulus onset",
        "file_event_tag": event or "",
        "time_units": "ms",
        "bin_ms": float(dt_ms),
        "sample_ms": float(sample_ms),
        "first_sample_ms": float(t0_ms),
        "source_url": MANTE_URL,
        "preprocessing": (
            "Per unit: correct trials grouped by (choice, motion coherence, colour coherence, context), groups "
            "containing an incorrect trial dropped, trial-averaged, binned by non-overlapping means of "
            f"{dt_ms:g} ms over the first {n_bins * dt_ms:g} ms of the stimulus epoch, converted to spikes/s; "
            f"units with all {len(expected)} conditions kept; coherences mapped to per-session signed ranks; "
            "conditions sorted by (choice, motion coherence, colour coherence, context with colour=-1, motion=+1)."
        ),
        "choice_derivation": (
            "choice = 1 if targ_dir == -1 else 2 (equals the choice the context asks for on correct trials)"
        ),
        "coherence_reference_file": _short(ref.name),
        "n_unit_files": n_files,
        "n_units_dropped_missing_conditions": len(dropped_missing),
        "n_units_dropped_coherence_levels": len(dropped_levels),
        "n_units_coherences_differ_from_reference": int(n_differ),
        "citation": _CITATION,
        "biocredit_version": biocredit.__version__,
    }
    if sha256:
        attrs["sha256"] = sha256.lower()
    log.info(
        "mante2013 monkey %s: kept %d of %d units (%d lacking conditions, %d other coherence levels)",
        monkey, len(kept), n_files, len(dropped_missing), len(dropped_levels),
    )
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def load_mante(
    raw_path: str | os.PathLike,
    monkey: str = "ar",
    dt_ms: float = 15,
    *,
    lock_file: str | os.PathLike = LOCK_FILE,
    key: str = MANTE_KEY,
    **kwargs: Any,
) -> xr.Dataset:
    """Verify (or, on first use, record) the zip's SHA-256 in the lock file, then :func:`preprocess_mante` it.

    Extra keyword arguments go to :func:`preprocess_mante`.
    """
    digest = record_or_verify(raw_path, lock_file, key)
    return preprocess_mante(raw_path, monkey, dt_ms, sha256=digest, **kwargs)


def fetch_mante(
    dest: str | os.PathLike,
    *,
    mirror: Path | None = None,
    lock_file: str | os.PathLike = LOCK_FILE,
    key: str = MANTE_KEY,
    url: str = MANTE_URL,
    mirror_relpath: str = MANTE_RELPATH,
    timeout: float = 600,
) -> Path:
    """Obtain ``PFC data.zip`` at ``dest`` from ``mirror / mirror_relpath`` or by downloading ``url``.

    With a digest recorded in ``lock_file`` this is :func:`biocredit.data.fetch.fetch` with that digest.
    Without one the file is obtained into a temporary file beside ``dest``, checked to be a zip archive, renamed
    into place, and its digest recorded (:func:`record_or_verify`).

    Raises:
        ChecksumError: the obtained file differs from the recorded digest.
        DataUnavailableError: the mirror file is missing or the download failed.
        ValueError: the obtained file is not a zip archive (nothing is left at ``dest``).
    """
    dest = Path(dest)
    entry = read_lock(lock_file).get(key)
    if entry is not None:
        return fetch(url, dest, str(entry["sha256"]), mirror=mirror, mirror_relpath=mirror_relpath,
                     timeout=timeout)
    with atomic_path(dest) as tmp:
        if mirror is not None:
            log.info("copying %s -> %s", Path(mirror) / mirror_relpath, dest)
            _copy_from_mirror(Path(mirror) / mirror_relpath, tmp)
        else:
            log.info("downloading %s -> %s", url, dest)
            _download(url, tmp, timeout)
        if not zipfile.is_zipfile(tmp):
            raise ValueError(f"{url if mirror is None else Path(mirror) / mirror_relpath} is not a zip archive")
    record_or_verify(dest, lock_file, key)
    return dest


def mante_remote_file(lock_file: str | os.PathLike = LOCK_FILE) -> RemoteFile:
    """Registry entry for the zip; ``sha256``/``size`` come from the lock file ("" and 0 until recorded)."""
    entry = read_lock(lock_file).get(MANTE_KEY, {})
    return RemoteFile(
        name=MANTE_KEY,
        url=MANTE_URL,
        sha256=str(entry.get("sha256", "")),
        size=int(entry.get("size", 0)),
        relpath=MANTE_RELPATH,
        description=(
            "Mante et al. (2013) macaque PFC single units, context-dependent integration task (PFC data.zip, "
            "monkeys 'ar' and 'fe'); SHA-256 recorded on first download in biocredit/data/checksums.json"
        ),
    )


# --------------------------------------------------------------------------------------------------------------
# fake files for tests and the workflow's dry runs
# --------------------------------------------------------------------------------------------------------------

_FAKE_MOTION = ((0.05, 0.15, 0.5), (0.04, 0.16, 0.5))
_FAKE_COLOUR = ((0.06, 0.18, 0.5), (0.07, 0.19, 0.5))


def make_fake_mante_folder(
    folder: str | os.PathLike,
    n_units: int = 4,
    n_trials_per_condition: int = 3,
    seed: int = 0,
    drop_condition_for_unit: int | None = None,
    *,
    monkey: str = "ar",
    n_samples: int = 751,
    t0_s: float = 0.0,
) -> list[Path]:
    """Write small unit files in the upstream layout (struct ``unit`` with ``time``, ``response``, ``task_variable``).

    Every unit has ``n_trials_per_condition`` correct trials in each of the 72 conditions plus one incorrect trial
    (``targ_dir`` flipped, ``correct`` 0, higher firing) for each condition with the weakest relevant coherence.
    Units alternate between two sets of coherence values and between context codes −1 and 2 for colour, to
    exercise the rank mapping. Unit 0 is named :data:`REFERENCE_FILE` (when ``monkey`` is "ar"). For unit
    ``drop_condition_for_unit`` the trials of the first condition (choice 1, motion rank −3, colour rank −3,
    colour context) are all incorrect, so that unit lacks a condition. Trial order is shuffled.

    Returns:
        The written file paths (unit order).
    """
    import scipy.io

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    ranks = [-3, -2, -1, 1, 2, 3]
    t = np.arange(n_samples)
    paths = []
    for u in range(n_units):
        mvals = dict(zip(ranks, [-v for v in _FAKE_MOTION[u % 2][::-1]] + list(_FAKE_MOTION[u % 2]), strict=True))
        cvals = dict(zip(ranks, [-v for v in _FAKE_COLOUR[u % 2][::-1]] + list(_FAKE_COLOUR[u % 2]), strict=True))
        colour_code = -1 if u % 2 == 0 else 2
        trials: list[tuple[float, float, float, float, float, np.ndarray]] = []
        for ctx in (-1, 1):
            for mr in ranks:
                for cr in ranks:
                    relevant = mr if ctx == 1 else cr
                    targ = 1 if relevant > 0 else -1  # targ_dir of the correct choice
                    drop = u == drop_condition_for_unit and (ctx, mr, cr) == (-1, -3, -3)
                    base = 0.02 + 0.005 * u + 0.004 * mr + 0.002 * cr + 0.006 * (ctx == 1)
                    p = np.clip(base + 0.03 * targ * t / n_samples, 0.001, 0.5)
                    n_err = 1 if abs(relevant) == 1 else 0
                    for k in range(n_trials_per_condition + n_err):
                        ok = k < n_trials_per_condition and not drop
                        spikes = (rng.random(n_samples) < (p if ok else np.full(n_samples, 0.3))).astype(float)
                        ctx_value = 1.0 if ctx == 1 else float(colour_code)
                        trials.append((targ if ok else -targ, mvals[mr], cvals[cr], ctx_value, float(ok), spikes))
        order = rng.permutation(len(trials))
        trials = [trials[i] for i in order]
        targ, stim_dir, col2dir, context, correct, response = (np.array(v) for v in zip(*trials, strict=True))
        task_variable = {
            "targ_dir": targ,
            "stim_dir": stim_dir,
            "stim_col": col2dir * (1.0 if u % 2 == 0 else -1.0),
            "stim_col2dir": col2dir,
            "context": context,
            "correct": correct,
            "stim_trial": np.arange(1, len(trials) + 1, dtype=float),
        }
        unit = {"time": t0_s + t / 1000.0, "response": response, "task_variable": task_variable}
        name = REFERENCE_FILE if (u == 0 and monkey == "ar") else f"{monkey}0904{u:02d}_1_a1_Vstim_100_850_ms.mat"
        path = folder / name
        scipy.io.savemat(path, {"unit": unit}, do_compression=True)
        paths.append(path)
    return paths


def make_fake_mante_zip(zip_path: str | os.PathLike, monkey: str = "ar", **kwargs: Any) -> str:
    """Write a zip laid out like the upstream one (``PFC data/PFC data N/<unit>.mat``); return its SHA-256.

    Keyword arguments go to :func:`make_fake_mante_folder`.
    """
    sub = _monkey_folder(monkey)
    zip_path = Path(zip_path)
    with tempfile.TemporaryDirectory() as tmp:
        files = make_fake_mante_folder(Path(tmp) / sub, monkey=monkey, **kwargs)
        with atomic_path(zip_path) as out, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for f in files:
                zf.write(f, f"{ZIP_ROOT}/{sub}/{f.name}")
    return sha256_file(zip_path)
