"""Batched seed groups (biocredit.batched): the batched core against an autograd oracle, and train_group's
per-seed numbers against separate train() runs."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from biocredit.batched import BatchedRNN, batched_recurrence, train_group
from biocredit.learning import BPTT, MDGL, RFLO, EProp, EPropRandom, TruncatedBPTT
from biocredit.model import ModelConfig, RateRNN
from biocredit.train import TrainConfig, save_checkpoints, train
from tests.conftest import assert_same_run


@pytest.fixture(autouse=True)
def one_thread():
    """Every comparison here runs on one intra-op thread, as the workflow's jobs do (``threads: 1``): with more,
    the CPU BLAS splits a product differently in the batched and the single path, and the last bits differ (which
    a diverging run then amplifies without bound)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

RULES = [BPTT(), EProp(), TruncatedBPTT(window=3)]
SEEDS = [3, 4, 11]


def _cfg(n=6, **kw):
    return TrainConfig(n_updates=n, lr=1e-2, batch_size=8, n_test_trials=8, checkpoints=(0, 1, 2, n), **kw)


@pytest.mark.parametrize("arch", [
    dict(),
    dict(tau=1.0, activation="tanh", learn_bias=False, no_autapses=True),
    dict(activation="relu", dale=True, density=0.5),
])
@pytest.mark.parametrize("rule", RULES, ids=lambda r: repr(r))
def test_batched_model_equals_single_networks_float64(rule, arch):
    """Oracle: each network's output and gradients through the batched core (fused and the bmm autograd loop) equal
    the single RateRNN's reference autograd loop in float64, for every parameter."""
    torch.manual_seed(0)
    configs = [ModelConfig(3, 7, 2, conn_seed=s, **arch) for s in (0, 1)]
    singles = [RateRNN(c, generator=torch.Generator().manual_seed(s)).double() for s, c in enumerate(configs)]
    x = torch.randn(2, 4, 9, 3, dtype=torch.float64)
    target = torch.randn(2, 4, 9, 2, dtype=torch.float64)
    ref = []
    for i, m in enumerate(singles):
        y, h = m(x[i], rule, fused=False)
        ((y - target[i]) ** 2).sum().add((h**2).sum() * 0.1).backward()
        ref.append((y.detach(), {n: p.grad.clone() for n, p in m.named_parameters() if p.grad is not None}))
    for fused in (True, False):
        batched = BatchedRNN(singles)
        y, h = batched(x, rule, fused=fused)
        y = y.transpose(1, 2)
        (((y - target) ** 2).sum() + (h**2).sum() * 0.1).backward()
        for i, (y_ref, g_ref) in enumerate(ref):
            torch.testing.assert_close(y[i].detach(), y_ref, rtol=1e-12, atol=1e-12)
            for name, g in g_ref.items():
                torch.testing.assert_close(getattr(batched, name).grad[i], g, rtol=1e-11, atol=1e-12, msg=name)


def test_batched_recurrence_rejects_nothing_it_should_keep():
    """The cut schedule matters: BPTT and e-prop give different gradients through the batched core (the test above
    could not fail if the schedule were ignored and both were the same)."""
    torch.manual_seed(1)
    drive = torch.randn(2, 6, 3, 5, dtype=torch.float64)
    a0 = torch.zeros(2, 5, dtype=torch.float64)
    w = torch.randn(2, 5, 5, dtype=torch.float64, requires_grad=True)
    grads = []
    for cut in ([False] * 6, [True] * 6):
        w.grad = None
        batched_recurrence(drive, a0, w, 0.5, "tanh", cut).sum().backward()
        grads.append(w.grad.clone())
    assert not torch.allclose(grads[0], grads[1])


@pytest.mark.parametrize("rule", RULES, ids=lambda r: repr(r))
def test_group_equals_separate_runs(reach_task, rule):
    """train_group's per-seed metrics and checkpoints equal separate train() runs (float32, CPU). Bit equality is
    what this machine gives; where a BLAS rounds a batched product differently, the float tolerance of
    _assert_same is the contract, so the check falls back to it."""
    cfg = _cfg(weight_decay=1e-3)
    group = train_group(reach_task, ModelConfig(3, 12, 2), rule, cfg, SEEDS, device="cpu")
    for seed, g in zip(SEEDS, group, strict=True):
        single = train(reach_task, ModelConfig(3, 12, 2), rule, cfg, seed=seed, device="cpu", progress=False)
        assert_same_run(g, single, exact=False)
        assert g.metrics.attrs["seed"] == seed


def test_group_bit_identical_on_cpu(reach_task):
    """On this CPU the batched products round as the single ones: equal bit for bit (e-prop, Dale + sparse masks
    per seed, with the adaptive penalty)."""
    seeds = [5, 6]
    configs = [ModelConfig(3, 12, 2, activation="relu", dale=True, density=0.5, conn_seed=s) for s in seeds]
    cfg = _cfg(n=5, activity_penalty=50.0)
    group = train_group(reach_task, configs, EProp(), cfg, seeds, device="cpu")
    for c, seed, g in zip(configs, seeds, group, strict=True):
        single = train(reach_task, c, EProp(), cfg, seed=seed, device="cpu", progress=False)
        assert_same_run(g, single, exact=True)
    # the penalty adapted in this run (so the per-seed adaptation is exercised)
    assert group[0].metrics.penalty_weight.values[-1] < 50.0


def test_group_is_reproducible_and_saves(reach_task, tmp_path):
    cfg = _cfg()
    a = train_group(reach_task, ModelConfig(3, 12, 2), EProp(), cfg, [1, 2], device="cpu")
    b = train_group(reach_task, ModelConfig(3, 12, 2), EProp(), cfg, [1, 2], device="cpu")
    for ra, rb in zip(a, b, strict=True):
        assert_same_run(ra, rb, exact=True)
    save_checkpoints(a[0], tmp_path / "a.pt")
    save_checkpoints(b[0], tmp_path / "b.pt")
    assert (tmp_path / "a.pt").read_bytes() == (tmp_path / "b.pt").read_bytes()
    assert not torch.equal(a[0].states[-1]["w_rec"], a[1].states[-1]["w_rec"])


def test_one_diverging_seed_stops_alone(reach_task):
    """A seed whose loss turns non-finite stops where its separate run stops; the others are unaffected."""
    cfg = TrainConfig(n_updates=6, lr=1e3, batch_size=8, n_test_trials=8, checkpoints=(0, 1, 2, 6),
                      optimizer="sgd", activity_penalty=0.0)
    seeds = list(range(6))
    singles = [train(reach_task, ModelConfig(3, 12, 2, activation="tanh"), BPTT(), cfg, seed=s, device="cpu",
                     progress=False) for s in seeds]
    diverged = [r.metrics.attrs["diverged_at"] for r in singles]
    if all(d < 0 for d in diverged) or all(d >= 0 for d in diverged):
        pytest.skip(f"this lr does not split the seeds into diverging and finite ones here ({diverged})")
    group = train_group(reach_task, ModelConfig(3, 12, 2, activation="tanh"), BPTT(), cfg, seeds, device="cpu")
    for g, s in zip(group, singles, strict=True):
        assert_same_run(g, s, exact=False)


@pytest.mark.parametrize("rule", [BPTT(), EProp()], ids=lambda r: r.name)
def test_each_seed_stops_at_its_own_update_as_its_separate_run(reach_task, rule):
    """With a stop criterion, each seed of a group ends where its separate train() run ends (same checkpoints,
    metrics and attributes); the seeds stop at different updates, so the test can tell them apart."""
    cfg = TrainConfig(n_updates=40, lr=5e-3, batch_size=8, n_test_trials=16, checkpoints=tuple(range(0, 41, 4)),
                      stop_metric="test_loss", stop_patience=1)
    seeds = [1, 2, 3, 4]
    free = [train(reach_task, ModelConfig(3, 12, 2), rule, cfg, seed=s, device="cpu", progress=False) for s in seeds]
    # the stop level: the median over seeds of the test loss at update 20, so some seeds reach it and some do not
    level = float(np.median([r.metrics.test_loss.sel(checkpoint=20) for r in free]))
    cfg = replace(cfg, stop_at=level)
    singles = [train(reach_task, ModelConfig(3, 12, 2), rule, cfg, seed=s, device="cpu", progress=False)
               for s in seeds]
    stops = [r.metrics.attrs["stopped_at"] for r in singles]
    assert len(set(stops)) > 1, stops
    group = train_group(reach_task, ModelConfig(3, 12, 2), rule, cfg, seeds, device="cpu")
    for g, s in zip(group, singles, strict=True):
        assert_same_run(g, s, exact=False)
        for key in ("stopped_at", "reached_criterion", "stop_criterion"):
            assert g.metrics.attrs[key] == s.metrics.attrs[key], key


@pytest.mark.parametrize("rule", [EPropRandom(n_hidden=12, n_out=2), RFLO(n_hidden=12, n_out=2), MDGL()],
                         ids=lambda r: r.name)
def test_unsupported_rules_are_refused_by_name(reach_task, rule):
    with pytest.raises(ValueError, match=repr(rule.name)):
        train_group(reach_task, ModelConfig(3, 12, 2), rule, _cfg(), [0, 1], device="cpu")


def test_bad_groups_are_refused(reach_task):
    with pytest.raises(ValueError, match="repeated seeds"):
        train_group(reach_task, ModelConfig(3, 12, 2), BPTT(), _cfg(), [1, 1], device="cpu")
    with pytest.raises(ValueError, match="share their architecture"):
        train_group(reach_task, [ModelConfig(3, 12, 2), ModelConfig(3, 13, 2)], BPTT(), _cfg(), [1, 2],
                    device="cpu")
    with pytest.raises(ValueError, match="2 model configs for 3 seeds"):
        train_group(reach_task, [ModelConfig(3, 12, 2)] * 2, BPTT(), _cfg(), [1, 2, 3], device="cpu")
    with pytest.raises(ValueError, match="grad_clip"):
        train_group(reach_task, ModelConfig(3, 12, 2), BPTT(), _cfg(grad_clip=1.0), [1, 2], device="cpu")
    with pytest.raises(ValueError, match="'train_set_accuracy' is not one of them"):
        train_group(reach_task, ModelConfig(3, 12, 2), BPTT(), _cfg(stop_at=0.5, stop_metric="train_set_accuracy"),
                    [1, 2], device="cpu")
    with pytest.raises(ValueError, match="at least one seed"):
        train_group(reach_task, ModelConfig(3, 12, 2), BPTT(), _cfg(), [], device="cpu")


def test_group_runs_write_the_files_train_run_writes(tmp_path):
    """The workflow-level entry point: each seed's checkpoint file is byte-identical to train_run's, and its metrics
    NetCDF holds the same numbers and attributes (sparse arch: the mask follows each run's seed)."""
    import xarray as xr

    from biocredit.data.hatsopoulos import load_hatsopoulos, make_fake_hatsopoulos_npy
    from biocredit.io import write_netcdf
    from biocredit.stages.train import train_run
    from biocredit.stages.train_group import train_group_runs

    raw = tmp_path / "fake.npy"
    sha = make_fake_hatsopoulos_npy(raw, n_units=6)
    data = tmp_path / "data.nc"
    write_netcdf(load_hatsopoulos(raw, sha256=sha), data)
    kw = dict(task="reach", task_cfg={}, arch="sparse", arch_cfg={"n_hidden": 10, "density": 0.5}, rule="eprop",
              train_cfg={"n_updates": 4, "lr": 5e-3, "batch_size": 4, "n_test_trials": 4}, device="cpu")
    seeds = [1, 2]
    outs = [(str(tmp_path / f"g{s}" / "checkpoints.pt"), str(tmp_path / f"g{s}" / "metrics.nc")) for s in seeds]
    train_group_runs(str(data), outs, seeds=seeds, **kw)
    for seed, (ckpt, met) in zip(seeds, outs, strict=True):
        d = tmp_path / f"s{seed}"
        train_run(str(data), str(d / "checkpoints.pt"), str(d / "metrics.nc"), seed=seed, progress=False,
                           **kw)
        assert (d / "checkpoints.pt").read_bytes() == open(ckpt, "rb").read()
        with xr.open_dataset(met) as a, xr.open_dataset(d / "metrics.nc") as b:
            xr.testing.assert_identical(a.load(), b.load())
    with pytest.raises(ValueError, match="'eprop_random'"):
        train_group_runs(str(data), outs, seeds=seeds, **{**kw, "rule": "eprop_random"})
    with pytest.raises(ValueError, match="2 output pairs for 3 seeds"):
        train_group_runs(str(data), outs, seeds=[1, 2, 3], **kw)


def test_workflow_plans_group_jobs_only_when_asked(tmp_path):
    """`group_seeds: true` replaces the per-seed study-A train jobs of bptt/eprop/tbptt by one train_group job per
    (task, arch, rule) with every seed's outputs; the default plans none (dry runs)."""
    import subprocess
    import sys

    from tests.conftest import REPO

    def dry(*extra):
        proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", "-d", str(tmp_path / "w"), "--configfile",
                               str(REPO / "config.yaml"), *extra], cwd=REPO, capture_output=True, text=True,
                              timeout=900)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        return proc.stdout + proc.stderr

    def counts(text):
        rows = [line.split() for line in text.splitlines() if line.startswith(("train ", "train_group "))]
        return {r[0]: int(r[1]) for r in rows}

    plain = counts(dry())
    on = tmp_path / "group.yaml"
    on.write_text("group_seeds: true\n")
    grouped_text = dry(str(on))
    grouped = counts(grouped_text)
    assert "train_group" not in plain and grouped["train_group"] > 0
    import yaml

    n_seeds = len(yaml.safe_load((REPO / "config.yaml").read_text())["similarity"]["seeds"])
    assert plain["train"] - grouped["train"] == grouped["train_group"] * n_seeds
    assert "results/logs/train_group/similarity/reach/base/eprop.log" in grouped_text


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
@pytest.mark.parametrize("rule", [BPTT(), EProp()], ids=lambda r: r.name)
def test_group_on_cuda_matches_separate_cuda_runs(reach_task, rule):
    """On a GPU, cuBLAS may round a batched product unlike the single one: per-seed numbers agree to the float32
    tolerance of _assert_same (a few updates), not bit for bit."""
    cfg = _cfg()
    group = train_group(reach_task, ModelConfig(3, 12, 2), rule, cfg, SEEDS, device="cuda")
    for seed, g in zip(SEEDS, group, strict=True):
        single = train(reach_task, ModelConfig(3, 12, 2), rule, cfg, seed=seed, device="cuda", progress=False)
        assert_same_run(g, single, exact=False)


@pytest.mark.slow
def test_grouped_workflow_jobs_write_the_files_separate_jobs_write(tmp_path, mirror):
    """The grouped path for real (CPU, smoke scale, stop criterion on): `group_seeds: true` trains each (arch, rule)'s
    seeds as one train_group job, and every seed's checkpoint file is byte-identical, and its metrics the same, as
    the per-seed train jobs write."""
    import xarray as xr

    from tests.conftest import REPO
    from tests.test_workflow import SMOKE, snakemake

    stop = tmp_path / "stop.yaml"  # the stop criterion is on (a level every run passes at its second checkpoint)
    stop.write_text("similarity:\n  training: {stop_at: -10.0, stop_patience: 1}\n")
    runs = [f"results/runs/similarity/reach/base/{r}/seed{s}/{f}" for r in ("bptt", "eprop") for s in (1, 2)
            for f in ("checkpoints.pt", "metrics.nc")]
    for mode in ("false", "true"):
        group = tmp_path / f"group-{mode}.yaml"
        group.write_text(f"group_seeds: {mode}\n")
        snakemake("-d", str(tmp_path / mode), "--configfile", str(REPO / "config.yaml"), str(SMOKE), str(stop),
                  str(group), "--cores", "1", *runs, env={"BIOCREDIT_DATA_MIRROR": str(mirror)})
    assert (tmp_path / "true/results/logs/train_group/similarity/reach/base/eprop.log").exists()
    assert not (tmp_path / "false/results/logs/train_group").exists()
    for path in runs:
        a, b = tmp_path / "false" / path, tmp_path / "true" / path
        if path.endswith(".pt"):
            assert a.read_bytes() == b.read_bytes(), path
        else:
            with xr.open_dataset(a) as da, xr.open_dataset(b) as db:
                xr.testing.assert_identical(da.load(), db.load())
                assert da.attrs["reached_criterion"] == 1 and da.attrs["stopped_at"] < da.sizes["update"]


def test_group_seeds_auto_groups_where_cuda_is_present(tmp_path):
    """`group_seeds: auto` plans train_group jobs when CUDA is present where the workflow is planned (pretended
    here: a sitecustomize module makes torch.cuda.is_available() true in the Snakemake process), none otherwise."""
    from tests.conftest import REPO
    from tests.test_workflow import snakemake

    fake = tmp_path / "fake_cuda"
    fake.mkdir()
    (fake / "sitecustomize.py").write_text("import torch\ntorch.cuda.is_available = lambda: True\n")
    auto = tmp_path / "auto.yaml"
    auto.write_text("group_seeds: auto\n")

    def planned(env):
        out = snakemake("-n", "-d", str(tmp_path / "w"), "--configfile", str(REPO / "config.yaml"), str(auto),
                        env=env)
        return {line.split()[0]: int(line.split()[1]) for line in (out.stdout + out.stderr).splitlines()
                if line.startswith(("train ", "train_group "))}

    import os

    with_cuda = planned({"PYTHONPATH": os.pathsep.join([str(fake), os.environ.get("PYTHONPATH", "")])})
    without = planned({})
    assert with_cuda.get("train_group", 0) > 0 and "train_group" not in without
    import yaml

    n_seeds = len(yaml.safe_load((REPO / "config.yaml").read_text())["similarity"]["seeds"])
    assert without["train"] - with_cuda["train"] == with_cuda["train_group"] * n_seeds  # one group per seed set
