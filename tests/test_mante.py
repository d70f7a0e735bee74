"""Tests for the Mante et al. (2013) PFC data (reader, preprocessing, zip, checksum lock) and the Mante task."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import torch
import torch.nn.functional as F
import xarray as xr

from biocredit.data.fetch import ChecksumError, DataUnavailableError
from biocredit.data.mante import (
    LOCK_FILE,
    MANTE_KEY,
    MANTE_RELPATH,
    MatFileVersionError,
    UnsafeZipError,
    expected_conditions,
    fetch_mante,
    load_mante,
    make_fake_mante_folder,
    make_fake_mante_zip,
    mante_remote_file,
    preprocess_mante,
    read_lock,
    read_unit,
    record_or_verify,
    unit_condition_averages,
    unzip_atomic,
)
from biocredit.io import sha256_file, write_netcdf
from biocredit.tasks.mante import DEFAULT_COHERENCES, ManteTask

N_SAMPLES = 751


# ----------------------------------------------------------------------------------------------------------------
# fixtures and an independent NumPy oracle
# ----------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fake_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("mante") / "PFC data" / "PFC data 1"
    make_fake_mante_folder(folder, n_units=4, n_trials_per_condition=3, seed=1, drop_condition_for_unit=2)
    return folder


@pytest.fixture(scope="module")
def fake_ds(fake_folder: Path) -> xr.Dataset:
    return preprocess_mante(fake_folder.parent.parent, monkey="ar")


def _raw(path: Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    unit = scipy.io.loadmat(path, simplify_cells=True)["unit"]
    task_variable = {k: np.asarray(v, float) for k, v in unit["task_variable"].items()}
    return np.asarray(unit["response"], dtype=float), task_variable


def _oracle(path: Path, context: str, motion_rank: int, colour_rank: int, include_incorrect: bool = False):
    """Trial average of one condition computed directly from the file: select, average, 15-ms bins, spikes/s."""
    response, tv = _raw(path)

    def value(field: str, rank: int) -> float:
        v = np.unique(tv[field])
        neg, pos = np.sort(v[v < 0]), np.sort(v[v > 0])
        return float(neg[rank + 3] if rank < 0 else pos[rank - 1])

    in_context = tv["context"] == 1 if context == "motion" else np.isin(tv["context"], (-1, 2))
    sel = in_context & (tv["stim_dir"] == value("stim_dir", motion_rank))
    sel &= tv["stim_col2dir"] == value("stim_col2dir", colour_rank)
    if not include_incorrect:
        sel &= tv["correct"] == 1
    mean = response[sel].mean(axis=0)
    return mean[:750].reshape(50, 15).mean(axis=1) * 1000.0, int(sel.sum())


def _cond_index(ds: xr.Dataset, context: str, motion_rank: int, colour_rank: int) -> int:
    hit = (ds.context.values == context) & (ds.motion_rank.values == motion_rank)
    hit &= ds.colour_rank.values == colour_rank
    (idx,) = np.flatnonzero(hit)
    return int(idx)


def _write_unit(path: Path, unit: dict) -> None:
    scipy.io.savemat(path, {"unit": unit}, do_compression=True)


# ----------------------------------------------------------------------------------------------------------------
# reader
# ----------------------------------------------------------------------------------------------------------------


def test_read_unit_fields(fake_folder: Path) -> None:
    path = sorted(fake_folder.glob("*.mat"))[0]
    unit = read_unit(path)
    assert unit["response"].shape[1] == N_SAMPLES and unit["response"].dtype == np.float64
    assert set(np.unique(unit["response"])) <= {0.0, 1.0}
    assert unit["time"].shape == (N_SAMPLES,)
    n_trials = unit["response"].shape[0]
    for field in ("targ_dir", "stim_dir", "stim_col2dir", "context", "correct"):
        assert unit["task_variable"][field].shape == (n_trials,)
    # bytes input (as for zip members) gives the same
    again = read_unit(path.read_bytes(), name="x.mat")
    np.testing.assert_array_equal(again["response"], unit["response"])


def test_missing_field_names_file_and_field(tmp_path: Path) -> None:
    make_fake_mante_folder(tmp_path / "f", n_units=1, n_trials_per_condition=1)
    path = next((tmp_path / "f").glob("*.mat"))
    response, tv = _raw(path)
    del tv["correct"]
    bad = tmp_path / "bad.mat"
    _write_unit(bad, {"time": np.arange(N_SAMPLES) / 1000, "response": response, "task_variable": tv})
    with pytest.raises(ValueError, match=r"bad\.mat.*'correct'"):
        unit_condition_averages(read_unit(bad))
    no_tv = tmp_path / "no_tv.mat"
    _write_unit(no_tv, {"time": np.arange(N_SAMPLES) / 1000, "response": response})
    with pytest.raises(ValueError, match=r"no_tv\.mat.*'task_variable'"):
        read_unit(no_tv)
    other = tmp_path / "other.mat"
    scipy.io.savemat(other, {"neuron": np.zeros(3)})
    with pytest.raises(ValueError, match=r"other\.mat.*no variable 'unit'"):
        read_unit(other)


def test_v73_file_gives_clear_error(tmp_path: Path) -> None:
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, HDF5 schema 1.00 .".ljust(116, b" ")
    path = tmp_path / "unit73.mat"
    path.write_bytes(header + b"\x00" * 8 + b"\x00\x02IM" + b"\x00" * 384)
    with pytest.raises(MatFileVersionError, match=r"unit73\.mat.*v7\.3"):
        read_unit(path)


def test_not_a_mat_file(tmp_path: Path) -> None:
    path = tmp_path / "junk.mat"
    path.write_bytes(b"hello" * 100)
    with pytest.raises(ValueError, match=r"junk\.mat"):
        read_unit(path)


# ----------------------------------------------------------------------------------------------------------------
# preprocessing
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unit_index", "context", "motion_rank", "colour_rank"),
    [(0, "motion", 2, -3), (1, "colour", -1, 1), (1, "motion", -1, 3), (2, "colour", 3, -1)],
)
def test_rates_match_numpy_oracle(fake_ds, fake_folder, unit_index, context, motion_rank, colour_rank) -> None:
    name = str(fake_ds.unit_name.values[unit_index])
    expected, n = _oracle(fake_folder / name, context, motion_rank, colour_rank)
    c = _cond_index(fake_ds, context, motion_rank, colour_rank)
    np.testing.assert_allclose(fake_ds.rate.isel(unit=unit_index, condition=c).values, expected, rtol=1e-12)
    assert n == 3 and int(fake_ds.n_trials.isel(unit=unit_index, condition=c)) == 3


def test_incorrect_trials_excluded(fake_ds, fake_folder) -> None:
    # weakest relevant coherence: the fake has one incorrect trial (firing at 300 spikes/s) in this condition
    name = str(fake_ds.unit_name.values[0])
    with_errors, n_all = _oracle(fake_folder / name, "colour", 2, -1, include_incorrect=True)
    correct_only, n_ok = _oracle(fake_folder / name, "colour", 2, -1)
    assert n_all == n_ok + 1
    got = fake_ds.rate.isel(unit=0, condition=_cond_index(fake_ds, "colour", 2, -1)).values
    np.testing.assert_allclose(got, correct_only)
    assert not np.allclose(got, with_errors)


def test_unit_missing_a_condition_is_dropped(fake_ds, fake_folder) -> None:
    files = sorted(p.name for p in fake_folder.glob("*.mat"))
    assert len(files) == 4 and fake_ds.sizes["unit"] == 3
    dropped = set(files) - set(fake_ds.unit_name.values.tolist())
    assert dropped == {"ar090402_1_a1_Vstim_100_850_ms.mat"}  # unit 2 of make_fake_mante_folder
    assert fake_ds.attrs["n_units_dropped_missing_conditions"] == 1
    assert fake_ds.attrs["n_unit_files"] == 4


def test_condition_order_and_coords(fake_ds) -> None:
    assert fake_ds.sizes == {"unit": 3, "time": 50, "condition": 72}
    ctx_code = np.where(fake_ds.context.values == "motion", 1, -1)
    keys = list(zip(fake_ds.choice.values, fake_ds.motion_coherence.values, fake_ds.colour_coherence.values,
                    ctx_code, strict=True))
    assert keys == sorted(keys) and len(set(keys)) == 72
    relevant = np.where(ctx_code == 1, fake_ds.motion_coherence.values, fake_ds.colour_coherence.values)
    np.testing.assert_array_equal(fake_ds.choice.values, np.where(relevant > 0, 2, 1))
    assert set(fake_ds.motion_rank.values.tolist()) == {-3, -2, -1, 1, 2, 3}
    # reference values come from the authors' reference file (unit 0 of the fakes)
    assert fake_ds.attrs["coherence_reference_file"] == "ar090313_1_a1_Vstim_100_850_ms.mat"
    np.testing.assert_allclose(np.unique(fake_ds.motion_coherence), [-0.5, -0.15, -0.05, 0.05, 0.15, 0.5])
    np.testing.assert_allclose(np.unique(fake_ds.colour_coherence), [-0.5, -0.18, -0.06, 0.06, 0.18, 0.5])
    assert fake_ds.attrs["n_units_coherences_differ_from_reference"] == 2  # fake units 1 and 3 (kept)
    expected = expected_conditions()
    assert [(int(a), int(b), int(c), int(d)) for a, b, c, d in zip(
        fake_ds.choice.values, fake_ds.motion_rank.values, fake_ds.colour_rank.values, ctx_code, strict=True
    )] == expected


def test_time_axis_and_attrs(fake_ds, tmp_path) -> None:
    np.testing.assert_allclose(fake_ds.time.values, 7.5 + 15.0 * np.arange(50))
    assert fake_ds.time.attrs["units"] == "ms"
    assert fake_ds.rate.attrs["units"] == "spikes/s"
    for key in ("dataset", "area", "monkey", "bin_ms", "preprocessing", "source_url", "biocredit_version"):
        assert key in fake_ds.attrs
    assert fake_ds.attrs["dataset"] == "mante2013" and fake_ds.attrs["area"] == "PFC"
    assert all(isinstance(v, (str, int, float, np.integer, np.floating)) for v in fake_ds.attrs.values())
    # a first sample at 100 ms after stimulus onset (unit.time in seconds) shifts the bin centres
    make_fake_mante_folder(tmp_path / "late", n_units=1, n_trials_per_condition=1, t0_s=0.1)
    late = preprocess_mante(tmp_path / "late")
    np.testing.assert_allclose(late.time.values, 107.5 + 15.0 * np.arange(50))
    forced = preprocess_mante(tmp_path / "late", time_origin_ms=0.0)
    np.testing.assert_allclose(forced.time.values, 7.5 + 15.0 * np.arange(50))


def test_netcdf_round_trip(fake_ds, tmp_path) -> None:
    write_netcdf(fake_ds, tmp_path / "mante.nc")
    with xr.open_dataset(tmp_path / "mante.nc") as back:
        xr.testing.assert_identical(back.load(), fake_ds)


def test_spikes_per_second_scaling(tmp_path: Path) -> None:
    (path,) = make_fake_mante_folder(tmp_path / "f", n_units=1, n_trials_per_condition=2)
    response, tv = _raw(path)
    response[:] = 0.0
    response[:, 0:750:3] = 1.0  # one spike every 3 ms = 333.3 spikes/s in every bin
    _write_unit(path, {"time": np.arange(N_SAMPLES) / 1000, "response": response, "task_variable": tv})
    ds = preprocess_mante(tmp_path / "f")
    np.testing.assert_allclose(ds.rate.values, 1000.0 / 3.0)


def test_colour_context_code_2_and_minus_1(fake_folder) -> None:
    files = sorted(fake_folder.glob("*.mat"))
    codes = [set(np.unique(_raw(p)[1]["context"]).tolist()) for p in files]
    assert {1.0, -1.0} in codes and {1.0, 2.0} in codes
    for p in files[:2]:
        res = unit_condition_averages(read_unit(p))
        assert {k[3] for k in res.keys} == {-1, 1}


def test_targ_dir_contradicting_rule_raises(tmp_path: Path) -> None:
    (path,) = make_fake_mante_folder(tmp_path / "f", n_units=1, n_trials_per_condition=1)
    response, tv = _raw(path)
    tv["targ_dir"] = -tv["targ_dir"]
    _write_unit(path, {"time": np.arange(N_SAMPLES) / 1000, "response": response, "task_variable": tv})
    with pytest.raises(ValueError, match="sign convention"):
        preprocess_mante(tmp_path / "f")


def test_without_targ_dir_choice_from_rule(tmp_path: Path) -> None:
    (path,) = make_fake_mante_folder(tmp_path / "f", n_units=1, n_trials_per_condition=3, seed=1)
    response, tv = _raw(path)
    with_targ = preprocess_mante(tmp_path / "f")
    del tv["targ_dir"]
    _write_unit(path, {"time": np.arange(N_SAMPLES) / 1000, "response": response, "task_variable": tv})
    without = preprocess_mante(tmp_path / "f")
    np.testing.assert_array_equal(without.rate.values, with_targ.rate.values)


def test_no_complete_unit_raises(tmp_path: Path) -> None:
    make_fake_mante_folder(tmp_path / "f", n_units=1, n_trials_per_condition=1, drop_condition_for_unit=0)
    with pytest.raises(ValueError, match="none of the 1 unit files"):
        preprocess_mante(tmp_path / "f")


def test_unknown_monkey_and_layout(tmp_path: Path, fake_folder) -> None:
    with pytest.raises(ValueError, match="unknown monkey"):
        preprocess_mante(fake_folder, monkey="xx")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="PFC data 1"):
        preprocess_mante(tmp_path / "empty")


# ----------------------------------------------------------------------------------------------------------------
# zip handling
# ----------------------------------------------------------------------------------------------------------------


def test_zip_round_trip(tmp_path: Path) -> None:
    sha = make_fake_mante_zip(tmp_path / "PFC data.zip", n_units=2, n_trials_per_condition=1)
    assert sha == sha256_file(tmp_path / "PFC data.zip")
    with zipfile.ZipFile(tmp_path / "PFC data.zip") as zf:
        assert all(n.startswith("PFC data/PFC data 1/") for n in zf.namelist())
    out = unzip_atomic(tmp_path / "PFC data.zip", tmp_path / "extracted")
    assert sorted(p.name for p in (out / "PFC data" / "PFC data 1").glob("*.mat")) == sorted(
        Path(n).name for n in zipfile.ZipFile(tmp_path / "PFC data.zip").namelist()
    )
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".extracted")]  # no temp folders left
    from_folder = preprocess_mante(out)
    from_zip = preprocess_mante(tmp_path / "PFC data.zip", sha256=sha)
    xr.testing.assert_equal(from_folder, from_zip)
    assert from_zip.attrs["sha256"] == sha
    with pytest.raises(FileExistsError):
        unzip_atomic(tmp_path / "PFC data.zip", out)
    unzip_atomic(tmp_path / "PFC data.zip", out, overwrite=True)
    assert (out / "PFC data" / "PFC data 1").is_dir()


def test_zip_monkey_fe(tmp_path: Path) -> None:
    make_fake_mante_zip(tmp_path / "z.zip", monkey="fe", n_units=1, n_trials_per_condition=1)
    ds = preprocess_mante(tmp_path / "z.zip", monkey="fe")
    assert ds.attrs["monkey"] == "fe" and ds.sizes["unit"] == 1
    with pytest.raises(ValueError, match="PFC data 1"):
        preprocess_mante(tmp_path / "z.zip", monkey="ar")


@pytest.mark.parametrize("evil", ["../evil.txt", "PFC data/../../evil.txt", "/abs/evil.txt", "C:\\evil.txt"])
def test_zip_slip_refused(tmp_path: Path, evil: str) -> None:
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("PFC data/ok.txt", "fine")
        zf.writestr(zipfile.ZipInfo(evil), "bad")
    out = tmp_path / "deep" / "out"
    with pytest.raises(UnsafeZipError, match="refusing"):
        unzip_atomic(path, out)
    assert not out.exists()
    assert not list(tmp_path.rglob("evil.txt"))


def test_unzip_not_a_zip(tmp_path: Path) -> None:
    (tmp_path / "x.zip").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a valid zip"):
        unzip_atomic(tmp_path / "x.zip", tmp_path / "out")


# ----------------------------------------------------------------------------------------------------------------
# checksum lock
# ----------------------------------------------------------------------------------------------------------------


def test_lock_records_then_verifies_then_detects_tampering(tmp_path: Path) -> None:
    zip_path = tmp_path / "PFC data.zip"
    sha = make_fake_mante_zip(zip_path, n_units=1, n_trials_per_condition=1)
    lock = tmp_path / "checksums.json"
    lock.write_text("{}\n")
    assert record_or_verify(zip_path, lock, "mante2013") == sha
    recorded = json.loads(lock.read_text())
    assert recorded == {"mante2013": {"sha256": sha, "size": zip_path.stat().st_size}}
    assert record_or_verify(zip_path, lock, "mante2013") == sha  # verifies
    assert json.loads(lock.read_text()) == recorded
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".checksums")]  # atomic write left nothing
    with zip_path.open("ab") as f:
        f.write(b"tampered")
    actual = sha256_file(zip_path)
    with pytest.raises(ChecksumError) as err:
        record_or_verify(zip_path, lock, "mante2013")
    assert str(zip_path) in str(err.value) and sha in str(err.value) and actual in str(err.value)
    with pytest.raises(ChecksumError):
        load_mante(zip_path, lock_file=lock)


def test_lock_keeps_other_entries_and_creates_file(tmp_path: Path) -> None:
    lock = tmp_path / "sub" / "lock.json"
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    a.write_bytes(b"a")
    b.write_bytes(b"bb")
    record_or_verify(a, lock, "a")
    record_or_verify(b, lock, "b")
    assert set(read_lock(lock)) == {"a", "b"} and read_lock(lock)["b"]["size"] == 2


def test_load_mante_records_on_first_use(tmp_path: Path) -> None:
    zip_path = tmp_path / "z.zip"
    sha = make_fake_mante_zip(zip_path, n_units=1, n_trials_per_condition=1)
    lock = tmp_path / "lock.json"
    ds = load_mante(zip_path, lock_file=lock)
    assert ds.attrs["sha256"] == sha and read_lock(lock)[MANTE_KEY]["sha256"] == sha
    load_mante(zip_path, lock_file=lock)


def test_fetch_mante_from_mirror(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    sha = make_fake_mante_zip(mirror / MANTE_RELPATH, n_units=1, n_trials_per_condition=1)
    lock = tmp_path / "lock.json"
    dest = tmp_path / "raw" / "PFC data.zip"
    assert fetch_mante(dest, mirror=mirror, lock_file=lock) == dest
    assert sha256_file(dest) == sha and read_lock(lock)[MANTE_KEY]["sha256"] == sha
    dest.unlink()
    fetch_mante(dest, mirror=mirror, lock_file=lock)  # now verified against the lock
    assert mante_remote_file(lock).sha256 == sha
    (mirror / MANTE_RELPATH).write_bytes(b"PK\x05\x06" + b"\x00" * 18)  # an empty zip: different bytes
    dest.unlink()
    with pytest.raises(ChecksumError):
        fetch_mante(dest, mirror=mirror, lock_file=lock)
    assert not dest.exists()


def test_fetch_mante_refuses_non_zip_and_missing(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "mante2013").mkdir(parents=True)
    (mirror / MANTE_RELPATH).write_text("<html>not found</html>")
    lock = tmp_path / "lock.json"
    dest = tmp_path / "raw.zip"
    with pytest.raises(ValueError, match="not a zip"):
        fetch_mante(dest, mirror=mirror, lock_file=lock)
    assert not dest.exists() and read_lock(lock) == {}
    (mirror / MANTE_RELPATH).unlink()
    with pytest.raises(DataUnavailableError):
        fetch_mante(dest, mirror=mirror, lock_file=lock)


def test_checked_in_lock_file_is_valid() -> None:
    lock = read_lock(LOCK_FILE)
    for name, entry in lock.items():
        assert set(entry) == {"sha256", "size"}, name
        assert len(entry["sha256"]) == 64 and int(entry["size"]) > 0
    assert mante_remote_file().relpath == MANTE_RELPATH


# ----------------------------------------------------------------------------------------------------------------
# task
# ----------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def task() -> ManteTask:
    return ManteTask()


def test_task_shapes(task: ManteTask) -> None:
    b = task.sample_batch(72, np.random.default_rng(0))
    assert (task.n_in, task.n_out, task.dt_ms, task.name) == (9, 3, 15.0, "mante")
    assert b.x.shape == (72, 113, 9) and b.x.dtype == torch.float32
    assert b.y.shape == (72, 113) and b.y.dtype == torch.int64
    assert b.mask.shape == (72, 113) and bool((b.mask == 1).all())
    assert torch.equal(b.condition, torch.arange(72))
    b2 = task.sample_batch(72, np.random.default_rng(123))
    assert torch.equal(b.x, b2.x) and torch.equal(b.y, b2.y)  # deterministic full batch


def test_task_batch_size_rule(task: ManteTask) -> None:
    with pytest.raises(ValueError, match="multiple of 72"):
        task.sample_batch(100, np.random.default_rng(0))
    b = task.sample_batch(144, np.random.default_rng(0))
    assert b.x.shape[0] == 144 and torch.equal(b.x[:72], b.x[72:])


def test_inputs_l2_normalised_per_step(task: ManteTask) -> None:
    x = task.sample_batch(72, np.random.default_rng(0)).x.double()
    np.testing.assert_allclose(x.norm(dim=-1).numpy(), 1.0, rtol=1e-6)
    np.testing.assert_allclose(x[:, :23, 0].numpy(), 1 / np.sqrt(3), rtol=1e-6)  # fixation, context, target
    np.testing.assert_allclose(x[:, 73:93, 0].numpy(), 1 / np.sqrt(3), rtol=1e-6)  # delay
    np.testing.assert_allclose(x[:, 93:, 8].numpy(), 1.0)  # decision: only the colour-target channel
    raw = ManteTask(normalize_inputs=False).inputs(np.arange(72))
    norm = np.linalg.norm(raw, axis=-1, keepdims=True)
    np.testing.assert_allclose(x.numpy(), raw / norm, rtol=1e-6)


def test_periods_and_targets(task: ManteTask) -> None:
    b = task.sample_batch(72, np.random.default_rng(0))
    x, y = b.x.numpy(), b.y.numpy()
    assert (y[:, :93] == 0).all()
    np.testing.assert_array_equal(y[:, 93:], np.repeat(task.choice[:, None], 20, axis=1))
    assert set(np.unique(y[:, 93:])) == {1, 2}
    assert (x[:, 93:, 0] == 0).all() and (x[:, :93, 0] > 0).all()
    stim = np.zeros(113, bool)
    stim[23:73] = True
    assert (x[:, ~stim, 1:5] == 0).all() and (x[:, stim, 1:5] > 0).all()
    assert (x[:, 93:, 5:7] == 0).all() and (x[:, :93, 5:7].sum(-1) > 0).all()
    assert (x[:, :, 7] == 0).all()
    assert list(task.analysis_steps) == list(range(23, 73))
    np.testing.assert_allclose(task.analysis_times, 7.5 + 15 * np.arange(50))


def test_choice_rule_both_contexts(task: ManteTask) -> None:
    x = task.sample_batch(72, np.random.default_rng(0)).x.numpy()
    motion = x[:, 30, 5] > 0
    colour = x[:, 30, 6] > 0
    assert (motion ^ colour).all() and motion.sum() == 36
    right = x[:, 30, 2] > x[:, 30, 1]
    green = x[:, 30, 4] > x[:, 30, 3]
    np.testing.assert_array_equal(task.choice[motion], np.where(right[motion], 2, 1))
    np.testing.assert_array_equal(task.choice[colour], np.where(green[colour], 2, 1))
    # evidence channels carry (1 ± coh)/2 before normalisation
    raw = ManteTask(normalize_inputs=False).inputs(np.arange(72))
    np.testing.assert_allclose(raw[:, 30, 2] - raw[:, 30, 1], task.motion_coherence)
    np.testing.assert_allclose(raw[:, 30, 4] - raw[:, 30, 3], task.colour_coherence)
    assert sorted(np.unique(task.motion_coherence)) == sorted(DEFAULT_COHERENCES)


def test_task_condition_order_sorted(task: ManteTask) -> None:
    keys = list(zip(task.choice, task.motion_coherence, task.colour_coherence, task.context_code, strict=True))
    assert keys == sorted(keys) and len(set(keys)) == 72
    assert list(zip(task.choice, task.motion_rank, task.colour_rank, task.context_code, strict=True)) == (
        expected_conditions()
    )


def test_loss_is_hand_computed_cross_entropy(task: ManteTask) -> None:
    b = task.sample_batch(72, np.random.default_rng(0))
    logits = torch.randn(72, 113, 3, generator=torch.Generator().manual_seed(0))
    log_p = logits - torch.logsumexp(logits, dim=-1, keepdim=True)
    hand = -log_p.gather(-1, b.y.unsqueeze(-1)).squeeze(-1).mean()
    torch.testing.assert_close(task.loss(logits, b), hand)
    torch.testing.assert_close(task.loss(logits, b), F.cross_entropy(logits.reshape(-1, 3), b.y.reshape(-1)))
    assert task.accuracy(logits, b) == pytest.approx(1.0 - float(hand), abs=1e-6)
    zeros = torch.zeros(72, 113, 3)
    assert task.accuracy(zeros, b) == pytest.approx(1.0 - np.log(3.0), abs=1e-6)


def test_loss_has_gradient(task: ManteTask) -> None:
    b = task.sample_batch(72, np.random.default_rng(0))
    logits = torch.zeros(72, 113, 3, requires_grad=True)
    task.loss(logits, b).backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0


def test_decision_accuracy(task: ManteTask) -> None:
    b = task.sample_batch(72, np.random.default_rng(0))
    perfect = 10.0 * F.one_hot(b.y, 3).float()
    assert task.decision_accuracy(perfect, b) == 1.0
    assert task.accuracy(perfect, b) > 0.99
    assert task.decision_accuracy(torch.zeros(72, 113, 3), b) == pytest.approx(0.5)
    flipped = perfect.clone()
    flipped[:, :, 1:] = perfect[:, :, [2, 1]]
    assert task.decision_accuracy(flipped, b) == 0.0


def test_analysis_batch_matches_preprocessed_dataset(fake_ds) -> None:
    task = ManteTask.from_dataset(fake_ds)
    b = task.analysis_batch()
    assert b.x.shape == (72, 113, 9)
    np.testing.assert_array_equal(b.condition.numpy(), fake_ds.condition.values)
    np.testing.assert_allclose(task.analysis_times, fake_ds.time.values)
    np.testing.assert_array_equal(b.y[:, -1].numpy(), fake_ds.choice.values)
    x = b.x.numpy()
    np.testing.assert_array_equal(np.where(x[:, 30, 5] > 0, "motion", "colour"), fake_ds.context.values)
    np.testing.assert_array_equal(np.sign(x[:, 30, 2] - x[:, 30, 1]), np.sign(fake_ds.motion_coherence.values))
    np.testing.assert_array_equal(np.sign(x[:, 30, 4] - x[:, 30, 3]), np.sign(fake_ds.colour_coherence.values))
    order = task.analysis_order
    np.testing.assert_array_equal(task.motion_rank[order], fake_ds.motion_rank.values)
    np.testing.assert_array_equal(task.colour_rank[order], fake_ds.colour_rank.values)
    # the canonical orders agree, so the analysis batch is the training batch
    np.testing.assert_array_equal(order, np.arange(72))
    assert torch.equal(b.x, task.sample_batch(72, np.random.default_rng(0)).x)
    # the authors' coherence values unless asked for the data's
    assert sorted(np.unique(task.motion_coherence)) == sorted(DEFAULT_COHERENCES)
    data_task = ManteTask.from_dataset(fake_ds, use_data_coherences=True)
    np.testing.assert_allclose(np.unique(data_task.motion_coherence), np.unique(fake_ds.motion_coherence))


def test_analysis_batch_follows_a_permuted_dataset(fake_ds) -> None:
    perm = np.random.default_rng(0).permutation(72)
    shuffled = fake_ds.isel(condition=perm)
    task = ManteTask.from_dataset(shuffled)
    b = task.analysis_batch()
    np.testing.assert_array_equal(task.analysis_order, perm)
    np.testing.assert_array_equal(b.condition.numpy(), perm)
    np.testing.assert_array_equal(b.y[:, -1].numpy(), shuffled.choice.values)
    # without rank coordinates the ranks are derived from the coherence values
    no_ranks = shuffled.drop_vars(["motion_rank", "colour_rank"])
    np.testing.assert_array_equal(ManteTask.from_dataset(no_ranks).analysis_order, perm)


def test_from_dataset_rejects_mismatch(fake_ds) -> None:
    with pytest.raises(ValueError, match="one-to-one"):
        ManteTask.from_dataset(fake_ds.isel(condition=slice(0, 70)))
    bad = fake_ds.assign_coords(choice=("condition", 3 - fake_ds.choice.values))
    with pytest.raises(ValueError, match="contradicts"):
        ManteTask.from_dataset(bad)
    with pytest.raises(ValueError, match="time bins"):
        ManteTask.from_dataset(fake_ds.isel(time=slice(0, 40)))


def test_event_filter(tmp_path: Path) -> None:
    make_fake_mante_folder(tmp_path / "f", n_units=1, n_trials_per_condition=1)
    (path,) = (tmp_path / "f").glob("*.mat")
    path.rename(path.with_name(path.name.replace("Vstim", "Tsac")))
    with pytest.raises(FileNotFoundError, match="'Vstim'"):
        preprocess_mante(tmp_path / "f")
    assert preprocess_mante(tmp_path / "f", event=None).sizes["unit"] == 1


def test_context_choice_follows_the_relevant_coherence_only():
    from biocredit.contexts import context_choice

    # (context, motion, colour) -> choice, written out by hand: motion context (1) reads motion, colour (-1) colour
    table = [(1, 0.5, -0.5, 2), (1, -0.17, 0.5, 1), (-1, 0.5, -0.06, 1), (-1, -0.5, 0.17, 2)]
    ctx, motion, colour, want = (np.array(col) for col in zip(*table, strict=True))
    assert context_choice(ctx, motion, colour).tolist() == want.tolist()
