"""The calibration target: reading budgets off a run's log, the per-setting verdicts, the choice of the cheapest
setting (on synthetic tables with a known answer) and the `calibration` target end to end at toy size."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from biocredit.calibration import (
    budget_outcomes,
    calibration_checkpoints,
    cheapest_setting,
    settings_table,
)
from tests.conftest import REPO
from tests.test_workflow import SMOKE, snakemake


def test_budgets_are_checkpoints_and_out_of_range_budgets_are_named():
    pts = calibration_checkpoints(1500, [500, 1000, 1500])
    assert {500, 1000, 1500} <= set(pts) and pts == sorted(set(pts)) and pts[0] == 0
    with pytest.raises(ValueError, match=r"\[2000\]"):
        calibration_checkpoints(1500, [500, 2000])


def test_final_and_best_at_each_budget():
    steps = [0, 5, 10, 15, 20]
    acc = [0.1, 0.95, 0.5, 0.92, np.nan]  # peaks early, dips, recovers, then diverges
    out = {o["budget"]: o for o in budget_outcomes(steps, acc, [10, 15, 20])}
    assert out[10]["final"] == 0.5 and out[10]["best"] == 0.95
    assert out[15]["final"] == 0.92 and out[15]["best"] == 0.95
    assert math.isnan(out[20]["final"]) and out[20]["best"] == 0.95  # a NaN is never counted as reached
    with pytest.raises(ValueError, match="budget 12"):
        budget_outcomes(steps, acc, [12])


def _runs(spec):
    """A synthetic run table: spec maps (n_hidden, lr, budget) -> {rule: [per-seed best]} (final = best - 0.05)."""
    rows = []
    for (n, lr, budget), by_rule in spec.items():
        for rule, values in by_rule.items():
            for seed, v in enumerate(values):
                rows.append({"n_hidden": n, "lr": lr, "rule": rule, "seed": seed, "budget": budget,
                             "final": v - 0.05, "best": v, "diverged_at": -1})
    return pd.DataFrame(rows)


GOOD, BAD = [0.95, 0.93, 0.97], [0.95, 0.85, 0.97]  # one seed below 0.9 in BAD


def test_a_setting_qualifies_only_when_every_seed_of_every_rule_reaches():
    runs = _runs({
        (100, 1e-3, 500): {"bptt": GOOD, "eprop": BAD},
        (100, 1e-3, 1000): {"bptt": GOOD, "eprop": GOOD},
        (100, 3e-4, 1000): {"bptt": GOOD},  # e-prop missing: cannot qualify
    })
    s = settings_table(runs, ["bptt", "eprop"], threshold=0.9).set_index(["n_hidden", "lr", "budget"])
    assert not s.loc[(100, 1e-3, 500), "all_reach"] and s.loc[(100, 1e-3, 1000), "all_reach"]
    assert not s.loc[(100, 3e-4, 1000), "all_reach"] and s.loc[(100, 3e-4, 1000), "n_seeds"] == 0
    assert s.loc[(100, 1e-3, 500), "matched_top"] == pytest.approx(0.85)
    assert s.loc[(100, 1e-3, 1000), "eprop_final_min"] == pytest.approx(0.88)
    # by the final accuracy (best - 0.05) no seed set reaches 0.9
    assert not settings_table(runs, ["bptt", "eprop"], 0.9, read_at="final")["all_reach"].any()
    with pytest.raises(ValueError, match="'last'"):
        settings_table(runs, ["bptt", "eprop"], 0.9, read_at="last")


def test_cheapest_qualifying_setting_is_chosen():
    runs = _runs({
        (100, 1e-3, 500): {"bptt": GOOD, "eprop": BAD},      # cost 5e6 (N^2), fails
        (100, 1e-3, 1500): {"bptt": GOOD, "eprop": GOOD},    # cost 1.5e7, qualifies
        (200, 3e-4, 500): {"bptt": GOOD, "eprop": GOOD},     # cost 2e7, qualifies but dearer by N^2 (not by N)
        (100, 3e-4, 1500): {"bptt": GOOD, "eprop": [0.99, 0.98, 0.97]},  # same cost and matched top (0.93)
    })
    s = settings_table(runs, ["bptt", "eprop"], threshold=0.9, cost_exponent=2)
    choice = cheapest_setting(s, 0.9)
    # (100, 3e-4, 1500) and (100, 1e-3, 1500) tie on cost and matched top (0.93): the smaller lr wins the tie
    assert choice == {"n_hidden": 100, "lr": 3e-4, "budget": 1500, "matched_top": pytest.approx(0.93),
                      "cost": 1500 * 100**2}
    # a larger margin breaks a cost tie first
    runs2 = _runs({(100, 1e-3, 1500): {"bptt": [0.99, 0.96, 0.98], "eprop": [0.99, 0.98, 0.99]},
                   (100, 3e-4, 1500): {"bptt": GOOD, "eprop": GOOD}})
    assert cheapest_setting(settings_table(runs2, ["bptt", "eprop"], 0.9), 0.9)["lr"] == 1e-3
    # with cost linear in N, N=200 at 500 updates (1e5) is cheaper than N=100 at 1500 (1.5e5)
    linear = cheapest_setting(settings_table(runs, ["bptt", "eprop"], 0.9, cost_exponent=1), 0.9)
    assert (linear["n_hidden"], linear["budget"], linear["cost"]) == (200, 500, 200 * 500)
    # nothing qualifies: None, not a guess
    assert cheapest_setting(settings_table(_runs({(100, 1e-3, 500): {"bptt": BAD, "eprop": GOOD}}),
                                           ["bptt", "eprop"], 0.9), 0.9) is None


@pytest.mark.slow
def test_calibration_target_at_toy_size(tmp_path, mirror):
    # study A's early stop set so that it always fires: calibration runs must ignore it and reach every budget
    always_stop = tmp_path / "always_stop.yaml"
    always_stop.write_text("similarity: {training: {stop_at: -1.0, stop_patience: 1}}\n")
    args = ["-s", str(REPO / "Snakefile"), "-d", str(tmp_path), "--configfile", str(REPO / "config.yaml"), str(SMOKE),
            str(always_stop), "--cores", "2"]
    snakemake(*args, "calibration", env={"BIOCREDIT_DATA_MIRROR": str(mirror)})
    out = tmp_path / "results" / "calibration"
    runs = pd.read_csv(out / "calibration_runs.csv")
    settings = pd.read_csv(out / "calibration.csv")
    choice = json.loads((out / "choice.json").read_text())
    # smoke grid: N in {8, 12} x lr 0.01 x {bptt, eprop} x seed 1 x budgets {10, 20}
    assert len(runs) == 2 * 1 * 2 * 1 * 2 and set(runs["budget"]) == {10, 20}
    assert len(settings) == 2 * 1 * 2 and set(settings["n_seeds"]) == {1}
    # the table's numbers are the runs' checkpoint logs
    path = out / "runs/reach/base/n12-lr0.01/eprop/seed1/metrics.nc"
    with xr.open_dataset(path) as m:
        assert int(m.attrs["stopped_at"]) == 20  # trained to n_updates despite study A's stop_at
        acc = m["test_accuracy"].sel(checkpoint=[10, 20]).values
        assert np.isfinite(acc).all()  # an early stop would leave NaN at the later budget
        assert json.loads(m.attrs["model_config"])["n_hidden"] == 12
        best20 = float(np.nanmax(m["test_accuracy"].values))
    row = runs[(runs["n_hidden"] == 12) & (runs["rule"] == "eprop") & (runs["seed"] == 1)].sort_values("budget")
    np.testing.assert_allclose(row["final"].to_numpy(), acc, rtol=1e-5)
    assert row["best"].iloc[-1] == pytest.approx(best20, rel=1e-5)
    # the choice is the pure function's answer on the written table
    want = cheapest_setting(settings, choice["threshold"])
    assert want is not None  # the toy threshold is -1
    assert choice["choice"] == {k: pytest.approx(v, rel=1e-5) for k, v in want.items()}  # the CSV keeps 6 digits
    chosen = settings[settings["chosen"]]
    assert len(chosen) == 1 and chosen.iloc[0]["n_hidden"] == want["n_hidden"]
    for suffix in ("png", "pdf"):
        assert (out / f"calibration.{suffix}").stat().st_size > 10_000
    # not part of `all`
    dry = snakemake(*args, "-n", env={"BIOCREDIT_DATA_MIRROR": str(mirror)})
    assert "calibration_train" not in dry.stdout + dry.stderr


# ---------------------------------------------------------------------------------------------- study B


def _b_runs(rows):
    from biocredit.calibration import B_RUN_COLUMNS

    out = []
    for n, m, rule, seed, budget, train, drop, gap in rows:
        out.append({"n_hidden": n, "n_train": m, "rule": rule, "seed": seed, "budget": budget, "update": budget,
                    "train_accuracy": train, "validation_accuracy": train - gap,
                    "best_validation_accuracy": train - gap + drop, "validation_drop": drop, "gap_accuracy": gap,
                    "gap_loss": gap, "diverged_at": -1})
    return pd.DataFrame(out, columns=B_RUN_COLUMNS)


def test_b_settings_table_and_choice_against_hand_computation():
    from biocredit.calibration import b_choice, b_settings_table

    target = {"train_accuracy_difference": {"eprop": -0.30}, "reference_gap_accuracy": [-0.01, 0.02]}
    rows = []
    # N=32: e-prop 0.40 below BPTT (deviation 0.10: regime wrong); N=64: 0.28 below (deviation 0.02: right);
    # N=64 at the larger budget: BPTT's validation accuracy has fallen by 0.05 from its best (memorising)
    for seed, jitter in ((1, 0.0), (2, 0.02)):
        rows += [(32, 1000, "bptt", seed, 100, 0.80 + jitter, 0.0, 0.01), (32, 1000, "eprop", seed, 100, 0.40 + jitter,
                                                                             0.0, 0.0),
                 (64, 1000, "bptt", seed, 100, 0.90 + jitter, 0.0, 0.01), (64, 1000, "eprop", seed, 100, 0.62 + jitter,
                                                                             0.0, 0.0),
                 (64, 1000, "bptt", seed, 200, 0.99, 0.05, 0.10), (64, 1000, "eprop", seed, 200, 0.70, 0.0, 0.0)]
    settings = b_settings_table(_b_runs(rows), ["bptt", "eprop"], "bptt", target, tolerance=0.05,
                                drop_tolerance=0.01)
    s = settings.set_index(["n_hidden", "budget"])
    assert s.loc[(32, 100), "eprop_diff"] == pytest.approx(-0.40)
    assert s.loc[(32, 100), "max_deviation"] == pytest.approx(0.10) and not s.loc[(32, 100), "regime_ok"]
    assert s.loc[(64, 100), "max_deviation"] == pytest.approx(0.02) and s.loc[(64, 100), "qualifies"]
    assert s.loc[(64, 200), "regime_ok"] and not s.loc[(64, 200), "not_memorising"]
    assert s.loc[(64, 100), "cost"] == 6400
    choice = b_choice(settings)
    assert (choice["n_hidden"], choice["budget"], choice["qualifies"]) == (64, 100, True)
    # nothing qualifies: the closest setting that does not memorise, marked as a miss with its size
    far = {"train_accuracy_difference": {"eprop": -0.9}, "reference_gap_accuracy": [-0.01, 0.02]}
    miss = b_choice(b_settings_table(_b_runs(rows), ["bptt", "eprop"], "bptt", far, tolerance=0.05,
                                     drop_tolerance=0.01))
    assert not miss["qualifies"] and (miss["n_hidden"], miss["budget"]) == (32, 100)
    assert miss["max_deviation"] == pytest.approx(0.9 - 0.40)
    with pytest.raises(ValueError, match="no value for"):
        b_settings_table(_b_runs(rows), ["bptt", "eprop"], "bptt", {"train_accuracy_difference": {}},
                         tolerance=0.05, drop_tolerance=0.01)


@pytest.mark.slow
def test_calibration_b_target_at_toy_size(tmp_path):
    """`snakemake calibration_b` end to end on the embedded 8x8 digits (MNIST's stand-in): the three-factor rule's
    runs train 1.6x as long and are read at 1.6x each budget; the tables are the runs' logs."""
    extra = tmp_path / "calb.yaml"
    extra.write_text(
        "tasks: {sdigits: {}}\n"
        "calibration_b: {task: sdigits, rules: [bptt, eprop], n_hidden: [8], n_train: [50, 100], seeds: [1],\n"
        "  n_updates: 20, n_checkpoints: 4, budgets: [10, 20],\n"
        "  target: {train_accuracy_difference: {eprop: -0.05}, reference_gap_accuracy: [0.0, 0.3]}}\n")
    snakemake("-s", str(REPO / "Snakefile"), "-d", str(tmp_path), "--configfile", str(REPO / "config.yaml"),
              str(SMOKE), str(extra), "--cores", "2", "calibration_b")
    out = tmp_path / "results" / "calibration_b"
    runs = pd.read_csv(out / "calibration_runs.csv")
    settings = pd.read_csv(out / "calibration.csv")
    choice = json.loads((out / "choice.json").read_text())
    assert len(runs) == 2 * 2 * 2 and len(settings) == 2 * 2  # (n_train x rule x budget), (n_train x budget)
    with xr.open_dataset(out / "runs/sdigits/b_relu/n8-m100/eprop/seed1/metrics.nc") as m:
        assert json.loads(m.attrs["train_config"])["n_updates"] == 32  # 20 x 1.6
        acc = float(m["train_set_accuracy"].sel(checkpoint=16))  # budget 10 read at update 16
    row = runs[(runs["n_train"] == 100) & (runs["rule"] == "eprop") & (runs["budget"] == 10)]
    assert row["update"].item() == 16 and row["train_accuracy"].item() == pytest.approx(acc, rel=1e-6)
    assert choice["choice"]["n_train"] in (50, 100) and isinstance(choice["choice"]["qualifies"], bool)
    assert (out / "calibration.png").stat().st_size > 10_000
