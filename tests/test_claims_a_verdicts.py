"""Study A's three-valued claims on synthetic runs with a known answer: no seed dropped at a matched level, too few
runs are inconclusive, an effect on the margin is inconclusive, A6's per-metric margins and agreement rule, A7 as a
directional composite, the equal-learning-rate sensitivity runs and rows."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from biocredit.claims import FAILS, HOLDS, INCONCLUSIVE
from biocredit.claims.study_a import a6_verdict, claim_a2, claim_a3, claim_a6, claim_a7
from biocredit.runs import equal_lr_runs, similarity_grid, similarity_run_config
from biocredit.similarity.matched import stack_runs

METRICS = ("procrustes", "cka", "cca")


def _run(rule, seed, offsets, noise=0.002, top=0.9, n=30):
    """A run whose distance under each metric is 0.8 − 0.3·accuracy + that metric's offset + per-run noise."""
    rng = np.random.default_rng(seed * 7919 + sum(map(ord, rule)))
    acc = np.linspace(-0.5, top, n)
    shift = rng.normal(0, noise)
    data = {"accuracy": ("checkpoint", acc)}
    for m in METRICS:
        data[m] = ("checkpoint", 0.8 - 0.3 * np.clip(acc, 0, None) + offsets.get(m, 0.0) + shift)
    attrs = {"rule": rule, "arch": "base", "seed": seed}
    return xr.Dataset(data, coords={"checkpoint": np.arange(n) * 10}, attrs=attrs)


def _summary(offsets, seeds=(1, 2, 3, 4, 5), noise=0.002, stalled=None):
    runs = [_run("bptt", s, {}, noise) for s in seeds]
    runs += [_run("eprop", s, offsets, noise, top=0.5 if s == stalled else 0.9) for s in seeds]
    return stack_runs(runs)


KW = dict(dataset="toy", arch="base", rules=["bptt", "eprop"], preset="test")


@pytest.mark.parametrize(("offset", "verdict"), [(0.0, HOLDS), (0.2, FAILS), (0.05, INCONCLUSIVE)])
def test_a2_three_values(offset, verdict):
    row, _ = claim_a2(_summary({"procrustes": offset}), n_grid=20, margin=0.05, **KW)
    assert row["verdict"] == verdict and row["value"] == pytest.approx(offset, abs=0.01)
    assert row["n_per_rule"] == {"eprop": 5, "bptt": 5} and row["ci_level"] == 0.95


def test_two_runs_a_rule_decide_nothing():
    """The smoke preset's 2-vs-2: even a CI inside the margin is inconclusive below min_runs."""
    tight = _summary({}, seeds=(1, 2), noise=0.0002)
    row, _ = claim_a2(tight, n_grid=20, margin=0.05, **KW)
    assert -0.05 < row["ci"][0] < row["ci"][1] < 0.05
    assert row["verdict"] == INCONCLUSIVE and "too few runs" in row["note"]
    assert claim_a2(tight, n_grid=20, margin=0.05, verdicts={"min_n": 2}, **KW)[0]["verdict"] == HOLDS
    config_section = {"level": 0.95, "min_runs": 2, "method": "welch", "multiplicity": "bonferroni"}
    assert claim_a2(tight, n_grid=20, margin=0.05, verdicts=config_section, **KW)[0]["verdict"] == HOLDS


def test_a3_keeps_every_seed_at_every_level():
    """An e-prop seed that stalls at accuracy 0.5: the levels are fractions of the range every run reaches, so the
    top level still compares all 5 e-prop seeds (before, it kept the 4 that reached it)."""
    row, at, tests = claim_a3(_summary({"procrustes": 0.01}, stalled=3), fractions=[0.5, 0.8, 0.95], margin=0.05,
                              **KW)
    assert all(t["n_a"] == 5 and t["n_b"] == 5 for t in tests)
    assert float(at.accuracy.max()) <= 0.5 + 1e-9
    assert row["verdict"] == HOLDS
    # each level's CI is at the Bonferroni level over 3 levels, wider than a plain 95% one
    assert tests[0]["ci_level"] == pytest.approx(1 - 0.05 / 3)
    plain = claim_a3(_summary({"procrustes": 0.01}, stalled=3), fractions=[0.5], margin=0.05, **KW)[2][0]
    assert np.diff(tests[0]["ci"])[0] > np.diff(plain["ci"])[0]


def test_a3_composite_fails_when_one_level_fails_and_is_inconclusive_on_the_margin():
    row = claim_a3(_summary({"procrustes": 0.3}), fractions=[0.5, 0.95], margin=0.05, **KW)[0]
    assert row["verdict"] == FAILS and row["holds"] is False
    edge = claim_a3(_summary({"procrustes": 0.05}, noise=0.01), fractions=[0.5, 0.95], margin=0.05, **KW)[0]
    assert edge["verdict"] == INCONCLUSIVE and edge["holds"] is None


def test_a3_sensitivity_row_compares_the_equal_lr_run():
    runs = [_run("bptt", s, {}) for s in range(1, 6)] + [_run("eprop", s, {"procrustes": 0.2}) for s in range(1, 6)]
    runs += [_run("bptt-lr0.0003", s, {"procrustes": 0.2}) for s in range(1, 6)]
    summary = stack_runs(runs)
    main = claim_a3(summary, fractions=[0.5], margin=0.05, **KW)[0]
    sens = claim_a3(summary, fractions=[0.5], margin=0.05, id_suffix="-equal-lr", note="sensitivity",
                    **(KW | {"rules": ["bptt-lr0.0003", "eprop"]}))[0]
    assert (main["id"], main["verdict"]) == ("A3-toy", FAILS)
    assert (sens["id"], sens["verdict"]) == ("A3-toy-equal-lr", HOLDS)
    assert "BPTT, η=0.0003" in sens["claim"] and sens["note"] == "sensitivity"


@pytest.mark.parametrize(
    ("parts", "verdict"),
    [
        ({"procrustes": HOLDS, "cka": HOLDS, "cca": HOLDS}, HOLDS),
        ({"procrustes": FAILS, "cka": FAILS, "cca": FAILS}, HOLDS),
        ({"procrustes": HOLDS, "cka": FAILS, "cca": HOLDS}, FAILS),
        ({"procrustes": HOLDS, "cka": INCONCLUSIVE, "cca": HOLDS}, INCONCLUSIVE),
        ({"procrustes": INCONCLUSIVE, "cka": INCONCLUSIVE, "cca": INCONCLUSIVE}, INCONCLUSIVE),
    ],
)
def test_a6_agreement_rule(parts, verdict):
    assert a6_verdict(parts) == verdict


def test_a6_reads_each_metric_against_its_own_margin():
    """CKA differs by 0.07: outside Procrustes' 0.05 margin, inside CKA's own 0.0785, so the metrics agree."""
    summary = _summary({"procrustes": 0.0, "cka": 0.07 - 0.0, "cca": 0.0})
    margins = {"procrustes": 0.05, "cka": 0.0785, "cca": 0.0555}
    row, _ = claim_a6(summary, n_grid=20, margins=margins, **KW)
    assert row["metrics"]["cka"]["margin"] == 0.0785 and row["metrics"]["cka"]["verdict"] == HOLDS
    assert row["verdict"] == HOLDS
    same = claim_a6(summary, n_grid=20, margins=dict.fromkeys(METRICS, 0.05), **KW)[0]
    assert same["metrics"]["cka"]["verdict"] == FAILS and same["verdict"] == FAILS
    with pytest.raises(ValueError, match="margin per metric"):
        claim_a6(summary, n_grid=20, margins={"procrustes": 0.05}, **KW)


def _normalized(means, baseline=0.2, n=5, sd=0.01):
    rng = np.random.default_rng(0)
    vals = np.array([[m + rng.normal(0, sd, 3) for _ in range(n)] for m in means.values()])  # rule, seed, iteration
    return xr.Dataset(
        {"normalized": (("rule", "seed", "iteration"), vals),
         "baseline": (("rule", "seed", "iteration"), np.full_like(vals, baseline)),
         "best_accuracy": (("rule", "seed"), np.full(vals.shape[:2], 0.9))},
        coords={"rule": list(means), "seed": np.arange(1, n + 1)})


@pytest.mark.parametrize(("means", "verdict"), [({"bptt": 0.0, "eprop": 0.1}, HOLDS),
                                                ({"bptt": 0.0, "eprop": 0.4}, FAILS),
                                                ({"bptt": 0.0, "eprop": 0.2}, INCONCLUSIVE)])
def test_a7_every_rule_against_the_baseline(means, verdict):
    row = claim_a7(_normalized(means), dataset="toy", rules=["bptt", "eprop"], preset="test")
    assert row["verdict"] == verdict
    assert row["rule_tests"]["bptt"]["verdict"] == HOLDS
    assert row["ci_level"] == pytest.approx(0.975)


def test_equal_lr_runs_train_the_reference_at_the_study_rate_on_the_first_arch_only():
    cfg = {"rules": ["bptt", "eprop"], "seeds": [1, 2], "archs": ["base", "dale"], "training": {"lr": 0.0003},
           "rule_training": {"bptt": {"lr": 0.001}}, "equal_lr_check": True}
    assert equal_lr_runs(cfg, "reach") == {"bptt": "bptt-lr0.0003"}
    grid = similarity_grid(cfg, ["reach"], seed_offset=100)
    sens = [r for r in grid if r["rule"] == "bptt-lr0.0003"]
    assert [(r["arch"], r["seed"]) for r in sens] == [("base", 101), ("base", 102)]
    assert len(grid) == 2 * 2 * 2 + 2
    assert equal_lr_runs(cfg | {"equal_lr_check": False}, "reach") == {}
    assert equal_lr_runs(cfg | {"rule_training": {"bptt": {"lr": 0.0003}}}, "reach") == {}
    config = {"similarity": cfg, "tasks": {"reach": {}}, "archs": {"base": {}}, "rule_options": {}}
    run = similarity_run_config(config, "reach", "base", "bptt-lr0.0003")
    assert run["train_cfg"]["lr"] == 0.0003 and run["rule"] == "bptt" and run["name"] == "bptt-lr0.0003"
    main = similarity_run_config(config, "reach", "base", "bptt")
    assert main["train_cfg"]["lr"] == 0.001 and "name" not in main


def test_a_run_that_never_learns_leaves_no_matched_range_and_says_so():
    runs = [_run("bptt", s, {}) for s in (1, 2, 3)] + [_run("eprop", s, {}) for s in (1, 2)]
    runs.append(_run("eprop", 3, {}, top=-0.6))  # never above the others' untrained accuracy
    row, _ = claim_a2(stack_runs(runs), n_grid=20, margin=0.05, **KW)
    assert row["verdict"] == INCONCLUSIVE and row["n"] == 0
    assert "no accuracy range that every run reaches" in row["note"]
