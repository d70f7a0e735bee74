"""The intervals the verdicts are read off (biocredit.stats: mean_difference_ci, mean_ci, correlation_ci,
pairwise_excess_ci, adjusted_level) against scipy, closed forms written out here, and coverage on simulated data
with a known truth."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from biocredit.stats import (
    adjusted_level,
    correlation_ci,
    mean_ci,
    mean_difference_ci,
    pairwise_excess_ci,
)

# ------------------------------------------------------------------------------------------ difference of means


@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_welch_interval_equals_scipy(level):
    rng = np.random.default_rng(0)
    for n_a, n_b in [(5, 5), (4, 9), (12, 3)]:
        a, b = rng.normal(1.0, 2.0, n_a), rng.normal(0.0, 0.5, n_b)
        res = mean_difference_ci(a, b, level=level)
        ref = sps.ttest_ind(a, b, equal_var=False).confidence_interval(confidence_level=level)
        np.testing.assert_allclose(res["ci"], (ref.low, ref.high), rtol=1e-12)
        assert res["diff"] == pytest.approx(a.mean() - b.mean())
        assert (res["n_a"], res["n_b"], res["method"]) == (n_a, n_b, "welch")


def test_welch_interval_by_hand():
    a, b = np.array([1.0, 2.0, 4.0]), np.array([0.0, 1.0, 1.0, 2.0])
    va, vb = np.var(a, ddof=1) / 3, np.var(b, ddof=1) / 4
    df = (va + vb) ** 2 / (va**2 / 2 + vb**2 / 3)
    half = sps.t.ppf(0.975, df) * math.sqrt(va + vb)
    d = a.mean() - b.mean()
    np.testing.assert_allclose(mean_difference_ci(a, b)["ci"], (d - half, d + half), rtol=1e-12)


def test_min_n_marks_too_few_runs_and_nan_is_dropped():
    a = np.array([1.0, 2.0, np.nan, np.inf])
    res = mean_difference_ci(a, [0.0, 1.0, 2.0], min_n=3)
    assert res["n_a"] == 2 and not res["enough"] and all(map(math.isfinite, res["ci"]))
    assert mean_difference_ci([1.0, 2.0, 3.0], [0.0, 1.0, 2.0], min_n=3)["enough"]
    one = mean_difference_ci([1.0], [0.0, 1.0, 2.0])
    assert one["diff"] == 0.0 and all(math.isnan(v) for v in one["ci"]) and not one["enough"]
    empty = mean_difference_ci([], [1.0, 2.0])
    assert math.isnan(empty["diff"])
    with pytest.raises(ValueError, match="min_n"):
        mean_difference_ci(a, a, min_n=1)
    with pytest.raises(ValueError, match="method"):
        mean_difference_ci(a, a, method="magic")


@pytest.mark.parametrize("method", ["welch", "bootstrap-t", "bca", "percentile"])
def test_constant_groups_give_a_point_interval(method):
    res = mean_difference_ci([2.0, 2.0, 2.0], [1.0, 1.0, 1.0], method=method, n_boot=200)
    assert res["ci"] == pytest.approx((1.0, 1.0))


def test_bca_agrees_with_scipy():
    """scipy.stats.bootstrap's BCa for a two-sample statistic (jackknife of each sample) is an independent
    implementation; both are Monte Carlo, so they agree to a fraction of the interval's width."""
    rng = np.random.default_rng(3)
    a, b = rng.exponential(1.0, 12), rng.exponential(2.0, 15)
    ours = mean_difference_ci(a, b, method="bca", n_boot=40000, seed=1)["ci"]
    ref = sps.bootstrap((a, b), lambda x, y, axis: x.mean(axis) - y.mean(axis), method="BCa", n_resamples=40000,
                        random_state=np.random.default_rng(2), vectorized=True).confidence_interval
    width = ref.high - ref.low
    assert abs(ours[0] - ref.low) < 0.03 * width and abs(ours[1] - ref.high) < 0.03 * width


def test_bootstrap_t_is_wider_than_percentile_with_few_runs():
    """With 5 runs a group the percentile bootstrap ignores that the SE is estimated; the studentized one does not."""
    rng = np.random.default_rng(4)
    a, b = rng.normal(0, 1, 5), rng.normal(0, 1, 5)
    pct = mean_difference_ci(a, b, method="percentile", n_boot=4000)["ci"]
    stud = mean_difference_ci(a, b, method="bootstrap-t", n_boot=4000)["ci"]
    assert stud[1] - stud[0] > pct[1] - pct[0]


@pytest.mark.parametrize(("method", "draws", "lowest"), [("welch", 2000, 0.93), ("bootstrap-t", 300, 0.88),
                                                      ("bca", 300, 0.85)])
def test_difference_interval_coverage(method, draws, lowest):
    """Coverage of the true difference over simulated experiments of 8 normal runs a rule with unequal variances.
    Welch's interval is exact here (0.95; Monte Carlo sd 0.005 at 2000 draws); the bootstrap ones are near it."""
    rng = np.random.default_rng(5)
    hits = 0
    for i in range(draws):
        a, b = rng.normal(0.3, 1.0, 8), rng.normal(0.0, 2.0, 8)
        lo, hi = mean_difference_ci(a, b, method=method, n_boot=999, seed=i)["ci"]
        hits += lo <= 0.3 <= hi
    assert lowest <= hits / draws <= 0.995


# ------------------------------------------------------------------------------------------------------ one mean


def test_mean_ci_equals_scipy():
    x = np.random.default_rng(6).normal(size=7)
    ref = sps.ttest_1samp(x, 0.0).confidence_interval(confidence_level=0.9)
    res = mean_ci(x, level=0.9)
    np.testing.assert_allclose(res["ci"], (ref.low, ref.high), rtol=1e-12)
    assert res["enough"] and res["n"] == 7
    assert not mean_ci([1.0, 2.0], min_n=3)["enough"]
    assert all(math.isnan(v) for v in mean_ci([1.0])["ci"])


# -------------------------------------------------------------------------------------------------- correlations


def test_pearson_interval_equals_scipy():
    rng = np.random.default_rng(7)
    x = rng.normal(size=20)
    y = 0.5 * x + rng.normal(size=20)
    res = correlation_ci(x, y, kind="pearson", level=0.9)
    ref = sps.pearsonr(x, y)
    ci = ref.confidence_interval(confidence_level=0.9)
    assert res["r"] == pytest.approx(ref.statistic) and res["p"] == pytest.approx(ref.pvalue)
    np.testing.assert_allclose(res["ci"], (ci.low, ci.high), rtol=1e-10)
    assert res["n"] == 20


def test_spearman_interval_by_the_formula():
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=15), rng.normal(size=15)
    y[:5] += 3 * x[:5]
    rho = sps.spearmanr(x, y).statistic
    se = math.sqrt((1 + rho**2 / 2) / 12)
    z = 1.959963984540054  # the 0.975 quantile of the standard normal
    expected = (math.tanh(math.atanh(rho) - z * se), math.tanh(math.atanh(rho) + z * se))
    res = correlation_ci(x, y)
    np.testing.assert_allclose(res["ci"], expected, rtol=1e-12)
    assert res["r"] == pytest.approx(rho) and res["ci"][0] < rho < res["ci"][1]


def test_correlation_small_and_degenerate_inputs():
    assert math.isnan(correlation_ci([1, 2], [2, 1])["r"])
    three = correlation_ci([1, 2, 3], [1, 3, 2])
    assert math.isnan(three["r"]) and all(math.isnan(v) for v in three["ci"]) and three["n"] == 3
    assert math.isnan(correlation_ci([1, 1, 1, 1], [1, 2, 3, 4])["r"])
    res = correlation_ci([1, 2, np.nan, 4, 5, 6], [2, 4, 5, np.inf, 10, 12], kind="pearson")
    assert res["n"] == 4
    perfect = correlation_ci([1, 2, 3, 4, 5], [2, 4, 6, 8, 10], kind="pearson")
    assert perfect["ci"] == pytest.approx((1.0, 1.0))
    with pytest.raises(ValueError, match="kind"):
        correlation_ci([1, 2, 3], [1, 2, 3], kind="kendall")


@pytest.mark.parametrize("kind", ["pearson", "spearman"])
def test_correlation_interval_coverage(kind):
    """Bivariate normal with ρ = 0.5: Pearson's population value is ρ, Spearman's (6/π)·asin(ρ/2)."""
    rho = 0.5
    truth = rho if kind == "pearson" else 6 / math.pi * math.asin(rho / 2)
    rng = np.random.default_rng(9)
    cov = [[1, rho], [rho, 1]]
    hits = 0
    for _ in range(400):
        xy = rng.multivariate_normal([0, 0], cov, size=20)
        lo, hi = correlation_ci(xy[:, 0], xy[:, 1], kind=kind)["ci"]
        hits += lo <= truth <= hi
    assert 0.92 <= hits / 400 <= 0.99


# ------------------------------------------------------------------------------------------- pairwise distances


def _loop_excess(d, g):
    within, between = [], []
    for i in range(len(g)):
        for j in range(i + 1, len(g)):
            (within if g[i] == g[j] else between).append(d[i, j])
    return np.mean(between) - np.mean(within)


def _distances(points):
    return np.linalg.norm(points[:, None, :] - points[None, :, :], axis=-1)


def test_pairwise_excess_statistic_and_jackknife_by_loops():
    rng = np.random.default_rng(10)
    g = np.array(["bptt"] * 5 + ["eprop"] * 4)
    x = rng.normal(size=(9, 3)) + (g == "eprop")[:, None] * 0.5
    d = _distances(x)
    res = pairwise_excess_ci(d, g, level=0.9)
    assert res["diff"] == pytest.approx(_loop_excess(d, g))
    loo = np.array([_loop_excess(np.delete(np.delete(d, i, 0), i, 1), np.delete(g, i)) for i in range(9)])
    se = math.sqrt(8 / 9 * ((loo - loo.mean()) ** 2).sum())
    half = sps.t.ppf(0.95, 7) * se
    np.testing.assert_allclose(res["ci"], (res["diff"] - half, res["diff"] + half), rtol=1e-10)
    assert res["n_pairs"] == {"within": 16, "between": 20} and res["enough"]


def test_pairwise_excess_drops_runs_with_missing_distances_and_checks_shape():
    g = np.array([0, 0, 0, 1, 1, 1])
    d = _distances(np.random.default_rng(11).normal(size=(6, 2)))
    d[0, 4] = d[4, 0] = np.nan
    res = pairwise_excess_ci(d, g)
    assert res["n"] == 4 and not res["enough"]  # runs 0 and 4 are dropped: 2 runs a group is below min_n
    with pytest.raises(ValueError, match="symmetric"):
        pairwise_excess_ci(np.triu(np.ones((3, 3))), [0, 0, 1])
    with pytest.raises(ValueError, match="groups"):
        pairwise_excess_ci(np.ones((3, 3)), [0, 1])


def test_pairwise_excess_coverage_resampling_runs():
    """Runs are points μ_rule + noise; the pairwise Euclidean distances reuse each run in many pairs. The truth is
    the population value of E[between] − E[within], from a large sample; the interval that resamples runs covers it
    at least at its level (the jackknife is conservative here: ≈ 0.98, docs/verdicts.md)."""
    rng = np.random.default_rng(12)
    shift, dim, n = 0.4, 4, 6

    def draw(k):
        g = np.repeat([0, 1], k)
        return rng.normal(size=(2 * k, dim)) + shift * g[:, None] * np.eye(dim)[0], g

    big, gb = draw(400)
    truth = _loop_excess(_distances(big), gb)
    hits = 0
    for _ in range(300):
        x, g = draw(n)
        lo, hi = pairwise_excess_ci(_distances(x), g)["ci"]
        hits += lo <= truth <= hi
    assert 0.9 <= hits / 300 <= 1.0


# --------------------------------------------------------------------------------------------------- multiplicity


def test_adjusted_level():
    assert adjusted_level(0.95, 1) == 0.95
    assert adjusted_level(0.95, 3) == pytest.approx(1 - 0.05 / 3)
    assert adjusted_level(0.95, 3, "sidak") == pytest.approx(0.95 ** (1 / 3))
    assert adjusted_level(0.95, 3, "sidak") < adjusted_level(0.95, 3)  # Šidák is the less strict of the two
    with pytest.raises(ValueError):
        adjusted_level(0.95, 0)
    with pytest.raises(ValueError):
        adjusted_level(1.5, 2)


def test_adjusted_levels_cover_simultaneously():
    """Three independent Welch intervals at the Bonferroni level all cover in at least 95% of experiments."""
    rng = np.random.default_rng(13)
    lvl = adjusted_level(0.95, 3)
    all_cover = 0
    for _ in range(400):
        ok = True
        for _ in range(3):
            lo, hi = mean_difference_ci(rng.normal(size=6), rng.normal(size=6), level=lvl)["ci"]
            ok &= lo <= 0 <= hi
        all_cover += ok
    assert all_cover / 400 >= 0.93
