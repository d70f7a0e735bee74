"""Study B at matched training performance, and seed_offset.

The matched-point claims are tested on hand-built run files whose answer is known: which runs met the training
criterion, where, and their gap and curvature there. Runs that never met it carry values that would change every
verdict if they were (wrongly) counted.
"""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

from biocredit import runs as run_grid
from biocredit.claims import study_b as claims_b
from biocredit.stages.generalization import summarize
from biocredit.train import TrainConfig
from tests.conftest import REPO

CFG = {
    "tasks": ["sdigits", "decision"],
    "arch": "small",
    "task_arch": {"decision": "leaky"},
    "rules": ["bptt", "tbptt-w4", "eprop"],
    "seeds": [1, 2],
    "updates_factor": {"eprop": 1.6},
    "training": {"n_updates": 100, "n_checkpoints": 10, "lr": 0.1, "batch_size": 8, "weight_decay": 1e-3},
    "remedies": {"task": "sdigits", "lr_rules": ["bptt", "eprop"], "lrs": [0.05, 0.1], "windows": [2, 4]},
}


# ---------------------------------------------------------------------------------------------- config


def test_criterion_turns_the_update_count_into_a_cap_with_the_same_spacing():
    cfg = {**CFG, "criterion": {"metric": "train_set_accuracy", "levels": {"sdigits": 0.9}, "cap_factor": 2.0}}
    c = run_grid.train_config(cfg, "sdigits", "eprop")
    assert c["n_updates"] == 320  # 100 x 1.6 (rule) x 2 (cap)
    assert c["checkpoints"] == list(range(0, 321, 10))  # the plain schedule's spacing (100 / 10) up to the cap
    assert (c["stop_metric"], c["stop_at"], c["stop_patience"]) == ("train_set_accuracy", 0.9, 1)
    assert run_grid.train_config(cfg, "sdigits", "bptt")["n_updates"] == 200
    TrainConfig(**c)
    plain = run_grid.train_config(cfg, "decision", "eprop")  # no level for decision: the fixed count, no stop
    assert plain == run_grid.train_config(CFG, "decision", "eprop") and "stop_at" not in plain
    assert run_grid.criterion_of(CFG, "sdigits") is None


def test_seed_offset_shifts_every_seed_and_nothing_else():
    base, shifted = run_grid.grid(CFG), run_grid.grid(CFG, seed_offset=100)
    assert len(base) == len(shifted)
    for a, b in zip(base, shifted, strict=True):
        assert b["seed"] == a["seed"] + 100
        assert {k: v for k, v in a.items() if k != "seed"} == {k: v for k, v in b.items() if k != "seed"}
    with pytest.raises(ValueError, match="seed_offset"):
        run_grid.grid(CFG, seed_offset=-1)


def _jobs(text: str, offset: int) -> set[tuple[str, str, str]]:
    """(rule, output, wildcards) of every job of a dry run, with the seeds shifted back by ``offset``."""
    jobs, rule, output = set(), None, ""
    for line in text.splitlines():
        s = line.strip()
        if re.match(r"^(local)?rule \w+:$", s):
            rule, output = s.split()[-1].rstrip(":"), ""
        elif s.startswith("output:"):
            output = s
        elif s.startswith("wildcards:") and rule:
            wc = s
            if offset:
                output = re.sub(r"seed(\d+)", lambda m: f"seed{int(m.group(1)) - offset}", output)
                wc = re.sub(r"seed=(\d+)", lambda m: f"seed={int(m.group(1)) - offset}", wc)
            jobs.add((rule, output, wc))
    return jobs


@pytest.mark.slow
def test_seed_offset_changes_only_the_seeds_of_the_workflow(tmp_path):
    def dry(*extra):
        args = [sys.executable, "-m", "snakemake", "-n", "-s", str(REPO / "Snakefile"), "-d", str(tmp_path),
                "--configfile", str(REPO / "config.yaml"), str(REPO / "tests/smoke/config.yaml"), *extra]
        proc = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        return proc.stdout + proc.stderr

    plain, shifted = dry(), dry("--config", "seed_offset=100")
    seeds = {int(s) for s in re.findall(r"seed=(\d+)", shifted)}
    assert seeds and min(seeds) > 100
    assert "results/runs/similarity/" in shifted and "results/runs/generalization/" in shifted
    assert any(j[0] == "train" and "similarity" in j[1] for j in _jobs(shifted, 100))
    assert _jobs(shifted, 100) == _jobs(plain, 0)
    assert _jobs(shifted, 0) != _jobs(plain, 0)


# ---------------------------------------------------------------------------------------------- oracle

STEPS = np.arange(0, 301, 50)  # every run's evaluation schedule (cap 300)
CRITERION = "train_set_accuracy >= 0.9 x1"


def _run_files(tmp_path, name, seed, *, stop_k, gap, lam, reached):
    """One run's metrics and hessian files: training accuracy crosses 0.9 at checkpoint ``stop_k`` when
    ``reached`` (the run then stops: NaN afterwards), else it stays below and the run goes to the cap. At its last
    checkpoint the test − training loss gap is ``gap`` and the top eigenvalue ``lam``."""
    n = len(STEPS)
    last = stop_k if reached else n - 1
    acc = np.linspace(0.1, 0.85, n)
    if reached:
        acc[stop_k] = 0.92
    train_loss = np.linspace(2.0, 0.2, n)
    test_loss = train_loss + gap * np.arange(n) / max(last, 1)  # the gap grows to ``gap`` at the last checkpoint
    cut = np.arange(n) > last
    for a in (acc, train_loss, test_loss):
        a[cut] = np.nan
    m = xr.Dataset(
        {"train_set_loss": ("checkpoint", train_loss), "test_loss": ("checkpoint", test_loss),
         "train_set_accuracy": ("checkpoint", acc), "test_accuracy": ("checkpoint", acc - 0.05),
         "validation_loss": ("checkpoint", test_loss), "validation_accuracy": ("checkpoint", acc - 0.05),
         "grad_cosine": ("checkpoint", np.where(cut, np.nan, 0.5))},
        coords={"checkpoint": STEPS},
        attrs={"diverged_at": -1, "reached_criterion": int(reached), "stopped_at": int(STEPS[last]),
               "stop_criterion": CRITERION},
    )
    hk = sorted({0, last // 2, last})  # the curvature stage: a subset of the saved checkpoints, the last included
    h = xr.Dataset(
        {"lambda_max": ("checkpoint", np.linspace(lam / 4, lam, len(hk))),
         "trace": ("checkpoint", np.full(len(hk), 3.0 * lam)),
         "density_nodes": ("node", [0.0, lam]), "density_weights": ("node", [0.9, 0.1])},
        coords={"checkpoint": STEPS[hk]},
    )
    mp, hp = tmp_path / f"{name}-{seed}-m.nc", tmp_path / f"{name}-{seed}-h.nc"
    m.to_netcdf(mp)
    h.to_netcdf(hp)
    return str(mp), str(hp)


# bptt: every seed reaches the criterion at update 100 with a small gap and curvature; eprop: seeds 1-3 reach it
# at update 200 with a larger gap and curvature, seeds 4-5 never do and end at the cap with negative gaps and the
# largest curvatures (counting them would flip B2 and B4)
BPTT_GAP = {s: 0.10 + 0.01 * s for s in range(1, 6)}
EPROP_GAP = {1: 0.30, 2: 0.34, 3: 0.50, 4: -5.0, 5: -6.0}
BPTT_LAM = {s: 10.0 + s for s in range(1, 6)}
EPROP_LAM = {1: 40.0, 2: 50.0, 3: 90.0, 4: 500.0, 5: 600.0}


@pytest.fixture
def oracle(tmp_path):
    runs, metrics, hessians = [], [], []
    for rule, gaps, lams in (("bptt", BPTT_GAP, BPTT_LAM), ("eprop", EPROP_GAP, EPROP_LAM)):
        for seed in range(1, 6):
            reached = rule == "bptt" or seed <= 3
            m, h = _run_files(tmp_path, rule, seed, stop_k=2 if rule == "bptt" else 4, gap=gaps[seed],
                              lam=lams[seed], reached=reached)
            runs.append({"task": "sdigits", "arch": "b_relu", "rule": rule, "seed": seed, "main": True,
                         "lr_sweep": False, "terms": False})
            metrics.append(m)
            hessians.append(h)
    out = tmp_path / "summary.nc"
    summarize(metrics, hessians, runs, str(out), task="sdigits", reference="bptt", base_lr=0.1)
    return xr.open_dataset(out).load(), runs, metrics, hessians


def test_summary_reads_every_run_at_its_matched_point(oracle):
    ds = oracle[0]
    assert ds.attrs["criterion"] == CRITERION
    rule, seed = ds.rule.values, ds.seed.values
    expect_matched = (rule == "bptt") | (seed <= 3)
    np.testing.assert_array_equal(ds.matched.values == 1, expect_matched)
    np.testing.assert_array_equal(ds.reached_criterion.values == 1, expect_matched)
    np.testing.assert_array_equal(ds.stopped_at.values, np.where(rule == "bptt", 100, np.where(seed <= 3, 200, 300)))
    gaps = np.array([(BPTT_GAP if r == "bptt" else EPROP_GAP)[s] for r, s in zip(rule, seed, strict=True)])
    lams = np.array([(BPTT_LAM if r == "bptt" else EPROP_LAM)[s] for r, s in zip(rule, seed, strict=True)])
    np.testing.assert_allclose(ds.gap_loss.values, gaps, rtol=1e-12)
    np.testing.assert_allclose(ds.lambda_final.values, lams, rtol=1e-12)
    np.testing.assert_array_equal(ds.final_update.values, ds.stopped_at.values)
    np.testing.assert_array_equal(ds.lambda_update.values, ds.stopped_at.values)  # Hessian at the matched point


def test_claims_compare_runs_at_the_matched_point_only(oracle):
    ds = oracle[0]
    rows = claims_b.claims_main(ds, task="sdigits", rules=["bptt", "eprop"], alpha=0.05, train_margin=0.05,
                               preset="test")
    matched_eprop = [EPROP_GAP[s] for s in (1, 2, 3)]
    b2 = rows["B2"]
    assert b2["value"] == pytest.approx(np.mean(matched_eprop) - np.mean(list(BPTT_GAP.values())), rel=1e-9)
    assert b2["n"] == 8 and b2["n_matched"] == {"bptt": 5, "eprop": 3} and b2["n_excluded"] == {"bptt": 0, "eprop": 2}
    assert b2["holds_mean"] and b2["criterion"] == CRITERION
    b3 = rows["B3"]
    assert b3["value"] == pytest.approx(np.mean([40.0, 50.0, 90.0]) - np.mean(list(BPTT_LAM.values())), rel=1e-9)
    assert b3["holds"] and b3["n"] == 8
    assert rows["B4"]["n"] == 8 and rows["B4"]["value"] == pytest.approx(1.0)  # gap and λ rank alike when matched
    assert rows["B4"]["holds"]
    assert rows["B7"]["holds"] and rows["B7"]["n"] == 8
    # B1: how close each rule came
    reach = {x["rule"]: x for x in rows["B1"]["reached"]}
    assert reach["bptt"]["fraction"] == 1.0 and reach["bptt"]["median_updates"] == 100
    assert reach["eprop"]["n_reached"] == 3 and reach["eprop"]["fraction"] == pytest.approx(0.6)
    assert reach["eprop"]["median_updates"] == 200 and reach["eprop"]["updates_range"] == [200, 200]
    assert reach["eprop"]["median_train_accuracy_not_reached"] == pytest.approx(0.85)
    # counting the runs that never reached the criterion (the old behaviour) flips the verdicts
    everyone = ds.assign(matched=("run", np.ones(ds.sizes["run"], dtype=np.int64)))
    wrong = claims_b.claims_main(everyone, task="sdigits", rules=["bptt", "eprop"], alpha=0.05, train_margin=0.05,
                                preset="test")
    assert not wrong["B2"]["holds_mean"] and wrong["B2"]["n"] == 10
    assert wrong["B3"]["value"] != pytest.approx(b3["value"]) and wrong["B4"]["value"] < 0.9


def test_matched_figures_flag_and_count_the_runs(oracle):
    import matplotlib.pyplot as plt

    from biocredit.figures import generalization as fg

    ds = oracle[0]
    rows = claims_b.claims_main(ds, task="sdigits", rules=["bptt", "eprop"], alpha=0.05, train_margin=0.05,
                               preset="test")
    fig = fg.gap_by_rule(ds, ["bptt", "eprop"], "sdigits", rows["B2"])
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels[1].endswith("(n=3/5)") and labels[0].endswith("(n=5/5)")
    hollow = [c for c in fig.axes[0].collections if len(c.get_offsets()) == 2]
    assert hollow  # the two e-prop runs that never reached the criterion are drawn, flagged
    fig = fg.training_curves(ds, ["bptt", "eprop"], "sdigits", rows["B1"])
    assert "e-prop 3/5" in fig._suptitle.get_text()
    assert any(np.allclose(line.get_ydata(), 0.9) for line in fig.axes[0].lines)  # the criterion level
    fig = fg.curvature_by_rule(ds, ["bptt", "eprop"], "sdigits", 0.1, rows["B3"])
    fig = fg.gap_vs_curvature(ds, ["bptt", "eprop"], "sdigits", rows["B4"])
    assert "n=8" in fig.axes[0].get_title()
    fig = fg.diagnostics(ds, ["bptt", "eprop"], "sdigits", rows["B7"])
    plt.close("all")


def test_summary_refuses_a_hessian_off_the_matched_point_and_mixed_criteria(oracle, tmp_path):
    _, runs, metrics, hessians = oracle
    h = xr.open_dataset(hessians[0]).load()
    h = h.isel(checkpoint=slice(0, -1))  # last Hessian before the stop: not the matched point
    bad = tmp_path / "bad-h.nc"
    h.to_netcdf(bad)
    with pytest.raises(ValueError, match="not at the matched checkpoint 100"):
        summarize(metrics, [str(bad), *hessians[1:]], runs, str(tmp_path / "s.nc"), task="sdigits",
                          reference="bptt", base_lr=0.1)
    m = xr.open_dataset(metrics[1]).load()
    m.attrs["stop_criterion"] = "train_set_accuracy >= 0.8 x1"
    other = tmp_path / "other-m.nc"
    m.to_netcdf(other)
    with pytest.raises(ValueError, match="different criteria"):
        summarize([metrics[0], str(other), *metrics[2:]], hessians, runs, str(tmp_path / "s.nc"),
                          task="sdigits", reference="bptt", base_lr=0.1)
    assert not (tmp_path / "s.nc").exists()


def test_remedies_compare_runs_at_the_matched_point():
    # matched runs: λ and the gap fall with lr and with terms kept; unmatched runs (never reached the criterion)
    # rise with both and outnumber them, so counting them would reverse every trend
    names, lam, lrs, sweep, terms, gap, matched = [], [], [], [], [], [], []

    def add(name, lr, lam_, gap_, is_sweep, is_terms, ok):
        names.append(name)
        lam.append(lam_)
        lrs.append(lr)
        sweep.append(int(is_sweep))
        terms.append(int(is_terms))
        gap.append(gap_)
        matched.append(int(ok))

    for lr in (0.05, 0.1, 0.2):
        for s in range(3):
            add("eprop" if lr == 0.1 else f"eprop-lr{lr}", lr, 8.0 / lr + s, 1.0 / lr + 0.01 * s, True, False, True)
            for _ in range(2):
                add("eprop" if lr == 0.1 else f"eprop-lr{lr}", lr, 1000 * lr + s, 100 * lr + s, True, False, False)
    for i, r in enumerate(["eprop", "mdgl", "tbptt-w2", "bptt"]):
        for s in range(3):
            add(r, 0.1, 100.0 / (i + 1) + s, 1.0 / (i + 1) + 0.01 * s, False, True, True)
            for _ in range(2):
                add(r, 0.1, 100.0 * (i + 1) + s, 1.0 * (i + 1) + s, False, True, False)
    n = len(names)
    ds = xr.Dataset({"lambda_final": ("run", np.array(lam)), "gap_loss": ("run", np.array(gap)),
                     "matched": ("run", np.array(matched))},
                    coords={"run": np.arange(n), "rule": ("run", np.array(names, dtype=object)),
                            "base_rule": ("run", np.array([run_grid.parse_variant(x)["rule"] for x in names],
                                                          dtype=object)),
                            "lr": ("run", np.array(lrs)), "lr_sweep": ("run", np.array(sweep)),
                            "terms": ("run", np.array(terms))},
                    attrs={"criterion": CRITERION})
    kw = {"task": "toy", "reference": "bptt", "lr_rules": ["bptt", "eprop"], "windows": [2], "alpha": 0.05,
          "tolerance": 0.5, "preset": "test"}
    b6 = claims_b.claims_remedies(ds, **kw)["B6"]
    assert b6["holds"], b6["parts"]
    assert b6["n"] == 9 + 12 and b6["n_excluded"] == {"lr_sweep": 18, "terms": 24}
    wrong = claims_b.claims_remedies(ds.assign(matched=("run", np.ones(n, dtype=np.int64))), **kw)["B6"]
    assert not wrong["holds"]
