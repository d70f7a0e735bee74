"""Faults leave clear errors and nothing half-written: corrupted checkpoints, failed writes, diverging runs."""

from __future__ import annotations

import errno
import json

import numpy as np
import pytest
import torch
import xarray as xr

from biocredit import io as bio
from biocredit.learning import EProp
from biocredit.model import ModelConfig
from biocredit.train import TrainConfig, load_checkpoints, save_checkpoints, train
from tests.killed import Killed, die_after


def _result(reach_task):
    cfg = TrainConfig(n_updates=3, lr=1e-2, batch_size=4, n_test_trials=4, checkpoints=(0, 3))
    return train(reach_task, ModelConfig(3, 6, 2), EProp(), cfg, seed=0, progress=False)


def test_checkpoint_with_flipped_number_is_refused(reach_task, tmp_path):
    path = tmp_path / "checkpoints.pt"
    save_checkpoints(_result(reach_task), path)
    payload = torch.load(path, weights_only=True)
    payload["params"]["w_rec"][1, 0, 0] += 1e-3  # silent corruption that any container would accept
    torch.save(payload, path)
    with pytest.raises(ValueError, match="checksum"):
        load_checkpoints(path)


def test_checkpoint_bytes_flipped_are_refused(reach_task, tmp_path):
    path = tmp_path / "checkpoints.pt"
    save_checkpoints(_result(reach_task), path)
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    data[mid : mid + 8] = b"\xff" * 8
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="checkpoints.pt"):
        load_checkpoints(path)


def test_pickled_code_is_never_executed(tmp_path):
    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('unpickled!')",))

    path = tmp_path / "evil.pt"
    torch.save({"format": "biocredit-checkpoints-v1", "x": Boom()}, path)
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        load_checkpoints(path)


@pytest.mark.parametrize("fail_errno", [errno.ENOSPC, errno.EIO])
def test_failed_netcdf_write_leaves_nothing(tmp_path, monkeypatch, fail_errno):
    ds = xr.Dataset({"rate": (("unit", "time"), np.ones((3, 4)))})
    target = tmp_path / "out.nc"
    real = xr.Dataset.to_netcdf

    def half_then_fail(self, path, *a, **k):
        real(self, path, *a, **k)
        with open(path, "r+b") as f:  # the file is there, but cut short, as when the disk fills up
            f.truncate(100)
        raise OSError(fail_errno, "simulated write failure")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", half_then_fail)
    with pytest.raises(OSError):
        bio.write_netcdf(ds, target)
    assert list(tmp_path.iterdir()) == []


def test_existing_output_survives_a_failed_rewrite(tmp_path):
    target = tmp_path / "claims.json"
    bio.write_json([{"id": "old"}], target)

    class Unserialisable:
        pass

    with pytest.raises(TypeError):
        bio.write_json([{"id": Unserialisable()}], target)
    assert json.loads(target.read_text()) == [{"id": "old"}]
    assert [p.name for p in tmp_path.iterdir()] == ["claims.json"]


# --- issue 13: nothing silent -------------------------------------------------------------------------------------


def _train_small(task, resume, lr=1e-2, n_hidden=6, kill_after=None):
    """A 12-update run with a resume state every 4 updates; ``kill_after`` batches, it dies like a killed job."""
    die_after(task, kill_after)
    cfg = TrainConfig(n_updates=12, lr=lr, batch_size=4, n_test_trials=4, checkpoints=(0, 6, 12))
    try:
        return train(task, ModelConfig(3, n_hidden, 2), EProp(), cfg, seed=0, progress=False, resume_path=resume,
                     resume_every=4)
    finally:
        task.__dict__.pop("sample_batch", None)


@pytest.mark.parametrize("change", [{"lr": 5e-2}, {"n_hidden": 8}])
def test_resume_state_of_another_config_is_not_used(reach_task, tmp_path, caplog, change):
    """Kill a run, change lr or n_hidden, rerun: the rerun equals a fresh run of the new config (no crash, no
    optimiser state or weights carried over from the old one), and the log says which setting differs."""
    resume = tmp_path / "resume.pt"
    with pytest.raises(Killed):
        _train_small(reach_task, resume, kill_after=10)  # 1 test batch + 9 updates: state saved at update 8
    assert int(torch.load(resume, weights_only=True)["step"]) == 8
    with caplog.at_level("WARNING", logger="biocredit.train"):
        rerun = _train_small(reach_task, resume, **change)
    fresh = _train_small(reach_task, None, **change)
    np.testing.assert_array_equal(rerun.metrics.loss.values, fresh.metrics.loss.values)
    for a, b in zip(rerun.states, fresh.states, strict=True):
        for k in a:
            assert torch.equal(a[k], b[k]), k
    key = "train.lr" if "lr" in change else "model.n_hidden"
    assert key in caplog.text and "starting from scratch" in caplog.text


def test_resume_state_of_the_same_config_is_used(reach_task, tmp_path, caplog):
    resume = tmp_path / "resume.pt"
    with pytest.raises(Killed):
        _train_small(reach_task, resume, kill_after=10)
    with caplog.at_level("INFO", logger="biocredit.train"):
        resumed = _train_small(reach_task, resume)
    assert "from update 8" in caplog.text
    np.testing.assert_array_equal(resumed.metrics.loss.values, _train_small(reach_task, None).metrics.loss.values)


# item 2: data the config asks for is there, or the run stops naming the path and the URL; skipping is explicit


def _snakemake(*args, env=None):
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    return subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), *args], cwd=REPO,
                          env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=600)


def _smoke_args(workdir, *extra):
    from tests.conftest import REPO

    return ["-d", str(workdir), "--configfile", str(REPO / "config.yaml"), str(REPO / "tests/smoke/config.yaml"),
            *map(str, extra)]


def _failed_dry_run(tmp_path, config_text: str) -> tuple[str, object]:
    """Dry-run the smoke preset plus a config file with ``config_text``; it must fail. Returns its output and the
    config file's path."""
    cfg = tmp_path / "extra.yaml"
    cfg.write_text(config_text)
    out = _snakemake("-n", *_smoke_args(tmp_path, cfg), env={"BIOCREDIT_DATA_MIRROR": ""})
    assert out.returncode != 0
    return out.stdout + out.stderr, cfg


def test_mistyped_mirror_stops_the_run_naming_it(tmp_path):
    out = _snakemake("-n", *_smoke_args(tmp_path), env={"BIOCREDIT_DATA_MIRROR": "/wrong/path"})
    assert out.returncode != 0
    assert "/wrong/path" in out.stdout + out.stderr and "BIOCREDIT_DATA_MIRROR" in out.stdout + out.stderr


def test_dataset_missing_from_the_mirror_stops_the_run_naming_path_and_url(tmp_path):
    from biocredit.data import remote_file

    empty = tmp_path / "mirror"
    empty.mkdir()
    out = _snakemake("-n", *_smoke_args(tmp_path / "work"), env={"BIOCREDIT_DATA_MIRROR": str(empty)})
    text = out.stdout + out.stderr
    entry = remote_file("hatsopoulos2007")
    assert out.returncode != 0
    assert str(empty / entry.relpath) in text and entry.url in text


def test_skipped_dataset_is_the_configs_choice_and_is_reported(tmp_path):
    """Mante is skipped because data.skip lists it (config.yaml), and results/datasets.json says so; without that
    key the same mirror (no Mante) is an error."""
    from biocredit.data import remote_file

    mirror = tmp_path / "mirror"
    hats = mirror / remote_file("hatsopoulos2007").relpath
    hats.parent.mkdir(parents=True)
    hats.write_bytes(b"placeholder: only its presence is checked when planning")
    env = {"BIOCREDIT_DATA_MIRROR": str(mirror)}
    out = _snakemake("--cores", "1", "results/datasets.json", *_smoke_args(tmp_path / "work"), env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    rows = {r["dataset"]: r for r in json.loads((tmp_path / "work/results/datasets.json").read_text())}
    assert rows["mante2013"]["status"] == "skipped" and "data.skip" in rows["mante2013"]["reason"]
    assert rows["hatsopoulos2007"]["status"] == "used"
    no_skip = tmp_path / "noskip.yaml"
    no_skip.write_text("data:\n  skip: []\n")
    out = _snakemake("-n", *_smoke_args(tmp_path / "work2", no_skip), env=env)
    assert out.returncode != 0 and "mante2013" in out.stdout + out.stderr
    assert remote_file("mante2013").url in out.stdout + out.stderr


def test_user_data_path_that_does_not_exist_is_an_error_naming_its_key(tmp_path):
    text, _ = _failed_dry_run(
        tmp_path, "user_data:\n  sussillo2015: {neural: /no/such.mat, emg: /no/e.mat, plan_input: /no/p.mat}\n")
    assert "user_data.sussillo2015.neural" in text and "/no/such.mat" in text


# item 3 (make report after make smoke): tests/test_report.py::test_make_report_reuses_the_preset_of_the_results


def test_every_run_records_its_config_files(tmp_path):
    from tests.conftest import REPO

    out = _snakemake("-n", *_smoke_args(tmp_path), env={"BIOCREDIT_DATA_MIRROR": ""})
    assert "results/configfiles.txt" in out.stdout + out.stderr, out.stderr[-2000:]
    # results made with the smoke preset, a call with another one (a plain `snakemake --report`): a warning says so
    (tmp_path / "results").mkdir()
    (tmp_path / "results/configfiles.txt").write_text(f"{REPO / 'config.yaml'}\n{REPO / 'tests/smoke/config.yaml'}\n")
    out = _snakemake("-n", "-d", str(tmp_path), "--configfile", str(REPO / "config.yaml"),
                     env={"BIOCREDIT_DATA_MIRROR": ""})
    assert "results/ was made with --configfile" in out.stdout + out.stderr


# item 4: half-broken files, bad references, YAML errors


@pytest.fixture
def recordings(tmp_path):
    from biocredit.data.hatsopoulos import load_hatsopoulos, make_fake_hatsopoulos_npy

    raw = tmp_path / "fake.npy"
    sha = make_fake_hatsopoulos_npy(raw, n_units=6)
    path = tmp_path / "hatsopoulos2007.nc"
    bio.write_netcdf(load_hatsopoulos(raw, sha256=sha), path)
    return path


TRAIN_KW = dict(
    task="reach", task_cfg={"n_steps": 300}, arch="tiny", arch_cfg={"n_hidden": 6}, rule="eprop", seed=7,
    train_cfg={"n_updates": 12, "lr": 3e-3, "batch_size": 4, "n_test_trials": 4}, device="cpu", progress=False,
    resume_every=4,
)  # fmt: skip


def test_truncated_netcdf_is_named_with_the_command_that_remakes_it(tmp_path, recordings):
    from biocredit.stages.train import train_run

    out = tmp_path / "run"
    out.mkdir()
    resume = out / "resume.pt"
    resume.write_bytes(b"the state a killed job left behind")
    data = recordings.read_bytes()
    recordings.write_bytes(data[: len(data) // 2])  # the disk filled up while it was written by hand, say
    with pytest.raises(bio.CorruptFileError) as err:
        train_run(str(recordings), str(out / "checkpoints.pt"), str(out / "metrics.nc"), **TRAIN_KW)
    assert str(recordings) in str(err.value) and "--forcerun" in str(err.value)
    assert resume.read_bytes() == b"the state a killed job left behind"  # a failed job keeps what it resumes from


def test_truncated_checkpoint_names_the_command_that_remakes_it(reach_task, tmp_path):
    path = tmp_path / "checkpoints.pt"
    save_checkpoints(_result(reach_task), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="checkpoints.pt") as err:
        load_checkpoints(path)
    assert "--forcerun" in str(err.value)


def test_garbage_mat_file_is_named(tmp_path):
    from biocredit.data.sussillo import read_mat_array

    path = tmp_path / "emg.mat"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ValueError) as err:
        read_mat_array(path)
    assert str(path) in str(err.value)


def test_reference_to_a_missing_arch_row_names_key_and_config_file(tmp_path):
    text, cfg = _failed_dry_run(tmp_path, "similarity:\n  archs: [base, nosucharch]\n")
    assert "similarity.archs" in text and "nosucharch" in text and str(cfg) in text


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    from biocredit.configcheck import check_yaml_file, main

    bad = tmp_path / "bad.yaml"
    bad.write_text("similarity:\n  seeds: [1, 2\n  rules: [bptt]\n")
    message = check_yaml_file(bad)
    assert message.startswith(f"{bad}:3:") and "YAML" in message
    assert check_yaml_file(tmp_path.parent / "nothere.yaml") != ""
    from tests.conftest import REPO

    assert main([str(REPO / "config.yaml"), str(REPO / "tests/smoke/config.yaml")]) == 0
    assert main([str(REPO / "config.yaml"), str(bad)]) == 1


SCHEMA_KEYWORDS = {"type", "description", "default", "items", "properties", "additionalProperties", "enum",
                   "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minItems", "maxItems",
                   "minProperties", "propertyNames", "pattern", "required", "oneOf", "anyOf", "allOf", "$schema",
                   "uniqueItems", "const", "title", "$ref", "definitions", "$defs", "not", "minLength", "maxLength",
                   "if", "then", "else", "examples", "patternProperties", "contains", "format"}


def test_schema_descriptions_are_whole():
    """A flow mapping's unquoted description is cut at its first comma (the rest becomes a stray key)."""
    import yaml

    from tests.conftest import REPO

    schema = yaml.safe_load((REPO / "rules/schemas/config.schema.yaml").read_text())
    seeds = schema["properties"]["generalization"]["properties"]["seeds"]
    assert "(task, rule)" in seeds["description"]
    stray = []

    def walk(node, where):
        if isinstance(node, dict):
            if "type" in node or "description" in node:
                stray.extend(f"{where}: {k!r}" for k in node if k not in SCHEMA_KEYWORDS)
            for k, v in node.items():
                if k in ("properties", "patternProperties", "definitions", "$defs"):
                    for name, sub in v.items():
                        walk(sub, f"{where}.{name}")
                elif isinstance(v, (dict, list)):
                    walk(v, f"{where}/{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{where}[{i}]")

    walk(schema, "schema")
    assert not stray, stray


# item 5: outputs honour the umask


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_outputs_honour_the_umask(reach_task, tmp_path, umask):
    import os
    import stat

    old = os.umask(umask)
    try:
        bio.write_json({"a": 1}, tmp_path / "claims.json")
        bio.write_netcdf(xr.Dataset({"x": ("i", np.arange(3.0))}), tmp_path / "out.nc")
        save_checkpoints(_result(reach_task), tmp_path / "checkpoints.pt")
    finally:
        os.umask(old)
    for name in ("claims.json", "out.nc", "checkpoints.pt"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o666 & ~umask, name


# item 6: byte-identical reruns


def test_checkpoint_saved_twice_is_byte_identical(reach_task, tmp_path):
    result = _result(reach_task)
    path = tmp_path / "checkpoints.pt"
    save_checkpoints(result, path)
    first = path.read_bytes()
    save_checkpoints(result, path)  # a rerun: same numbers, another temporary file name
    assert path.read_bytes() == first
    other = tmp_path / "elsewhere" / "checkpoints.pt"
    save_checkpoints(result, other)
    assert other.read_bytes() == first


def test_jittered_figure_is_byte_identical_across_reruns(tmp_path):
    import pandas as pd

    from biocredit.figures.similarity import distance_across_archs
    from biocredit.figures.style import save

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"arch": np.repeat(["base", "gain2"], 6), "rule": np.tile(np.repeat(["bptt", "eprop"], 3), 2),
                       "seed": np.tile([1, 2, 3], 4), "procrustes": rng.uniform(0.2, 0.4, 12)})
    shares = {"rule": 0.1, "architecture": 0.5, "residual": 0.4}
    paths = [tmp_path / f"A4_{k}.png" for k in range(2)]
    for p in paths:
        np.random.uniform(size=7)  # noqa: NPY002 - whatever else used NumPy's global state before the figure
        save(distance_across_archs(df, shares, 0.8, "A4"), p)
    assert paths[0].read_bytes() == paths[1].read_bytes()


# item 7: progress on the console


def test_training_progress_reaches_the_console(tmp_path, recordings):
    """A Snakemake job's stderr is the console; configure() sends logging to the job's log, and the training
    progress to the console as one line per run (name, update, accuracy)."""
    import subprocess
    import sys

    log = tmp_path / "train.log"
    out = tmp_path / "run"
    kw = dict(TRAIN_KW, progress=True)
    script = (
        "import json, sys; from biocredit.stages import job, train; job.configure(sys.argv[1]); "
        "train.train_run(sys.argv[2], sys.argv[3], sys.argv[4], **json.loads(sys.argv[5]))"
    )
    proc = subprocess.run([sys.executable, "-c", script, str(log), str(recordings), str(out / "checkpoints.pt"),
                           str(out / "metrics.nc"), json.dumps(kw)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "train reach/tiny/eprop seed 7" in line]
    assert lines, f"no progress line on the console: {proc.stderr!r}"
    assert "/13" in lines[-1] and "acc=" in lines[-1] and len(lines) <= 3  # the start, the end (few seconds)
    assert "trained" in log.read_text()  # the log still gets the job's messages
