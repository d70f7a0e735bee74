"""Study B: run names and grid, the sMNIST net's options (He init, no autapses), the L2 term, the evaluation hook,
the curvature stage against a dense Hessian, the claims on synthetic summaries, and the smoke workflow."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
import xarray as xr

from biocredit import runs as run_grid
from biocredit.claims import study_b as claims_b
from biocredit.learning import BPTT, make_rule
from biocredit.model import ModelConfig, RateRNN
from biocredit.stages.curvature import curvature_run
from biocredit.stages.data import download_mnist
from biocredit.stages.generalization import summarize
from biocredit.tasks import SequentialDigits
from biocredit.train import TrainConfig, evaluation_batches, save_checkpoints, seed_streams, train, weight_decay_term
from tests.conftest import REPO

# ---------------------------------------------------------------------------------------------- names and grid


def test_variant_names_round_trip_and_refusals():
    assert run_grid.variant_name("tbptt", window=4) == "tbptt-w4"
    assert run_grid.variant_name("eprop", lr=0.05) == "eprop-lr0.05"
    assert run_grid.variant_name("bptt", lr=1e-5) == "bptt-lr0.00001"
    v = run_grid.parse_variant("tbptt-w4-lr0.2")
    assert v == {"rule": "tbptt", "window": 4, "lr": 0.2, "options": {"window": 4}}
    assert run_grid.parse_variant("eprop_random")["options"] == {}
    for bad in ("eprop-w4", "tbptt-w4-w2", "bptt-x3", "-lr0.1", "bptt-lr1e-3", "tbptt-w0"):
        with pytest.raises(ValueError):
            run_grid.parse_variant(bad)
    with pytest.raises(ValueError):
        run_grid.variant_name("eprop", window=2)


def test_evaluation_schedule_is_the_authors():
    sched = run_grid.evaluation_schedule(10000, 40)
    assert sched[:3] == [0, 250, 500] and sched[-2:] == [9750, 10000] and len(sched) == 41
    assert run_grid.evaluation_schedule(16000, 40)[-2:] == [15600, 16000]


CFG = {
    "tasks": ["sdigits", "decision"],
    "arch": "small",
    "task_arch": {"decision": "leaky"},
    "rules": ["bptt", "tbptt-w4", "eprop"],
    "seeds": [1, 2],
    "updates_factor": {"eprop": 1.6},
    "training": {"n_updates": 100, "n_checkpoints": 10, "lr": 0.1, "batch_size": 8, "weight_decay": 1e-3},
    "task_training": {"decision": {"batch_size": 4}},
    "remedies": {"task": "sdigits", "lr_rules": ["bptt", "eprop"], "lrs": [0.05, 0.1], "windows": [2, 4]},
}


def test_train_config_applies_variant_factor_and_task_overrides():
    c = run_grid.train_config(CFG, "sdigits", "eprop-lr0.05")
    assert c["lr"] == 0.05 and c["n_updates"] == 160 and c["checkpoints"][-1] == 160 and len(c["checkpoints"]) == 11
    assert "n_checkpoints" not in c
    TrainConfig(**c)  # every key is a TrainConfig field
    assert run_grid.train_config(CFG, "decision", "tbptt-w4")["batch_size"] == 4
    assert run_grid.train_config(CFG, "decision", "tbptt-w4")["n_updates"] == 100
    full = {"tasks": {"sdigits": {}}, "archs": {"small": {"n_hidden": 4}}, "rule_options": {"tbptt": {"window": 10}},
            "generalization": CFG}
    run = run_grid.run_config(full, "sdigits", "small", "tbptt-w4")
    assert run["rule"] == "tbptt" and run["rule_options"] == {"window": 4}


def test_grid_main_and_remedy_runs_without_duplicates():
    runs = run_grid.grid(CFG)
    keys = [(r["task"], r["rule"], r["seed"]) for r in runs]
    assert len(keys) == len(set(keys))
    main = [r for r in runs if r["main"]]
    assert len(main) == 2 * 3 * 2 and {r["arch"] for r in main if r["task"] == "decision"} == {"leaky"}
    names = {r["rule"] for r in runs if r["task"] == "sdigits"}
    assert names == {"bptt", "tbptt-w4", "eprop", "bptt-lr0.05", "eprop-lr0.05", "mdgl", "tbptt-w2"}
    bptt1 = next(r for r in runs if (r["task"], r["rule"], r["seed"]) == ("sdigits", "bptt", 1))
    assert bptt1["main"] and bptt1["lr_sweep"] and bptt1["terms"]
    assert run_grid.terms_axis([4, 2]) == ["eprop", "mdgl", "tbptt-w2", "tbptt-w4", "bptt"]


# ---------------------------------------------------------------------------------------------- model options


def test_he_init_variances_and_glorot_readout():
    n, n_in, n_out = 400, 300, 10
    m = RateRNN(ModelConfig(n_in, n, n_out, init="he"), generator=torch.Generator().manual_seed(0))
    assert m.w_in.var().item() == pytest.approx(2 / n_in, rel=0.02)
    assert m.w_rec.var().item() == pytest.approx(2 / n, rel=0.02)
    bound = math.sqrt(6 / (n + n_out))
    assert m.w_out.abs().max().item() <= bound and m.w_out.abs().max().item() > 0.98 * bound
    assert m.w_out.var().item() == pytest.approx(bound**2 / 3, rel=0.05)
    # the default init is unchanged (study A's numbers): the same draws as before the option existed
    g = torch.Generator().manual_seed(1)
    old = RateRNN(ModelConfig(3, 5, 2), generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(old.w_in, torch.randn(5, 3, generator=g) / math.sqrt(3))
    torch.testing.assert_close(old.w_rec, 1.5 * torch.randn(5, 5, generator=g) / math.sqrt(5))
    with pytest.raises(ValueError):
        ModelConfig(3, 5, 2, init="xavier")


@pytest.mark.parametrize("rule", ["bptt", "eprop", "rflo", "mdgl"])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_no_autapses_keeps_the_diagonal_at_zero(rule, optimizer):
    task = SequentialDigits.from_sklearn_digits(n_train=40, n_validation=20, n_test=20)
    cfg = ModelConfig(8, 12, 10, tau=1.0, activation="relu", init="he", no_autapses=True, learn_bias=False)
    tc = TrainConfig(n_updates=5, lr=0.05, optimizer=optimizer, batch_size=8, n_test_trials=8, checkpoints=(0, 5),
                     activity_penalty=0.0, adapt_penalty=False, weight_decay=0.01)
    r = train(task, cfg, make_rule(rule, **({"seed": 0} if rule == "rflo" else {})), tc, seed=0, progress=False)
    for s in r.states:
        assert torch.all(torch.diagonal(s["w_rec"]) == 0)
        assert torch.all(s["b"] == 0)
    assert not torch.equal(r.states[0]["w_rec"], r.states[-1]["w_rec"])
    # gradients on the diagonal are zero in both paths
    m = RateRNN(cfg, generator=torch.Generator().manual_seed(0))
    b = task.train_set()
    for fused in (True, False):
        m.zero_grad()
        task.loss(m(b.x, fused=fused)[0], b).backward()
        assert torch.all(torch.diagonal(m.w_rec.grad) == 0) and m.w_rec.grad.abs().sum() > 0


def test_weight_decay_term_value_gradient_and_logged_loss():
    torch.manual_seed(0)
    m = RateRNN(ModelConfig(3, 6, 2, init="he"), generator=torch.Generator().manual_seed(0))
    wd = 0.03
    term = weight_decay_term(m, wd)
    expected = 0.5 * wd * sum(float((w.detach() ** 2).sum()) for w in (m.w_in, m.w_rec, m.w_out))
    assert float(term.detach()) == pytest.approx(expected, rel=1e-6)
    term.backward()
    for w in (m.w_in, m.w_rec, m.w_out):
        torch.testing.assert_close(w.grad, wd * w.detach())
    assert m.b_out.grad is None and m.a0.grad is None
    assert float(weight_decay_term(m, 0.0)) == 0.0
    # in training the logged loss is task loss + the L2 term of the current weights
    task = SequentialDigits.from_sklearn_digits(n_train=40, n_validation=20, n_test=20)
    cfg = ModelConfig(8, 6, 10, tau=1.0, activation="relu", init="he")
    tc = TrainConfig(n_updates=2, lr=0.01, optimizer="sgd", batch_size=8, n_test_trials=8, checkpoints=(0, 2),
                     activity_penalty=0.0, adapt_penalty=False, weight_decay=wd)
    r = train(task, cfg, BPTT(), tc, seed=3, progress=False)
    m0 = RateRNN(cfg)
    m0.load_state_dict(r.states[0])
    diff = float(r.metrics.loss[0] - r.metrics.task_loss[0])
    assert diff == pytest.approx(float(weight_decay_term(m0, wd).detach()), rel=1e-5)


def test_finite_set_tasks_log_train_validation_and_test_sets():
    task = SequentialDigits.from_sklearn_digits(n_train=40, n_validation=20, n_test=30)
    cfg = ModelConfig(8, 6, 10, tau=1.0, activation="relu", init="he")
    tc = TrainConfig(n_updates=4, lr=0.05, optimizer="sgd", batch_size=8, n_test_trials=16, checkpoints=(0, 4),
                     activity_penalty=0.0, adapt_penalty=False)
    r = train(task, cfg, make_rule("eprop"), tc, seed=2, progress=False)
    m = r.metrics
    for k in ("train_set_loss", "train_set_accuracy", "validation_loss", "validation_accuracy", "test_loss"):
        assert m[k].dims == ("checkpoint",) and np.all(np.isfinite(m[k].values))
    model = RateRNN(cfg)
    model.load_state_dict(r.states[-1])
    sets = evaluation_batches(task, 2, 16)
    assert sets["test"].x.shape[0] == 30 and sets["train_set"].x.shape[0] == 40 and sets["validation"].x.shape[0] == 16
    with torch.no_grad():
        for prefix in ("test", "train_set", "validation"):
            b = sets[prefix]
            assert float(m[f"{prefix}_loss"][-1]) == pytest.approx(float(task.loss(model(b.x)[0], b)), rel=1e-5)
    torch.testing.assert_close(sets["test"].x, task.test_set().x)  # the noisy test set


# ---------------------------------------------------------------------------------------------- curvature stage


def test_curvature_stage_matches_dense_autograd_hessian(tmp_path):
    task_cfg = {"n_train": 40, "n_validation": 20, "n_test": 20}
    task = SequentialDigits.from_sklearn_digits(**task_cfg)
    cfg = ModelConfig(8, 5, 10, tau=1.0, activation="tanh", init="he", no_autapses=True)
    wd = 0.01
    tc = TrainConfig(n_updates=6, lr=0.1, optimizer="sgd", batch_size=8, n_test_trials=12, checkpoints=(0, 3, 6),
                     activity_penalty=0.0, adapt_penalty=False, weight_decay=wd)
    result = train(task, cfg, make_rule("eprop"), tc, seed=4, progress=False)
    ckpt = tmp_path / "checkpoints.pt"
    save_checkpoints(result, ckpt)
    out = tmp_path / "hessian.nc"
    curv = {"n_checkpoints": 2, "tol": 1e-10, "max_hvp": 25, "trace_samples": 400, "density_iter": 25,
            "density_vectors": 2, "dtype": "float64", "params": "both"}
    curvature_run([], str(ckpt), str(out), task="sdigits", task_cfg=task_cfg, seed=4,
                          train_cfg={"n_test_trials": 12, "weight_decay": wd}, curvature=curv, device="cpu")
    ds = xr.open_dataset(out).load()
    assert list(ds.checkpoint.values) == [0, 6]
    batch = evaluation_batches(task, 4, 12)["validation"]
    for k, state in ((0, result.states[0]), (1, result.states[-1])):
        model = RateRNN(cfg).double()
        model.load_state_dict({n: v.double() for n, v in state.items()})

        def loss_of(w, model=model):
            y, _ = torch.func.functional_call(model, {"w_rec": w}, (batch.x.double(),), {"fused": False})
            l2 = 0.5 * wd * ((model.w_in**2).sum() + (w**2).sum() + (model.w_out**2).sum())
            return task.loss(y, batch) + l2

        w = model.w_rec.detach().clone()
        dense = torch.autograd.functional.hessian(loss_of, w).reshape(25, 25).numpy()
        eig = np.linalg.eigvalsh(dense)
        assert float(ds.lambda_max[k]) == pytest.approx(eig.max(), rel=1e-7)
        tol = 5 * float(ds.trace_stderr[k]) + 1e-9
        assert abs(float(ds.trace[k]) - np.trace(dense)) < tol
        # the no-autapse diagonal entries carry only the L2 curvature wd
        np.testing.assert_allclose(np.diag(dense)[:: 6], wd, atol=1e-12)
        assert np.isfinite(float(ds.lambda_max_all[k])) and float(ds.lambda_max_all[k]) >= eig.max() - 1e-8
    w = ds.density_weights.values
    assert w.sum() == pytest.approx(1.0) and ds.density_nodes.max() <= eig.max() + 1e-6
    # on the training set (the training objective) instead of the validation batch
    curvature_run([], str(ckpt), str(out), task="sdigits", task_cfg=task_cfg, seed=4,
                          train_cfg={"n_test_trials": 12, "weight_decay": wd},
                          curvature={**curv, "batch": "train", "n_checkpoints": 1, "params": "w_rec"}, device="cpu")
    ds = xr.open_dataset(out).load()
    train_set = task.train_set()

    def train_loss_of(w, model=model):
        y, _ = torch.func.functional_call(model, {"w_rec": w}, (train_set.x.double(),), {"fused": False})
        return task.loss(y, train_set) + 0.5 * wd * ((model.w_in**2).sum() + (w**2).sum() + (model.w_out**2).sum())

    dense = torch.autograd.functional.hessian(train_loss_of, model.w_rec.detach().clone()).reshape(25, 25).numpy()
    assert ds.attrs["batch"] == "train_set" and list(ds.checkpoint.values) == [6]
    assert float(ds.lambda_max[0]) == pytest.approx(np.linalg.eigvalsh(dense).max(), rel=1e-7)


# ---------------------------------------------------------------------------------------------- claims


def _synthetic_summary(bio_shift: float, seed: int = 0) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    rules = ["bptt", "eprop", "mdgl"]
    names, lam, gap, lr_sweep, terms, lrs = [], [], [], [], [], []
    for r in rules:
        for _ in range(6):
            names.append(r)
            bio = r != "bptt"
            lam.append(20 * (1 + bio * bio_shift) * np.exp(rng.normal(0, 0.1 + 0.5 * bio * (bio_shift > 0))))
            gap.append(0.1 + bio * bio_shift * 0.2 + rng.normal(0, 0.01 + 0.1 * bio * (bio_shift > 0)))
            lr_sweep.append(0)
            terms.append(0)
            lrs.append(0.1)
    n = len(names)
    ones = np.ones(n)
    ds = xr.Dataset(
        {
            "lambda_final": ("run", np.array(lam)), "gap_loss": ("run", np.array(gap)),
            "gap_accuracy": ("run", np.array(gap) / 2), "trace_final": ("run", 5 * np.array(lam)),
            "final_train_accuracy": ("run", 0.95 * ones), "grad_cosine_mean": ("run", 0.5 * ones),
            "gap_loss_matched": ("run", np.array(gap)), "diverged_at": ("run", -np.ones(n, dtype=int)),
        },
        coords={"run": np.arange(n), "rule": ("run", np.array(names, dtype=object)),
                "main": ("run", np.ones(n, dtype=int)), "lr_sweep": ("run", np.array(lr_sweep)),
                "terms": ("run", np.array(terms)), "lr": ("run", np.array(lrs)),
                "base_rule": ("run", np.array(names, dtype=object))},
    )
    return ds


B_GROUPS = {"reference": "bptt", "bio": ["eprop", "mdgl"]}
B_THRESHOLDS = {"alpha": 0.05, "min_n": 3, "train_margin": 0.05, "sesoi_gap": 0.01, "sesoi_log_ratio": 0.1,
                "sesoi_correlation": 0.1}


def test_claims_follow_the_data():
    kw = {"task": "toy", "groups": B_GROUPS, "thresholds": B_THRESHOLDS, "preset": "test"}
    yes = claims_b.claims_main(_synthetic_summary(3.0), **kw)
    assert all(yes[k]["verdict"] == "holds" for k in ("B1", "B2", "B3", "B4", "B7")), {k: v["verdict"]
                                                                                      for k, v in yes.items()}
    assert yes["B2"]["sd_ratio"] > 1
    assert yes["B3"]["id"] == "B3-toy" and yes["B3"]["n"] == 18
    assert yes["B3"]["extension"] and yes["B3"]["note"].startswith("extension (not in the paper)")
    no = claims_b.claims_main(_synthetic_summary(0.0), **kw)
    assert all(no[k]["verdict"] != "holds" for k in ("B2", "B3", "B7"))
    for row in list(yes.values()) + list(no.values()):
        json.dumps(row)  # serialisable, NaN as null
        assert row["study"] == "B" and row["verdict"] in ("holds", "fails", "inconclusive")


def test_remedy_claims_follow_the_data():
    # lambda * lr / 2 = 0.9 for BPTT and 4 for e-prop at every lr; lambda falls with lr and with terms kept
    names, lam, lrs, sweep, terms, gap = [], [], [], [], [], []
    for lr in (0.05, 0.1, 0.2):
        for r, ratio in (("bptt", 0.9), ("eprop", 4.0)):
            for s in range(3):
                names.append(r if lr == 0.1 else f"{r}-lr{lr}")
                lam.append(2 * ratio / lr * (1 + 0.01 * s))
                lrs.append(lr)
                sweep.append(1)
                terms.append(0)
                gap.append(1.0 / lr + s * 0.01)
    for i, r in enumerate(["eprop", "mdgl", "tbptt-w2", "bptt"]):
        for s in range(3):
            names.append(r)
            lam.append(100.0 / (i + 1) + s)
            lrs.append(0.1)
            sweep.append(0)
            terms.append(1)
            gap.append(1.0 / (i + 1) + 0.01 * s)
    n = len(names)
    ds = xr.Dataset({"lambda_final": ("run", np.array(lam)), "gap_loss": ("run", np.array(gap))},
                    coords={"run": np.arange(n), "rule": ("run", np.array(names, dtype=object)),
                            "base_rule": ("run", np.array([run_grid.parse_variant(x)["rule"] for x in names],
                                                          dtype=object)),
                            "lr": ("run", np.array(lrs)), "lr_sweep": ("run", np.array(sweep)),
                            "terms": ("run", np.array(terms))})
    kw = {"task": "toy", "reference": "bptt", "lr_rules": ["bptt", "eprop"], "windows": [2],
          "thresholds": B_THRESHOLDS, "preset": "test"}
    rows = claims_b.claims_remedies(ds, tolerance=0.5, **kw)
    assert rows["B5"]["verdict"] == "holds" and rows["B5"]["value"] == pytest.approx(4.0, rel=0.02)
    assert rows["B6"]["verdict"] == "holds", rows["B6"]["parts"]
    rows = claims_b.claims_remedies(ds, tolerance=4.0, **kw)
    assert rows["B5"]["verdict"] == "fails"


# ---------------------------------------------------------------------------------------------- workflow

SMOKE = REPO / "tests" / "smoke" / "config.yaml"


@pytest.mark.slow
def test_smoke_preset_draws_every_b_figure_and_claim(tmp_path):
    import yaml

    cfg = yaml.safe_load(SMOKE.read_text())["generalization"]
    tasks, rem = cfg["tasks"], cfg["remedies"]["task"]
    targets = [f"results/figures/B/{f}_{t}.png" for f in ("B1", "B2", "B3", "B4", "B7") for t in tasks]
    targets += [f"results/figures/B/{f}_{rem}.png" for f in ("B5", "B6")]
    claims = [t.replace("figures/B/", "claims/").replace("_", "-").replace(".png", ".json") for t in targets]
    args = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(tmp_path), "--configfile",
            str(REPO / "config.yaml"), str(SMOKE), "--cores", "2", *targets, *claims]
    proc = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "MPLBACKEND": "Agg"})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for t in targets:
        assert (tmp_path / t).stat().st_size > 10_000, t
    for c in claims:
        row = json.loads((tmp_path / c).read_text())
        assert row["preset"] == "smoke" and row["study"] == "B"
        assert row["verdict"] in ("holds", "fails", "inconclusive")
        assert row["id"] == c.split("/")[-1].removesuffix(".json")
    summary = xr.open_dataset(tmp_path / f"results/generalization/{rem}/summary.nc").load()
    n_runs = len(list((tmp_path / f"results/runs/generalization/{rem}").rglob("metrics.nc")))
    assert summary.sizes["run"] == n_runs and n_runs > len(cfg["rules"]) * len(cfg["seeds"])
    assert np.isfinite(summary["lambda_final"].values).all() and np.isfinite(summary["gap_loss"].values).all()
    # every run trained its whole budget (no early stop) and its last Hessian is at its last checkpoint
    np.testing.assert_array_equal(summary["lambda_update"].values, summary["final_update"].values)
    assert summary.attrs["held_out"] == "validation_set"
    b1 = json.loads((tmp_path / f"results/claims/B1-{tasks[0]}.json").read_text())
    assert {x["rule"] for x in b1["rules"]} == set(cfg["rules"]) - {"bptt"}
    h = xr.open_dataset(next((tmp_path / "results/curvature/generalization").rglob("hessian.nc"))).load()
    assert h.attrs["graph"].startswith("full") and h.sizes["node"] > 0
    streams = seed_streams(1)
    assert set(streams) == {"init", "batches", "test"}


# ---------------------------------------------------------------------------------------------- summary, figures


def _fake_run_files(tmp_path, name, seed, lam_scale, gap, diverged=False):
    steps = np.array([0, 50, 100])
    train_loss = np.array([2.0, 0.5, 0.1])
    m = xr.Dataset(
        {"train_set_loss": ("checkpoint", train_loss), "test_loss": ("checkpoint", train_loss + 2 * gap * steps / 100),
         "train_set_accuracy": ("checkpoint", [0.1, 0.8, 0.95]), "test_accuracy": ("checkpoint", [0.1, 0.6, 0.7]),
         "validation_loss": ("checkpoint", train_loss + gap * steps / 100),
         "validation_accuracy": ("checkpoint", [0.1, 0.7, 0.8]),
         "grad_cosine": ("checkpoint", [0.5, 0.4, np.nan])},
        coords={"checkpoint": steps}, attrs={"diverged_at": 60 if diverged else -1},
    )
    h = xr.Dataset(
        {"lambda_max": ("checkpoint", lam_scale * np.array([1.0, 2.0])), "trace": ("checkpoint", [3.0, 4.0]),
         "density_nodes": ("node", [0.0, lam_scale]), "density_weights": ("node", [0.9, 0.1])},
        coords={"checkpoint": [0, 100]},
    )
    mp, hp = tmp_path / f"{name}-{seed}-m.nc", tmp_path / f"{name}-{seed}-h.nc"
    m.to_netcdf(mp)
    h.to_netcdf(hp)
    return str(mp), str(hp)


def test_summary_and_figures_from_files(tmp_path):
    import matplotlib.pyplot as plt

    from biocredit.figures import generalization as fg
    cfg = {**CFG, "tasks": ["sdigits"], "seeds": [1, 2, 3, 4], "rules": ["bptt", "eprop"]}
    runs = [r for r in run_grid.grid(cfg) if r["task"] == "sdigits"]
    metrics, hessians = [], []
    for r in runs:
        v = run_grid.parse_variant(r["rule"])
        lr = v["lr"] or 0.1
        lam = (15.0 if v["rule"] == "bptt" else 100.0) * (0.1 / lr) * (1 + 0.1 * r["seed"])
        m, h = _fake_run_files(tmp_path, r["rule"], r["seed"], lam, gap=0.2 if v["rule"] == "bptt" else 0.4,
                               diverged=(r["rule"], r["seed"]) == ("mdgl", 1))
        metrics.append(m)
        hessians.append(h)
    out = tmp_path / "summary.nc"
    summarize(metrics, hessians, runs, str(out), task="sdigits", reference="bptt", base_lr=0.1)
    ds = xr.open_dataset(out).load()
    assert ds.sizes["run"] == len(runs) and ds.attrs["matched_train_loss"] == pytest.approx(0.1)
    i = int(np.flatnonzero((ds.rule.values == "eprop") & (ds.seed.values == 2))[0])
    assert float(ds.gap_loss[i]) == pytest.approx(0.4) and float(ds.gap_accuracy[i]) == pytest.approx(0.15)
    assert float(ds.lambda_final[i]) == pytest.approx(2 * 100 * 1.2)
    assert float(ds.gap_loss_matched[i]) == pytest.approx(0.4) and float(ds.grad_cosine_mean[i]) == pytest.approx(0.45)
    assert float(ds.lr[ds.rule.values == "eprop-lr0.05"][0]) == 0.05
    div = int(np.flatnonzero((ds.rule.values == "mdgl") & (ds.seed.values == 1))[0])
    assert np.isnan(float(ds.gap_loss[div])) and np.isnan(float(ds.lambda_final[div]))
    assert np.trapezoid(ds.density[i].values, ds.grid.values) == pytest.approx(1.0, rel=1e-3)

    assert float(ds.gap_noisy_loss[i]) == pytest.approx(0.8) and ds.attrs["held_out"] == "validation"
    rows = claims_b.claims_main(ds, task="sdigits", groups={"reference": "bptt", "bio": ["eprop"]},
                                thresholds=B_THRESHOLDS, preset="test")
    # every seed of a rule has the same gap: the mean difference is certain, the spread has no variance to compare
    assert rows["B3"]["verdict"] == "holds" and rows["B2"]["parts"] == {"mean": "holds", "spread": "inconclusive"}
    assert rows["B2"]["verdict"] == "inconclusive"
    fig = fg.gap_by_rule(ds, ["bptt", "eprop"], "sdigits", rows["B2"])
    assert [len(ax.collections) for ax in fig.axes] == [2 + 2] * 4  # points + error bars per rule
    assert "matched training loss" in fig.axes[2].get_ylabel()
    fig = fg.curvature_by_rule(ds, ["bptt", "eprop"], "sdigits", 0.1, rows["B3"])
    assert fig.axes[0].get_yscale() == "log" and "λ_max" in fig.axes[0].get_ylabel()
    assert any(np.allclose(line.get_ydata(), 20.0) for line in fig.axes[0].lines)  # the 2/η line
    fig = fg.training_curves(ds, ["bptt", "eprop"], "sdigits", rows["B1"])
    assert fig.axes[0].get_ylabel().startswith("accuracy") and len(fig.axes[0].lines) >= 4
    rem = claims_b.claims_remedies(ds, task="sdigits", reference="bptt", lr_rules=["bptt", "eprop"], windows=[2, 4],
                                   tolerance=0.5, thresholds=B_THRESHOLDS, preset="test")
    fig = fg.curvature_vs_lr(ds, ["bptt", "eprop"], "sdigits", rem["B5"])
    n_points = sum(len(c.get_offsets()) for c in fig.axes[0].collections if hasattr(c, "get_offsets"))
    assert n_points >= int(ds["lr_sweep"].sum()) and fig.axes[0].get_xlabel() == "learning rate η"
    fig = fg.remedies(ds, ["bptt", "eprop"], run_grid.terms_axis([2, 4]), "sdigits", rem["B6"])
    assert [t.get_text() for t in fig.axes[2].get_xticklabels()][0] == "e-prop"
    plt.close("all")


def test_download_mnist_refuses_unknown_files(tmp_path):
    with pytest.raises(ValueError, match="not one of the MNIST files"):
        download_mnist("train-images.idx", str(tmp_path / "x"), None)
