"""Study B statistics (biocredit.generalization) against scipy and closed forms."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats as sps

from biocredit.generalization import density_on_grid, generalization_gap, stability_ratio
from biocredit.stats import correlation, mean_sem, permutation_test, pooled_within_sd, spread_test


def test_gap_and_stability_ratio_closed_forms():
    g = generalization_gap([0.1, 0.2], [0.5, 0.1], [0.9, 1.0], [0.7, 0.95])
    np.testing.assert_allclose(g["gap_loss"], [0.4, -0.1])
    np.testing.assert_allclose(g["gap_accuracy"], [0.2, 0.05])
    np.testing.assert_allclose(stability_ratio([200.0, 10.0], [0.01, 0.1]), [1.0, 0.5])


def _diff(x, y, axis=-1):
    return np.mean(x, axis=axis) - np.mean(y, axis=axis)


@pytest.mark.parametrize("alternative", ["greater", "less"])
def test_permutation_test_one_sided_equals_scipy_exact(alternative):
    rng = np.random.default_rng(0)
    a, b = rng.normal(0.8, 1, 6), rng.normal(0, 1, 5)
    ours = permutation_test(a, b, alternative=alternative)
    ref = sps.permutation_test((a, b), _diff, permutation_type="independent", alternative=alternative,
                               n_resamples=np.inf, vectorized=True)
    assert ours["exact"] and ours["p"] == pytest.approx(ref.pvalue, abs=1e-12)
    assert ours["diff"] == pytest.approx(a.mean() - b.mean())


def test_permutation_test_two_sided_is_abs_difference_over_all_splits():
    a, b = np.array([3.0, 4.0, 5.0]), np.array([1.0, 2.0, 2.5, 0.0])
    pooled = np.concatenate([a, b])
    obs = abs(a.mean() - b.mean())
    diffs = [abs(pooled[list(c)].mean() - np.delete(pooled, list(c)).mean())
             for c in itertools.combinations(range(7), 3)]
    expected = np.mean(np.array(diffs) >= obs - 1e-12)
    assert permutation_test(a, b)["p"] == pytest.approx(expected)
    # the most extreme split of 3 vs 4 distinct values: p = 2 / C(7, 3) two-sided, 1 / C(7, 3) one-sided
    assert permutation_test(a, b, alternative="greater")["p"] == pytest.approx(1 / 35)


def test_permutation_test_monte_carlo_close_to_exact_and_nan_handling():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0.5, 1, 12), rng.normal(0, 1, 12)
    exact = permutation_test(a, b, alternative="greater", n_perm=10**7)
    mc = permutation_test(a, b, alternative="greater", n_perm=20000, seed=3)
    assert exact["exact"] and not mc["exact"]
    assert mc["p"] == pytest.approx(exact["p"], abs=0.01)
    r = permutation_test([1.0, np.nan, 2.0], [np.inf, 0.0])
    assert (r["n_a"], r["n_b"]) == (2, 1)
    assert math.isnan(permutation_test([], [1.0])["p"])
    with pytest.raises(ValueError):
        permutation_test([1.0], [2.0], alternative="bigger")


def test_spread_test_single_groups_is_brown_forsythe_of_scipy():
    rng = np.random.default_rng(2)
    a, b = rng.normal(0, 3, 9), rng.normal(1, 1, 7)
    ours = spread_test([a], [b])
    ref = sps.levene(a, b, center="median")
    assert ours["F"] == pytest.approx(ref.statistic) and ours["p"] == pytest.approx(ref.pvalue)
    assert ours["sd_ratio"] == pytest.approx(np.std(a, ddof=1) / np.std(b, ddof=1))


def test_spread_test_pools_deviations_from_each_rules_own_median():
    g1, g2, ref = np.array([10.0, 11.0, 15.0]), np.array([-5.0, -1.0, 0.0]), np.array([0.0, 0.5, 0.7])
    ours = spread_test([g1, g2], [ref])
    dev_a = np.concatenate([np.abs(g1 - 11.0), np.abs(g2 + 1.0)])
    dev_b = np.abs(ref - 0.5)
    res = sps.f_oneway(dev_a, dev_b)
    assert ours["F"] == pytest.approx(res.statistic) and ours["p"] == pytest.approx(res.pvalue)
    # pooled within-rule SD: the difference between the rules' means does not count as spread
    ss = ((g1 - g1.mean()) ** 2).sum() + ((g2 - g2.mean()) ** 2).sum()
    assert pooled_within_sd([g1, g2]) == pytest.approx(math.sqrt(ss / 4))
    assert ours["sd_ratio"] == pytest.approx(math.sqrt(ss / 4) / np.std(ref, ddof=1))
    assert math.isnan(spread_test([[1.0]], [[2.0]])["p"])


def test_correlation_matches_scipy_and_drops_nonfinite_pairs():
    rng = np.random.default_rng(3)
    x = rng.normal(size=20)
    y = 2 * x + rng.normal(size=20)
    c = correlation(x, y)
    assert c["pearson_r"] == pytest.approx(sps.pearsonr(x, y).statistic)
    assert c["pearson_p"] == pytest.approx(sps.pearsonr(x, y).pvalue)
    assert c["spearman_r"] == pytest.approx(sps.spearmanr(x, y).statistic)
    assert c["spearman_p"] == pytest.approx(sps.spearmanr(x, y).pvalue)
    mono = correlation([1, 2, 3, 4, np.nan], [1, 10, 100, 1000, 5])
    assert mono["n"] == 4 and mono["spearman_r"] == pytest.approx(1.0) and mono["pearson_r"] < 1
    assert math.isnan(correlation([1, 2], [3, 4])["spearman_r"])
    assert math.isnan(correlation([1, 1, 1], [3, 4, 5])["pearson_r"])


def test_mean_sem_and_density():
    v = np.array([[1.0, 2.0], [3.0, np.nan], [5.0, 4.0]])
    mean, sem = mean_sem(v)
    np.testing.assert_allclose(mean, [3.0, 3.0])
    np.testing.assert_allclose(sem, [sps.sem([1, 3, 5]), sps.sem([2, 4])])
    mean, sem = mean_sem(np.array([[np.nan], [7.0]]))
    assert mean[0] == 7.0 and math.isnan(sem[0])
    grid = np.linspace(-5, 15, 4001)
    d = density_on_grid([0.0, 10.0], [0.25, 0.75], grid, sigma=0.5)
    assert np.trapezoid(d, grid) == pytest.approx(1.0, rel=1e-6)
    assert d[np.argmin(abs(grid - 10))] == pytest.approx(0.75 / (0.5 * math.sqrt(2 * math.pi)), rel=1e-6)
