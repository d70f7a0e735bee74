"""Matched-accuracy comparison, claim rows and the A2 figure, on synthetic runs with known answers."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from biocredit.claims import UNTESTABLE, claim_row, collect_claims, equivalence_holds, untestable_reason
from biocredit.similarity import checkpoint_distances
from biocredit.similarity.matched import matched_curves, rule_difference, stack_runs


def _run(rule, seed, offset, n=30):
    rng = np.random.default_rng(seed)
    acc = np.linspace(-0.5, 0.9, n) + rng.normal(0, 0.01, n)
    dist = 0.8 - 0.3 * np.clip(acc, 0, None) + offset
    return xr.Dataset(
        {"procrustes": ("checkpoint", dist), "accuracy": ("checkpoint", acc)},
        coords={"checkpoint": np.arange(n) * 10},
        attrs={"rule": rule, "arch": "base", "seed": seed},
    )


def _summary(offset):
    return stack_runs([_run("bptt", s, 0.0) for s in (1, 2, 3)] + [_run("eprop", s, offset) for s in (1, 2, 3)])


def test_stack_runs_keeps_every_run():
    s = _summary(0.0)
    assert dict(s.sizes) == {"rule": 2, "arch": 1, "seed": 3, "checkpoint": 30}
    np.testing.assert_array_equal(s.procrustes.sel(rule="bptt", arch="base", seed=2), _run("bptt", 2, 0).procrustes)


@pytest.mark.parametrize("offset", [0.0, 0.1])
def test_rule_difference_recovers_a_known_offset(offset):
    summary = _summary(offset)
    matched = matched_curves(summary, n_grid=20)
    assert matched.accuracy.min() == summary.accuracy.isel(checkpoint=0).max()
    assert matched.accuracy.max() <= summary.accuracy.max()
    diff = rule_difference(matched, "eprop", "bptt", "base")
    assert diff["mean_diff"] == pytest.approx(offset, abs=0.01)
    assert diff["ci"][0] <= diff["mean_diff"] <= diff["ci"][1]
    assert equivalence_holds(diff["ci"], 0.05) == (offset == 0.0)


def test_claim_rows_are_validated(tmp_path):
    row = claim_row(id="X1", figure="X1", study="A", claim="c", statistic="s", value=float("nan"), n=2, preset="p",
                    holds=np.bool_(True))
    assert row["value"] is None and row["holds"] is True
    with pytest.raises(ValueError, match="holds"):
        claim_row(id="X1", figure="X1", study="A", claim="c", statistic="s", value=1.0, n=2, preset="p")
    (tmp_path / "b.json").write_text('{"id": "B", "figure": "B", "study": "B", "claim": "c", "statistic": "s", '
                                     '"value": 1, "n": 1, "preset": "p", "holds": false}')
    (tmp_path / "a.json").write_text('[{"id": "A", "figure": "A", "study": "A", "claim": "c", "statistic": "s", '
                                     '"value": 1, "n": 1, "preset": "p", "holds": true}]')
    assert [r["id"] for r in collect_claims([tmp_path / "b.json", tmp_path / "a.json"])] == ["A", "B"]


def test_silent_checkpoint_has_no_distance():
    rng = np.random.default_rng(0)
    data = xr.Dataset({"rate": (("unit", "time", "condition"), rng.random((5, 4, 3)))},
                      coords={"time": [0.0, 10, 20, 30], "condition": [0, 1, 2]})
    rate = rng.random((2, 6, 4, 3))
    rate[1] = 0.0
    act = xr.Dataset(
        {"rate": (("checkpoint", "unit", "time", "condition"), rate), "accuracy": ("checkpoint", [0, 1.0])},
        coords={"checkpoint": [0, 5], "time": [0.0, 10, 20, 30], "condition": [0, 1, 2]},
    )
    d = checkpoint_distances(act, data).procrustes.values
    assert np.isfinite(d[0]) and np.isnan(d[1])
    bad = act.assign_coords(time=[0.0, 10, 20, 40])
    with pytest.raises(ValueError, match="'time'"):
        checkpoint_distances(bad, data)


def test_a2_figure_content():
    from biocredit.figures.similarity import distance_vs_accuracy

    summary = _summary(0.05)
    matched = matched_curves(summary, n_grid=15)
    base = xr.Dataset({"cross_condition": ((), 0.6), "split_half": ("iteration", [0.3, 0.35, 0.4])})
    fig = distance_vs_accuracy(summary, matched, base, arch="base", title="test")
    ax = fig.axes[0]
    assert "accuracy" in ax.get_xlabel() and "Procrustes" in ax.get_ylabel()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("BPTT" in t for t in labels) and any("e-prop" in t for t in labels)
    assert "cross-condition average" in labels and "data split-half" in labels and "untrained" in labels
    mean_lines = [ln for ln in ax.lines if ln.get_linewidth() > 2]
    assert len(mean_lines) == 2
    np.testing.assert_allclose(mean_lines[0].get_xdata(), matched.accuracy.values)
    flat = [ln for ln in ax.lines if len(ln.get_ydata()) == 2 and len(set(ln.get_ydata())) == 1]
    hlines = {round(float(ln.get_ydata()[0]), 3) for ln in flat}
    assert {0.6, 0.35} <= hlines


@pytest.mark.parametrize(("offset", "inside"), [(0.02, True), (0.1, False)])
def test_a3_figure_states_each_level_s_test_and_margin_verdict(offset, inside):
    """Over each level, figure A3 prints the claim's own difference, CI, p, runs per rule and margin verdict; the
    verdict agrees with an independent reading of the printed CI against the margin."""
    import re

    from biocredit.claims.study_a import claim_a3
    from biocredit.figures.similarity import distance_at_levels

    margin = 0.05
    row, at, tests = claim_a3(_summary(offset), dataset="toy", arch="base", rules=["bptt", "eprop"],
                              fractions=[0.5, 0.95], margin=margin, preset="test")
    fig = distance_at_levels(at, tests, "base", "toy", margin=margin)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert len(texts) == len(tests) == 2
    for text, t in zip(texts, tests, strict=True):
        lo, hi = (float(v) for v in re.search(r"\[([-+0-9.]+), ([-+0-9.]+)\]", text).groups())
        assert (lo, hi) == pytest.approx(tuple(t["ci"]), abs=6e-5)
        assert f"n={t['n_a']}/{t['n_b']}" in text
        printed = text.rsplit(": ", 1)[1]
        independent = "holds" if abs(lo) <= margin and abs(hi) <= margin else (
            "fails" if lo > margin or hi < -margin else "inconclusive")
        assert printed == independent == ("holds" if inside else "fails") == t["verdict"]
    assert row["holds"] is inside and row["verdict"] == ("holds" if inside else "fails")


def test_runs_that_stall_count_only_where_they_reached():
    """A run that never reaches high accuracy is NaN there and the grid still extends to where each rule got."""
    stalled = _run("eprop", 9, 0.1, n=30)
    stalled["accuracy"] = np.minimum(stalled.accuracy, 0.2)
    runs = [_run("bptt", s, 0.0) for s in (1, 2, 3)] + [_run("eprop", s, 0.1) for s in (1, 2)] + [stalled]
    summary = stack_runs(runs)
    matched = matched_curves(summary, n_grid=30)
    assert matched.accuracy.max() > 0.8
    high = matched.procrustes.sel(rule="eprop", arch="base", accuracy=matched.accuracy > 0.3)
    assert np.isnan(high.sel(seed=9)).all() and np.isfinite(high.sel(seed=1)).all()
    diff = rule_difference(matched, "eprop", "bptt", "base")
    assert diff["mean_diff"] == pytest.approx(0.1, abs=0.01)
    assert diff["accuracy_range"][1] > 0.8 and diff["n_a"] == 3


def test_curve_difference_permutation_p_is_exact():
    from biocredit.similarity.matched import curve_difference

    a = np.array([[1.0, 1.0], [1.1, 1.1], [1.2, 1.2]])
    b = np.array([[0.0, 0.0], [0.1, 0.1], [0.2, 0.2]])
    res = curve_difference(a, b)
    assert res["mean_diff"] == pytest.approx(1.0)
    assert res["p"] == pytest.approx(2 / 20)  # the observed split and its mirror out of C(6, 3) = 20
    assert res["ci"][0] > 0.5


def test_values_at_levels_are_fractions_of_the_matched_range():
    from biocredit.similarity.matched import matched_grid, values_at_levels

    summary = _summary(0.1)
    at = values_at_levels(summary, [0.0, 0.5, 1.0])
    grid = matched_grid(summary, 2)
    np.testing.assert_allclose(at.accuracy.values, [grid[0], (grid[0] + grid[1]) / 2, grid[1]])
    # distance is 0.8 - 0.3 * clip(acc) (+ offset), so at a level it is known in closed form
    a = float(at.accuracy.sel(level=0.5))
    got = at.procrustes.sel(level=0.5, arch="base")
    np.testing.assert_allclose(got.sel(rule="bptt"), 0.8 - 0.3 * max(a, 0), atol=0.01)
    np.testing.assert_allclose(got.sel(rule="eprop"), 0.9 - 0.3 * max(a, 0), atol=0.01)


def test_a4_names_the_cells_where_not_every_seed_reached_the_level():
    """Figure A4 / its claim row say which (arch, rule) cells have seeds that never reached the matched level."""
    import numpy as np
    import xarray as xr

    from biocredit.claims.study_a import unreached_cells
    from biocredit.claims.study_a import unreached_note as _unreached_note

    values = np.array([[[0.3, 0.4, 0.5], [0.2, np.nan, 0.3]],     # bptt: base all, dale 2 of 3
                       [[np.nan, np.nan, 0.5], [0.1, 0.2, 0.3]]])  # eprop: base 1 of 3, dale all
    at = xr.DataArray(values, dims=("rule", "arch", "seed"),
                      coords={"rule": ["bptt", "eprop"], "arch": ["base", "dale"], "seed": [1, 2, 3]})
    assert unreached_cells(at) == {"base": {"eprop": "1 of 3 seeds"}, "dale": {"bptt": "2 of 3 seeds"}}
    assert _unreached_note(unreached_cells(at)) == (
        "level not reached by every seed in: base: eprop 1 of 3 seeds; dale: bptt 2 of 3 seeds")
    assert unreached_cells(at.fillna(0.0)) == {} and _unreached_note({}) == ""


def _arch_run(rule, seed, arch, offset):
    run = _run(rule, seed, offset)
    run.attrs["arch"] = arch
    return run


def test_a4_on_one_arch_row_is_not_testable_and_says_why():
    """With one arch row only the rule varies, so "architecture matters more than the rule" cannot be weighed: the
    row's verdict is None (not False) and its note says why; with a second row whose distances differ by far more
    than the rules' the claim holds, and with rows that do not differ it fails."""
    from biocredit.claims.study_a import claim_a4

    archs = {"base": {"n_hidden": 8, "activation": "retanh"}, "tanh": {"n_hidden": 8, "activation": "tanh"}}
    one = _summary(0.05)
    row = claim_a4(one, dataset="d", archs=archs, level=0.5, preset="p")[0]
    assert row["holds"] is None and "not testable" in row["note"] and "['base']" in row["note"]
    two = stack_runs([_arch_run(r, s, a, (0.3 if a == "tanh" else 0.0) + (0.01 if r == "eprop" else 0.0))
                      for r in ("bptt", "eprop") for s in (1, 2, 3) for a in archs])
    assert claim_a4(two, dataset="d", archs=archs, level=0.5, preset="p")[0]["holds"] is True
    flat = stack_runs([_arch_run(r, s, a, 0.1 if r == "eprop" else 0.0)
                       for r in ("bptt", "eprop") for s in (1, 2, 3) for a in archs])
    assert claim_a4(flat, dataset="d", archs=archs, level=0.5, preset="p")[0]["holds"] is False


def test_an_untestable_claim_row_must_say_why():
    kw = dict(id="X1", figure="X1", study="A", claim="c", statistic="s", value=1.0, n=2, preset="p")
    with pytest.raises(ValueError, match="needs a note"):
        claim_row(holds=None, **kw)
    with pytest.raises(ValueError, match="needs a note"):  # a note that does not say the grid cannot test it
        claim_row(holds=None, note="one arch row", **kw)
    row = claim_row(holds=None, note=UNTESTABLE + "one arch row; level not reached", **kw)
    assert row["holds"] is None and untestable_reason(row) == "one arch row"
    assert untestable_reason(claim_row(holds=False, note=UNTESTABLE + "x", **kw)) is None


def test_matched_participation_is_each_runs_ratio_on_the_matched_grid(tmp_path):
    """Figure A5's participation-ratio curves, measured by the matched_participation stage: with accuracy rising
    monotonically and the ratio linear in accuracy, each run's value at grid accuracy g is that line at g (closed
    form). Runs of other rules (an equal-lr run) and other arch rows are left out."""
    from biocredit.io import open_netcdf, write_netcdf
    from biocredit.stages.similarity import matched_participation

    lines = {"bptt": (2.0, 3.0), "eprop": (5.0, -1.0), "bptt-lr0.0003": (0.0, 0.0)}
    runs = []
    for rule, (c0, c1) in lines.items():
        for seed in (1, 2):
            for arch in ("base", "tanh"):
                acc = np.linspace(-0.4 + 0.01 * seed, 0.9 - 0.02 * seed, 25)
                runs.append(xr.Dataset({"accuracy": ("checkpoint", acc),
                                        "participation_ratio": ("checkpoint", c0 + c1 * acc)},
                                       coords={"checkpoint": np.arange(25) * 10},
                                       attrs={"rule": rule, "arch": arch, "seed": seed}))
    write_netcdf(stack_runs(runs), tmp_path / "summary.nc")
    out = tmp_path / "participation.nc"
    matched_participation(str(tmp_path / "summary.nc"), str(out), dataset="d", arch="base", rules=["bptt", "eprop"],
                          n_grid=11)
    with open_netcdf(out) as ds:
        pr = ds.load()["participation_ratio"]
    assert list(pr.rule.values) == ["bptt", "eprop"] and list(pr.arch.values) == ["base"]
    grid = pr.accuracy.values
    assert grid.size == 11 and np.isclose(grid[0], -0.38)  # the largest untrained accuracy
    for rule in ("bptt", "eprop"):
        c0, c1 = lines[rule]
        for seed in (1, 2):
            got = pr.sel(rule=rule, arch="base", seed=seed).values
            reached = grid <= 0.9 - 0.02 * seed + 1e-12
            np.testing.assert_allclose(got[reached], c0 + c1 * grid[reached], rtol=1e-12, atol=1e-12)
