"""The workflow as a user runs it: lint, dry run of the default config, the smoke preset end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import xarray as xr

from tests.conftest import REPO

SNAKEMAKE = [sys.executable, "-m", "snakemake"]
SMOKE = REPO / "tests" / "smoke" / "config.yaml"


def snakemake(*args, cwd=REPO, env=None, check=True):
    proc = subprocess.run(
        [*SNAKEMAKE, *args], cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=900
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n"
                             f"{proc.stderr[-3000:]}")
    return proc


def test_lint_is_clean():
    out = snakemake("--lint", check=False)
    assert out.returncode == 0, out.stdout + out.stderr


def test_dry_run_of_default_config(tmp_path):
    out = snakemake("-n", "-s", str(REPO / "Snakefile"), "-d", str(tmp_path), "--configfile", str(REPO / "config.yaml"))
    text = out.stdout + out.stderr
    assert "train" in text and "figure_a2" in text


def test_unknown_config_key_is_named(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("similarity:\n  seedz: [1]\n")
    out = snakemake("-n", "-d", str(tmp_path), "--configfile", str(REPO / "config.yaml"), str(bad), check=False)
    assert out.returncode != 0
    assert "seedz" in out.stdout + out.stderr


def test_wrong_type_is_named(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("similarity:\n  training:\n    lr: fast\n")
    out = snakemake("-n", "-d", str(tmp_path), "--configfile", str(REPO / "config.yaml"), str(bad), check=False)
    assert out.returncode != 0
    assert "fast" in out.stdout + out.stderr


@pytest.mark.slow
def test_smoke_preset_runs_whole_dag_then_has_nothing_to_do(tmp_path, mirror):
    args = ["-s", str(REPO / "Snakefile"), "-d", str(tmp_path), "--configfile", str(REPO / "config.yaml"), str(SMOKE),
            "--cores", "2"]
    env = {"BIOCREDIT_DATA_MIRROR": str(mirror)}
    snakemake(*args, env=env)
    res = tmp_path / "results"
    claims = json.loads((res / "claims.json").read_text())
    row = {r["id"]: r for r in claims}["A2-hatsopoulos2007"]
    assert row["preset"] == "smoke" and isinstance(row["holds"], bool) and row["n"] == 4  # runs of the first arch
    assert row["value"] is not None and len(row["ci"]) == 2
    assert (res / "figures/A/A2_hatsopoulos2007.png").stat().st_size > 10_000
    assert (res / "figures/A/A1_reach.png").stat().st_size > 10_000
    assert (res / "figures/A/A3_hatsopoulos2007.png").stat().st_size > 10_000
    assert {f"A{k}-hatsopoulos2007" for k in range(2, 8)} <= {r["id"] for r in claims}
    for k in (4, 5, 6, 7):
        assert (res / f"figures/A/A{k}_hatsopoulos2007.png").stat().st_size > 10_000
    with xr.open_dataset(res / "data/hatsopoulos2007.nc") as ds:
        assert ds["rate"].dims == ("unit", "time", "condition") and ds.sizes["unit"] == 141
        assert ds.attrs["sha256"].startswith("42ba0083")
    with xr.open_dataset(res / "activity/similarity/reach/base/eprop/seed1/activity.nc") as act:
        assert act["rate"].dims == ("checkpoint", "unit", "time", "condition")
        assert float(act.time[0]) == -800 and act.sizes["unit"] == 16
    again = snakemake(*args, "-n", env=env)
    assert "Nothing to be done" in again.stdout + again.stderr


def test_paper_preset_expands_the_grid(tmp_path):
    # no mirror: downloadable data (Hatsopoulos, Mante) are planned; Sussillo (not public, not configured) is not
    out = snakemake("-n", "-d", str(tmp_path), "--configfile", str(REPO / "config.yaml"),
                    str(REPO / "presets/paper.yaml"), env={"BIOCREDIT_DATA_MIRROR": ""})
    text = out.stdout + out.stderr
    outputs = [line for line in text.splitlines() if line.strip().startswith("output:")]
    study_a_runs = [line for line in outputs if "results/runs/similarity/" in line and "checkpoints.pt" in line]
    # reach: seven arch rows (g0 0.5/1/1.5/2, tanh, Dale, sparse) x two rules x five seeds; Mante: the paper's
    # N=400 row x two rules x five seeds
    assert len(study_a_runs) == 7 * 2 * 5 + 2 * 5
    assert sum("runs/similarity/mante/base400/" in line for line in study_a_runs) == 10
    assert sum("runs/similarity/reach/dale/" in line for line in study_a_runs) == 10
    assert any("results/runs/generalization/smnist/" in line for line in outputs)  # study B on MNIST


def test_modprop_on_an_arch_without_dale_is_refused_naming_why(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("similarity:\n  rules: [bptt, modprop]\n")
    out = snakemake("-n", "-d", str(tmp_path), "--configfile", str(REPO / "config.yaml"), str(bad), check=False)
    text = out.stdout + out.stderr
    assert out.returncode != 0
    assert "'modprop' cannot train arch" in text and "ReLU" in text and "similarity.rules" in text


def test_modprop_preset_plans_its_grid(tmp_path):
    out = snakemake("-n", "-d", str(tmp_path), "--configfile", str(REPO / "config.yaml"),
                    str(REPO / "presets/modprop.yaml"), env={"BIOCREDIT_DATA_MIRROR": ""})
    text = out.stdout + out.stderr
    runs = {line.strip() for line in text.splitlines()
            if line.strip().startswith("output:") and "results/runs/similarity/" in line and "checkpoints.pt" in line}
    assert len(runs) == 3 * 3  # reach on relu_dale x (bptt, modprop, bptt_random) x three seeds
    assert all("/reach/relu_dale/" in line for line in runs)
    assert sum("/modprop/" in line for line in runs) == 3


@pytest.mark.slow
def test_rule_training_overrides_one_rules_training_only(tmp_path, mirror):
    """similarity.rule_training: the authors pair BPTT at lr 1e-3 with e-prop at 3e-4 on the reach task. The override
    reaches that rule's runs only (their metrics log records the training settings); a key that `training` does not
    have is an error naming it."""
    extra = tmp_path / "extra.yaml"
    # with the preset's early stop on (study A's stop metric is the test accuracy; a level every run passes at once)
    extra.write_text("similarity:\n  rule_training: {bptt: {lr: 0.05}}\n  training: {stop_at: -10.0}\n")
    runs = "results/runs/similarity/reach/base/{}/seed1/metrics.nc"
    snakemake("-s", str(REPO / "Snakefile"), "-d", str(tmp_path), "--configfile", str(REPO / "config.yaml"),
              str(SMOKE), str(extra), "--cores", "1", runs.format("bptt"), runs.format("eprop"),
              env={"BIOCREDIT_DATA_MIRROR": str(mirror)})
    lrs = {}
    for rule in ("bptt", "eprop"):
        with xr.open_dataset(tmp_path / runs.format(rule)) as m:
            lrs[rule] = json.loads(m.attrs["train_cfg"])["lr"]
            assert m.attrs["stopped_at"] < 30 and m.attrs["reached_criterion"] == 1  # smoke: 30 updates
    assert lrs == {"bptt": 0.05, "eprop": 0.005}  # eprop keeps the smoke preset's training.lr
    extra.write_text("similarity:\n  rule_training: {bptt: {learning_rate: 0.05}}\n")
    out = snakemake("-n", "-d", str(tmp_path), "--configfile", str(REPO / "config.yaml"), str(SMOKE), str(extra),
                    check=False)
    assert out.returncode != 0 and "similarity.rule_training.bptt.learning_rate" in out.stdout + out.stderr
