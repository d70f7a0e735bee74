"""Tests for biocredit.data: checksum-verified fetching (mirror and HTTP) and the Hatsopoulos loader."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import http.server
import os
import pickle
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from biocredit.data import (
    DATASET_LOADERS,
    KINEMATIC_KEYS,
    REMOTE_FILES,
    ChecksumError,
    DataUnavailableError,
    fetch,
    load_hatsopoulos,
    make_fake_hatsopoulos_npy,
    preprocess_dataset,
    remote_file,
    resolve_mirror,
    verify_sha256,
)
from biocredit.data import hatsopoulos as hats_mod

PAYLOAD = b"biocredit test payload\n" * 100
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()
URL = "https://example.invalid/file.bin"
REAL = REMOTE_FILES["hatsopoulos2007"]
REAL_PATH = Path("/work/shared/data") / REAL.relpath


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    folder = tmp_path / "mirror"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "file.bin").write_bytes(PAYLOAD)
    return folder


@pytest.fixture
def dest_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "raw"
    folder.mkdir()
    return folder


def _assert_nothing_left(dest_dir: Path) -> None:
    assert list(dest_dir.iterdir()) == [], f"stray files: {list(dest_dir.iterdir())}"


# --------------------------------------------------------------------------------------------- registry


def test_registry_entry() -> None:
    entry = remote_file("hatsopoulos2007")
    assert entry.sha256 == "42ba0083581ac1d1d0f3e0e2d8e9a618aaf04d5ae5753e3df311c9aec1acec37"
    assert entry.size == 1139407
    assert entry.url.endswith(Path(entry.relpath).name)
    with pytest.raises(KeyError, match="hatsopoulos2007"):
        remote_file("nope")


# --------------------------------------------------------------------------------------------- fetch (mirror)


def test_fetch_from_mirror_then_noop(mirror: Path, dest_dir: Path) -> None:
    dest = dest_dir / "file.bin"
    out = fetch(URL, dest, PAYLOAD_SHA, mirror=mirror, mirror_relpath="sub/file.bin")
    assert out == dest and dest.read_bytes() == PAYLOAD
    stamp = dest.stat().st_mtime_ns
    os.utime(dest, ns=(stamp - 10**9, stamp - 10**9))  # a rewrite would now change mtime visibly
    stamp = dest.stat().st_mtime_ns
    (mirror / "sub" / "file.bin").unlink()  # a second fetch must not even look at the source
    fetch(URL, dest, PAYLOAD_SHA, mirror=mirror, mirror_relpath="sub/file.bin")
    assert dest.stat().st_mtime_ns == stamp
    assert sorted(p.name for p in dest_dir.iterdir()) == ["file.bin"]


def test_fetch_mirror_relpath_defaults_to_url_basename(mirror: Path, dest_dir: Path) -> None:
    (mirror / "file.bin").write_bytes(PAYLOAD)
    dest = dest_dir / "x.bin"
    fetch("https://example.invalid/a/b/file.bin", dest, PAYLOAD_SHA, mirror=mirror)
    assert dest.read_bytes() == PAYLOAD


BAD_PAYLOADS = {"tampered": PAYLOAD[:-1] + b"X", "truncated": PAYLOAD[: len(PAYLOAD) // 2]}


@pytest.mark.parametrize("bad", list(BAD_PAYLOADS.values()), ids=list(BAD_PAYLOADS))
def test_fetch_checksum_mismatch(mirror: Path, dest_dir: Path, bad: bytes) -> None:
    src = mirror / "sub" / "file.bin"
    src.write_bytes(bad)
    dest = dest_dir / "file.bin"
    with pytest.raises(ChecksumError) as info:
        fetch(URL, dest, PAYLOAD_SHA, mirror=mirror, mirror_relpath="sub/file.bin")
    msg = str(info.value)
    assert PAYLOAD_SHA in msg and _sha(bad) in msg
    assert str(src) in msg and str(dest) in msg
    assert not dest.exists()
    _assert_nothing_left(dest_dir)


def test_fetch_missing_mirror_file(mirror: Path, dest_dir: Path) -> None:
    dest = dest_dir / "file.bin"
    with pytest.raises(DataUnavailableError, match="nothere.bin"):
        fetch(URL, dest, PAYLOAD_SHA, mirror=mirror, mirror_relpath="nothere.bin")
    assert not dest.exists()
    _assert_nothing_left(dest_dir)


def test_stale_dest_is_replaced(mirror: Path, dest_dir: Path) -> None:
    dest = dest_dir / "file.bin"
    dest.write_bytes(b"stale content")
    fetch(URL, dest, PAYLOAD_SHA, mirror=mirror, mirror_relpath="sub/file.bin")
    assert dest.read_bytes() == PAYLOAD


def test_stale_dest_removed_when_refetch_fails(mirror: Path, dest_dir: Path) -> None:
    dest = dest_dir / "file.bin"
    dest.write_bytes(b"stale content")
    (mirror / "sub" / "file.bin").write_bytes(b"also wrong")
    with pytest.raises(ChecksumError):
        fetch(URL, dest, PAYLOAD_SHA, mirror=mirror, mirror_relpath="sub/file.bin")
    _assert_nothing_left(dest_dir)


def test_verify_sha256(tmp_path: Path) -> None:
    f = tmp_path / "f.bin"
    f.write_bytes(PAYLOAD)
    verify_sha256(f, PAYLOAD_SHA)
    verify_sha256(f, PAYLOAD_SHA.upper())
    with pytest.raises(ChecksumError) as info:
        verify_sha256(f, "0" * 64)
    assert str(f) in str(info.value) and "0" * 64 in str(info.value) and PAYLOAD_SHA in str(info.value)


# --------------------------------------------------------------------------------------------- resolve_mirror


def test_resolve_mirror_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BIOCREDIT_DATA_MIRROR", raising=False)
    assert resolve_mirror(None) is None
    assert resolve_mirror("") is None


def test_resolve_mirror_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("BIOCREDIT_DATA_MIRROR", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cfgmirror").mkdir()
    got = resolve_mirror("cfgmirror")
    assert got == tmp_path.resolve() / "cfgmirror" and got.is_absolute()


def test_resolve_mirror_env_overrides_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "env").mkdir()
    (tmp_path / "cfg").mkdir()
    monkeypatch.setenv("BIOCREDIT_DATA_MIRROR", str(tmp_path / "env"))
    assert resolve_mirror(str(tmp_path / "cfg")) == (tmp_path / "env").resolve()
    assert resolve_mirror(None) == (tmp_path / "env").resolve()
    monkeypatch.setenv("BIOCREDIT_DATA_MIRROR", "")  # empty env var does not override
    assert resolve_mirror(str(tmp_path / "cfg")) == (tmp_path / "cfg").resolve()


def test_resolve_mirror_missing_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    missing = tmp_path / "does_not_exist"
    monkeypatch.setenv("BIOCREDIT_DATA_MIRROR", str(missing))
    with pytest.raises(DataUnavailableError, match="BIOCREDIT_DATA_MIRROR") as info:
        resolve_mirror(None)
    assert str(missing) in str(info.value)
    monkeypatch.delenv("BIOCREDIT_DATA_MIRROR")
    with pytest.raises(DataUnavailableError, match="config") as info:
        resolve_mirror(str(missing))
    assert str(missing) in str(info.value)


# --------------------------------------------------------------------------------------------- fetch (HTTP)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - signature fixed by base class
        pass


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www"
    root.mkdir()
    (root / "file.bin").write_bytes(PAYLOAD)
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_fetch_download(http_root: tuple[str, Path], dest_dir: Path) -> None:
    base, _ = http_root
    dest = dest_dir / "file.bin"
    assert fetch(f"{base}/file.bin", dest, PAYLOAD_SHA, timeout=10) == dest
    assert dest.read_bytes() == PAYLOAD
    assert sorted(p.name for p in dest_dir.iterdir()) == ["file.bin"]


def test_fetch_download_checksum_mismatch(http_root: tuple[str, Path], dest_dir: Path) -> None:
    base, _ = http_root
    dest = dest_dir / "file.bin"
    url = f"{base}/file.bin"
    with pytest.raises(ChecksumError) as info:
        fetch(url, dest, "a" * 64, timeout=10)
    msg = str(info.value)
    assert url in msg and "a" * 64 in msg and PAYLOAD_SHA in msg
    _assert_nothing_left(dest_dir)


def test_fetch_download_http_error(http_root: tuple[str, Path], dest_dir: Path) -> None:
    base, _ = http_root
    url = f"{base}/missing.bin"
    with pytest.raises(DataUnavailableError, match="BIOCREDIT_DATA_MIRROR") as info:
        fetch(url, dest_dir / "file.bin", PAYLOAD_SHA, timeout=10)
    assert url in str(info.value)
    _assert_nothing_left(dest_dir)


# --------------------------------------------------------------------------------------------- Hatsopoulos


@pytest.fixture
def fake(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "fake_hats.npy"
    return path, make_fake_hatsopoulos_npy(path, n_units=5)


def test_load_hatsopoulos_fake(fake: tuple[Path, str]) -> None:
    path, sha = fake
    raw = np.load(path, allow_pickle=True).item()
    ds = load_hatsopoulos(path, sha256=sha)

    assert ds["rate"].dims == ("unit", "time", "condition")
    assert ds["rate"].shape == (5, 121, 8) and ds["rate"].dtype == np.float64
    assert ds["rate"].attrs["units"] == "spikes/s"
    assert ds["rate"].attrs["long_name"] == "trial-averaged firing rate"
    np.testing.assert_array_equal(ds["rate"].values, raw["firing_rate"])

    np.testing.assert_array_equal(ds["unit"].values, np.arange(5))
    np.testing.assert_array_equal(ds["condition"].values, np.arange(8))
    np.testing.assert_array_equal(ds["direction_deg"].values, np.arange(0, 360, 45))
    assert ds["direction_deg"].dims == ("condition",)
    assert "direction_deg" not in ds.dims
    t = ds["time"].values
    assert t[0] == -800 and t[-1] == 400 and len(t) == 121
    np.testing.assert_allclose(np.diff(t), 10)
    assert 0 in t and ds["time"].attrs["units"] == "ms"

    assert ds["kinematics"].dims == ("kinematic", "condition", "time")
    assert list(ds["kinematic"].values) == [
        "x_hand_position", "y_hand_position", "x_hand_speed", "y_hand_speed", "shoulder_angle", "elbow_angle",
    ]  # fmt: skip
    np.testing.assert_array_equal(ds["kinematics"].sel(kinematic="elbow_angle").values, raw["elbowangle"])
    np.testing.assert_array_equal(ds["kinematics"].sel(kinematic="y_hand_speed").values, raw["yhandspeed"])
    for key, label in KINEMATIC_KEYS.items():
        np.testing.assert_array_equal(ds["kinematics"].sel(kinematic=label).values, raw[key])

    np.testing.assert_array_equal(
        ds["movement_duration_mean"].values, raw["time_startmovement_to_endmovement_mean"]
    )
    np.testing.assert_array_equal(
        ds["movement_duration_median"].values, raw["time_startmovement_to_endmovement_median"]
    )
    assert ds["movement_duration_mean"].dims == ("condition",)

    attrs = ds.attrs
    assert attrs["dataset"] == "hatsopoulos2007" and attrs["area"] == "M1" and attrs["species"] == "macaque"
    assert attrs["alignment_event"] == "movement onset" and attrs["time_units"] == "ms"
    assert attrs["bin_ms"] == 10 and attrs["sha256"] == sha and attrs["source_url"] == REAL.url
    assert "25 ms" in attrs["preprocessing"]
    assert "Liu" in attrs["citation"] and "Hatsopoulos" in attrs["citation"]
    assert attrs["biocredit_version"]
    assert all(isinstance(v, (str, int, float)) for v in attrs.values())


def test_load_hatsopoulos_rejects_corrupt_before_unpickling(
    fake: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, sha = fake
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    path.write_bytes(bytes(blob))

    def _forbidden(*args: object, **kwargs: object) -> None:
        pytest.fail("np.load was called on an unverified file")

    monkeypatch.setattr(hats_mod.np, "load", _forbidden)
    with pytest.raises(ChecksumError) as info:
        load_hatsopoulos(path, sha256=sha)
    assert str(path) in str(info.value) and sha in str(info.value)


class _Boom:
    """Unpickling this raises: proves a file was never unpickled."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (_explode, ("unpickled an unverified file",))


def _explode(msg: str) -> None:
    raise AssertionError(msg)


def test_load_hatsopoulos_never_unpickles_unverified(tmp_path: Path) -> None:
    path = tmp_path / "evil.npy"
    with open(path, "wb") as f:
        np.save(f, np.array({"firing_rate": _Boom()}, dtype=object), allow_pickle=True)
    with pytest.raises(ChecksumError):
        load_hatsopoulos(path)  # registry checksum: cannot match
    with pytest.raises(AssertionError, match="unpickled"):  # sanity: the payload really would fire
        load_hatsopoulos(path, sha256=None)


def _write_dict(path: Path, data: dict) -> str:
    with open(path, "wb") as f:
        np.save(f, np.array(data, dtype=object), allow_pickle=True)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_load_hatsopoulos_missing_key(fake: tuple[Path, str], tmp_path: Path) -> None:
    path, _ = fake
    data = np.load(path, allow_pickle=True).item()
    del data["shoulderangle"]
    bad = tmp_path / "bad.npy"
    sha = _write_dict(bad, data)
    with pytest.raises(ValueError, match="shoulderangle") as info:
        load_hatsopoulos(bad, sha256=sha)
    assert str(bad) in str(info.value)


def test_load_hatsopoulos_bad_shape(fake: tuple[Path, str], tmp_path: Path) -> None:
    path, _ = fake
    data = np.load(path, allow_pickle=True).item()
    data["xhandspeed"] = data["xhandspeed"][:, :-1]
    bad = tmp_path / "bad.npy"
    sha = _write_dict(bad, data)
    with pytest.raises(ValueError, match="xhandspeed") as info:
        load_hatsopoulos(bad, sha256=sha)
    assert str(bad) in str(info.value)


def test_load_hatsopoulos_bad_time_bins(tmp_path: Path) -> None:
    path = tmp_path / "t.npy"
    sha = make_fake_hatsopoulos_npy(path, n_time=100)
    with pytest.raises(ValueError, match="10 ms"):
        load_hatsopoulos(path, sha256=sha)


def test_load_hatsopoulos_not_a_dict(tmp_path: Path) -> None:
    path = tmp_path / "list.npy"
    sha = _write_dict(path, None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="dict"):
        load_hatsopoulos(path, sha256=sha)


def test_make_fake_is_deterministic(tmp_path: Path) -> None:
    sha_a = make_fake_hatsopoulos_npy(tmp_path / "a.npy")
    assert sha_a == make_fake_hatsopoulos_npy(tmp_path / "b.npy")
    assert sha_a != make_fake_hatsopoulos_npy(tmp_path / "c.npy", seed=1)
    with open(tmp_path / "a.npy", "rb") as f:  # upstream format: a pickled dict inside a 0-d object array
        arr = np.load(f, allow_pickle=True)
    assert arr.shape == () and arr.dtype == object and isinstance(arr.item(), dict)
    assert pickle.dumps(arr.item()["firing_rate"])


# --------------------------------------------------------------------------------------------- preprocess


def test_preprocess_roundtrip(
    fake: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, sha = fake  # the loader takes the registry's digest, so point the registry at the fake file
    monkeypatch.setitem(REMOTE_FILES, "hatsopoulos2007", dataclasses.replace(REAL, sha256=sha))
    out = tmp_path / "proc" / "hatsopoulos2007.nc"
    preprocess_dataset("hatsopoulos2007", path, out)
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]
    expected = load_hatsopoulos(path, sha256=sha)
    with xr.open_dataset(out) as written:
        written = written.load()
    xr.testing.assert_identical(written, expected)


def test_preprocess_rejects_wrong_checksum(fake: tuple[Path, str], tmp_path: Path) -> None:
    path, _ = fake  # the registry holds the real file's digest, so a fake must be refused
    out = tmp_path / "out.nc"
    with pytest.raises(ChecksumError):
        preprocess_dataset("hatsopoulos2007", path, out)
    assert not out.exists()


def test_preprocess_unknown_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="hatsopoulos2007"):
        preprocess_dataset("nope", tmp_path / "x", tmp_path / "y.nc")
    assert "hatsopoulos2007" in DATASET_LOADERS


# --------------------------------------------------------------------------------------------- real data


@pytest.mark.skipif(not REAL_PATH.is_file(), reason=f"real data mirror file not present at {REAL_PATH}")
def test_real_hatsopoulos_verifies_and_loads(tmp_path: Path) -> None:
    mirror = resolve_mirror(str(REAL_PATH.parents[1]))
    dest = fetch(REAL.url, tmp_path / "raw.npy", REAL.sha256, mirror=mirror, mirror_relpath=REAL.relpath)
    ds = load_hatsopoulos(dest)
    assert ds["rate"].shape == (141, 121, 8)
    assert ds["time"].values[0] == -800 and ds["time"].values[-1] == 400
    assert float(ds["rate"].min()) >= 0
    assert ds["kinematics"].shape == (6, 8, 121)
    assert float(np.abs(ds["kinematics"]).max()) == pytest.approx(1.0)
