"""The smoke run that test_dvc, test_report and test_slurm share, and the helpers they use.

The smoke DAG runs once per pytest session, the way a user versions it with DVC: the working tree is copied into a
fresh git repository, `dvc init`, the smoke preset is set in dvc.yaml and `dvc repro` runs the workflow on this
machine. test_dvc then checks push/pull on that repository, test_report builds the report on its results and
test_slurm compares its SLURM run with them. Every command's output goes to a log under the session's temporary folder,
and the durations are printed (`pytest -s`) and written to timings.txt there.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import REPO, data_mirror

BIN = Path(sys.executable).parent
SMOKE_CONFIGFILES = "config.yaml tests/smoke/config.yaml"
TIMINGS: dict[str, float] = {}
_SHARED: dict[Path, Path | str] = {}


def mirror_or_skip() -> Path:
    """The data mirror (the `mirror` fixture's rule, for fixtures wider than a function)."""
    mirror = data_mirror()
    if mirror is None:
        pytest.skip("no data mirror: set BIOCREDIT_DATA_MIRROR or place shared/data beside the repository")
    return mirror


def workflow_env(mirror: Path, repo: Path | None = None) -> dict[str, str]:
    """The environment of every command: the venv's tools first on PATH (DVC stage commands call `snakemake`), the
    library of `repo`'s copy (not the editable install's), the data mirror, CPU only, no DVC telemetry, and a git
    identity for the temporary repositories."""
    return {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        **({"PYTHONPATH": str(repo / "src")} if repo else {}),
        "BIOCREDIT_DATA_MIRROR": str(mirror),
        "CUDA_VISIBLE_DEVICES": "",
        "MPLBACKEND": "Agg",
        "DVC_NO_ANALYTICS": "1",
        "GIT_AUTHOR_NAME": "biocredit tests",
        "GIT_AUTHOR_EMAIL": "tests@biocredit.invalid",
        "GIT_COMMITTER_NAME": "biocredit tests",
        "GIT_COMMITTER_EMAIL": "tests@biocredit.invalid",
    }


@contextmanager
def timed(name: str, basetemp: Path | None = None):
    """Time a block; print and record the duration (also in basetemp/timings.txt)."""
    t0 = time.perf_counter()
    yield
    TIMINGS[name] = time.perf_counter() - t0
    line = f"[timing] {name}: {TIMINGS[name]:.1f} s"
    print(line)
    if basetemp is not None:
        with open(basetemp / "timings.txt", "a") as f:
            f.write(line + "\n")


def run(cmd: list[str], cwd: Path, env: dict[str, str], log: Path, timeout: float = 900,
        check: bool = True) -> subprocess.CompletedProcess:
    """Run a command, append its output to `log`; on failure raise with the end of that output."""
    t0 = time.perf_counter()
    line = " ".join(map(str, cmd))
    try:
        proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        with open(log, "a") as f:
            f.write(f"$ {line}  (in {cwd})\n{out}\n[timed out after {timeout} s]\n")
        raise AssertionError(f"{line} timed out after {timeout} s; log: {log}\n{out[-3000:]}") from None
    with open(log, "a") as f:
        f.write(f"$ {line}  (in {cwd})\n{proc.stdout}\n[rc={proc.returncode}, {time.perf_counter() - t0:.1f} s]\n")
    if check and proc.returncode != 0:
        raise AssertionError(f"{line} failed ({proc.returncode}); log: {log}\n{proc.stdout[-4000:]}")
    return proc


def copy_working_tree(dest: Path) -> None:
    """Copy the repository's working tree (tracked and untracked files that git does not ignore: no .venv, results or
    .snakemake) into dest."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            check=True, capture_output=True, text=True).stdout.split("\0")
    for rel in filter(None, listed):
        src = REPO / rel
        if src.is_file():  # skips files deleted in the working tree but still in the index
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def set_dvc_preset(repo: Path, configfiles: str) -> None:
    """Select the preset DVC runs: the `configfiles` variable at the top of dvc.yaml (what docs/cluster.md tells
    users to edit)."""
    dvc_yaml = repo / "dvc.yaml"
    text = dvc_yaml.read_text()
    old = "  - configfiles: config.yaml\n"
    assert text.count(old) == 1, f"dvc.yaml no longer has the line {old!r} that selects the preset"
    dvc_yaml.write_text(text.replace(old, f"  - configfiles: {configfiles}\n"))


def smoke_repo(basetemp: Path, mirror: Path) -> Path:
    """A copy of the working tree as a git + DVC repository where `dvc repro` has run the smoke preset (once per
    session; later calls return the same folder, or fail at once if the first attempt failed)."""
    if basetemp in _SHARED:
        done = _SHARED[basetemp]
        if isinstance(done, str):
            raise AssertionError(f"the shared smoke run failed earlier in this session:\n{done}")
        return done
    repo = basetemp / "smoke-repo"
    log = basetemp / "smoke-repo.log"
    env = workflow_env(mirror, repo)
    try:
        repo.mkdir()
        with timed("copy working tree + git init + dvc init", basetemp):
            copy_working_tree(repo)
            set_dvc_preset(repo, SMOKE_CONFIGFILES)
            run(["git", "-c", "init.defaultBranch=main", "init", "-q"], repo, env, log)
            run([sys.executable, "-m", "dvc", "init", "-q", "-f"], repo, env, log)  # -f: a committed .dvc/ is reset
            run([sys.executable, "-m", "dvc", "config", "core.analytics", "false"], repo, env, log)
            run(["git", "add", "-A"], repo, env, log)
            run(["git", "commit", "-q", "-m", "working tree, smoke preset"], repo, env, log)
        with timed("local smoke run (dvc repro)", basetemp):
            run([sys.executable, "-m", "dvc", "repro"], repo, env, log, timeout=900)
    except BaseException as e:
        _SHARED[basetemp] = str(e)[-4000:]
        raise
    _SHARED[basetemp] = repo
    return repo


def _assert_close_json(a, b, where: str) -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), f"{where}: keys {a.keys()} != {b}"
        for k in a:
            _assert_close_json(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), f"{where}: {a} != {b}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_close_json(x, y, f"{where}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert isinstance(b, (int, float)) and not isinstance(b, bool), f"{where}: {a!r} != {b!r}"
        assert (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), \
            f"{where}: {a!r} != {b!r}"
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def assert_same_results(a: Path, b: Path, complete: bool = True) -> dict[str, int]:
    """Folder `a` made the same results as folder `b`: every NetCDF under a/results (values and coordinates to 1e-9),
    every checkpoint's tensors (exactly) and every claim row (numbers to 1e-9; claims.json and results/claims/*.json)
    equal b's file at the same path. complete: `a` also made every such file that `b` has. Returns the counts."""
    import torch
    import xarray as xr

    ra, rb = a / "results", b / "results"

    def files(root: Path, pattern: str) -> list[Path]:
        return sorted(p.relative_to(root) for p in root.rglob(pattern))

    def check_set(pattern: str) -> list[Path]:
        mine, theirs = files(ra, pattern), files(rb, pattern)
        assert mine, f"{ra} has no {pattern}"
        assert set(mine) <= set(theirs), f"{pattern} only in {ra}: {sorted(set(mine) - set(theirs))}"
        assert not complete or mine == theirs, f"{pattern} missing from {ra}: {sorted(set(theirs) - set(mine))}"
        return mine

    claim_files = files(ra, "claims.json") + files(ra, "claims/*.json")
    assert not complete or claim_files, f"{ra} has no claims"
    for rel in claim_files:
        _assert_close_json(json.loads((ra / rel).read_text()), json.loads((rb / rel).read_text()), f"results/{rel}")

    nc = check_set("*.nc")
    for rel in nc:
        with xr.open_dataset(ra / rel) as x, xr.open_dataset(rb / rel) as y:
            try:
                xr.testing.assert_allclose(x.load(), y.load(), rtol=1e-9, atol=1e-12)
            except AssertionError as e:
                raise AssertionError(f"results/{rel} differs:\n{e}") from None

    def same(x, y, where):
        if isinstance(x, dict):
            assert isinstance(y, dict) and x.keys() == y.keys(), where
            for k in x:
                same(x[k], y[k], f"{where}/{k}")
        elif isinstance(x, torch.Tensor):
            torch.testing.assert_close(x, y, rtol=0, atol=0, msg=lambda m: f"{where}: {m}")
        else:
            assert x == y, f"{where}: {x!r} != {y!r}"

    pt = check_set("*.pt")
    for rel in pt:
        same(torch.load(ra / rel, weights_only=True), torch.load(rb / rel, weights_only=True), f"results/{rel}")
    return {"claim files": len(claim_files), "netcdf": len(nc), "checkpoints": len(pt)}
