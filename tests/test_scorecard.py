"""The rule scorecard on small synthetic summaries whose scores are worked out by hand, and its figure by content."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import xarray as xr

from biocredit import scorecard as sc
from biocredit.io import write_netcdf
from biocredit.stages.scorecard import write_scorecard


def study_a_summary() -> xr.Dataset:
    """bptt: three seeds reach accuracy 0.5 at checkpoint 1 with distances 0.4, 0.5, 0.6 there; e-prop: seeds 1-2
    with distances 0.7, 0.9, seed 3 stops at accuracy 0.4 (never reaches 0.5). Untrained accuracy 0 everywhere and
    every rule's best is 1, so the matched range is [0, 1] and its middle, level 0.5, is accuracy 0.5. A second
    architecture holds numbers that must not be read."""
    acc = np.tile([0.0, 0.5, 1.0], (2, 2, 3, 1))
    acc[1, 0, 2] = [0.0, 0.3, 0.4]
    dist = np.full((2, 2, 3, 3), 99.0)
    dist[..., 0] = 1.0
    dist[0, 0, :, 1] = [0.4, 0.5, 0.6]
    dist[1, 0, :, 1] = [0.7, 0.9, 0.95]
    dims = ("rule", "arch", "seed", "checkpoint")
    return xr.Dataset({"accuracy": (dims, acc), "procrustes": (dims, dist)},
                      coords={"rule": ["bptt", "eprop"], "arch": ["base", "other"], "seed": [1, 2, 3],
                              "checkpoint": [0, 10, 20]})


def study_b_summary(lam: dict, main_extra: bool = True) -> xr.Dataset:
    """Runs bptt and mdgl × seeds 1-2 (main grid) plus one remedy variant that must be ignored; λ_max per run from
    ``lam`` {(rule, seed): value}; the other variables are simple functions of it."""
    rules, seeds, main = ["bptt", "bptt", "mdgl", "mdgl"], [1, 2, 1, 2], [1, 1, 1, 1]
    if main_extra:
        rules, seeds, main = rules + ["bptt-lr0.1"], seeds + [1], main + [0]
    lam_v = np.array([lam.get((r, s), 1000.0) for r, s in zip(rules, seeds, strict=True)])
    return xr.Dataset(
        {"lambda_final": ("run", lam_v), "trace_final": ("run", 10 * lam_v),
         "final_validation_accuracy": ("run", lam_v / 100), "gap_loss": ("run", lam_v / 10),
         "gap_loss_matched": ("run", np.full(len(rules), 50.0))},
        coords={"run": np.arange(len(rules)), "rule": ("run", rules), "seed": ("run", seeds), "main": ("run", main)})


def test_study_a_values_read_the_matched_level_and_final_accuracy():
    recs = sc.study_a_values(study_a_summary(), "base", 0.5)
    got = {(r.rule, r.seed, r.metric): r.value for r in recs}
    assert got[("bptt", 2, "procrustes_a")] == pytest.approx(0.5)
    assert got[("eprop", 2, "procrustes_a")] == pytest.approx(0.9)
    assert math.isnan(got[("eprop", 3, "procrustes_a")])  # never reached the level: no value, not an extrapolation
    assert got[("eprop", 3, "accuracy_a")] == pytest.approx(0.4)
    assert got[("bptt", 1, "accuracy_a")] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="'nope'"):
        sc.study_a_values(study_a_summary(), "nope", 0.5)


def test_scores_and_cis_match_a_hand_computation():
    a = sc.study_a_values(study_a_summary(), "base", 0.5)
    # study B on two tasks: bptt seed 1 has λ 2 and 4 (seed mean 3), seed 2 has 5 and 7 (6): mean 4.5
    b = sc.study_b_values(study_b_summary({("bptt", 1): 2, ("bptt", 2): 5, ("mdgl", 1): 1, ("mdgl", 2): 1}))
    b += sc.study_b_values(study_b_summary({("bptt", 1): 4, ("bptt", 2): 7, ("mdgl", 1): 3, ("mdgl", 2): 3}))
    rows = {r["rule"]: r for r in sc.score(a + b, sc.rule_order(["bptt", "eprop"], ["bptt", "mdgl"]))}
    assert list(rows) == ["bptt", "eprop", "mdgl"]
    bp, ep, md = rows["bptt"], rows["eprop"], rows["mdgl"]
    # Procrustes at matched accuracy: bptt mean of 0.4, 0.5, 0.6; the percentile bootstrap of 3 values puts 1/27 >
    # 2.5% of its mass on each extreme mean, so the 95% CI is exactly [min, max]; e-prop has 2 seeds (0.7, 0.9)
    assert (bp["procrustes_a"], bp["procrustes_a_lo"], bp["procrustes_a_hi"], bp["procrustes_a_n"]) == pytest.approx(
        (0.5, 0.4, 0.6, 3))
    assert (ep["procrustes_a"], ep["procrustes_a_lo"], ep["procrustes_a_hi"], ep["procrustes_a_n"]) == pytest.approx(
        (0.8, 0.7, 0.9, 2))
    assert ep["accuracy_a"] == pytest.approx((1 + 1 + 0.4) / 3)
    assert bp["lambda_max_b"] == pytest.approx(4.5) and bp["lambda_max_b_n"] == 2
    assert (bp["lambda_max_b_lo"], bp["lambda_max_b_hi"]) == pytest.approx((3.0, 6.0))
    assert bp["trace_b"] == pytest.approx(45.0)
    assert bp["gap_b"] == pytest.approx(0.45)  # the claims' gap at the end of the budget, not the matched one
    assert md["lambda_max_b"] == pytest.approx(2.0) and (md["lambda_max_b_lo"], md["lambda_max_b_hi"]) == (2.0, 2.0)
    # a rule a study does not run: empty cells, not an error
    assert math.isnan(ep["lambda_max_b"]) and ep["lambda_max_b_n"] == 0 and math.isnan(ep["lambda_max_b_lo"])
    assert math.isnan(md["procrustes_a"]) and md["accuracy_a_n"] == 0
    assert "bptt-lr0.1" not in rows  # remedies' variants are not main-grid rules


def test_accuracy_b_is_the_clean_validation_accuracy():
    ds = study_b_summary({("bptt", 1): 40.0}, main_extra=False).assign(final_test_accuracy=("run", np.zeros(4)))
    recs = [r for r in sc.study_b_values(ds) if r.metric == "accuracy_b" and (r.rule, r.seed) == ("bptt", 1)]
    assert [r.value for r in recs] == [pytest.approx(0.4)]  # not the noisy test set's


def test_run_values_cosine_and_cost_per_update():
    m = xr.Dataset({"grad_cosine": ("checkpoint", [np.nan, 0.5, 0.7]), "loss": ("update", np.zeros(100))},
                   attrs={"train_config": json.dumps({"n_updates": 100, "lr": 0.1})})
    got = {r.metric: r.value for r in sc.run_values("eprop", 3, m, 25.0)}
    assert got == pytest.approx({"grad_cosine": 0.6, "seconds_per_update": 0.25})
    assert math.isnan({r.metric: r.value for r in sc.run_values("eprop", 3, m, math.nan)}["seconds_per_update"])
    bench = "s\th:m:s\tmax_rss\n12.5\t0:00:12\t100\n13.5\t0:00:13\t100\n"
    assert sc.benchmark_seconds(bench) == pytest.approx(13.0)
    with pytest.raises(ValueError, match="'s' column"):
        sc.benchmark_seconds("a\tb\n1\t2\n")


def test_unknown_metric_is_refused_by_name():
    with pytest.raises(ValueError, match="'speed'"):
        sc.score([sc.Record("bptt", 1, "speed", 1.0)], ["bptt"])


def test_csv_round_trip_keeps_numbers_and_empty_cells():
    rows = sc.score([sc.Record("bptt", s, "trace_b", float(s)) for s in (1, 2, 3)], ["bptt", "eprop"])
    text = sc.to_csv(rows)
    assert text.splitlines()[0].split(",") == sc.columns()
    back = sc.read_csv(text)
    assert back[0]["trace_b"] == rows[0]["trace_b"] and back[0]["trace_b_n"] == 3
    assert math.isnan(back[1]["trace_b"]) and ",," in text.splitlines()[2]


def test_figure_has_one_labelled_panel_per_metric_and_one_row_per_rule():
    rows = sc.score([sc.Record("bptt", s, "trace_b", float(s)) for s in (1, 2)]
                    + [sc.Record("eprop", 1, "accuracy_a", 0.9)], ["bptt", "eprop", "tbptt-w4"])
    from biocredit.figures.scorecard import scorecard_figure

    fig = scorecard_figure(rows, sc.METRICS, title="t")
    axes = fig.axes
    assert [ax.get_xlabel() for ax in axes] == [m.label for m in sc.METRICS]
    ticks = sorted(zip(axes[0].get_yticks(), [t.get_text() for t in axes[0].get_yticklabels()], strict=True),
                   reverse=True)
    assert [label for _, label in ticks] == ["BPTT", "e-prop", "tBPTT (k=4)"]  # top to bottom, one row per rule
    trace_ax = axes[[m.key for m in sc.METRICS].index("trace_b")]
    assert sum(t.get_text() == "n/a" for t in trace_ax.texts) == 2  # e-prop and tbptt have no trace
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_write_scorecard_from_files(tmp_path):
    write_netcdf(study_a_summary(), tmp_path / "a.nc")
    write_netcdf(study_b_summary({("bptt", 1): 2, ("bptt", 2): 4}), tmp_path / "b.nc")
    m = xr.Dataset({"grad_cosine": ("checkpoint", [1.0, 1.0])}, attrs={"train_config": json.dumps({"n_updates": 10})})
    write_netcdf(m, tmp_path / "m.nc")
    (tmp_path / "bench.tsv").write_text("s\th:m:s\n5.0\t0:00:05\n")
    runs = [{"rule": "bptt", "seed": 1, "benchmark": str(tmp_path / "bench.tsv")},
            {"rule": "bptt", "seed": 2, "benchmark": str(tmp_path / "absent.tsv")}]
    out = tmp_path / "out"
    write_scorecard([str(tmp_path / "a.nc")], [str(tmp_path / "b.nc")], [str(tmp_path / "m.nc")] * 2,
                       str(out / "s.csv"), str(out / "s.png"), str(out / "s.pdf"), a_archs=["base"],
                       a_rules=["bptt", "eprop"], b_rules=["bptt", "mdgl"], runs=runs, level=0.5, preset="test")
    rows = {r["rule"]: r for r in sc.read_csv((out / "s.csv").read_text())}
    assert list(rows) == ["bptt", "eprop", "mdgl"]
    assert rows["bptt"]["seconds_per_update"] == pytest.approx(0.5) and rows["bptt"]["seconds_per_update_n"] == 1
    assert rows["bptt"]["lambda_max_b"] == pytest.approx(3.0)
    assert (out / "s.png").stat().st_size > 0 and (out / "s.pdf").stat().st_size > 0
    with pytest.raises(ValueError, match="2 metrics files but 1 runs"):
        write_scorecard([], [], [str(tmp_path / "m.nc")] * 2, str(out / "x.csv"), str(out / "x.png"),
                           str(out / "x.pdf"), a_archs=[], a_rules=[], b_rules=[], runs=runs[:1], level=0.5,
                           preset="t")
    assert not (out / "x.csv").exists()
