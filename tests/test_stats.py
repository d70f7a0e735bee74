"""Tests of matched-accuracy interpolation, bootstrap CIs and the permutation test against oracles."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from biocredit.stats import (
    bootstrap_ci,
    common_accuracy_grid,
    difference_of_means,
    first_passage_interpolate,
    mean_ci_over_runs,
)

# ----------------------------------------------------------------------------------- first passage


def test_first_passage_on_non_monotone_run():
    # checkpoints:   0     1     2     3     4     5
    acc = np.array([0.20, 0.50, 0.30, 0.60, 0.40, 0.90])
    val = np.array([10.0, 20.0, 5.0, 40.0, 0.0, 100.0])
    grid = np.array([0.10, 0.20, 0.35, 0.50, 0.55, 0.70, 0.90, 0.95])
    expected = np.array(
        [
            10.0,  # 0.10: first checkpoint is already above -> its value
            10.0,  # 0.20: reached exactly at checkpoint 0
            10.0 + (0.35 - 0.20) / (0.50 - 0.20) * (20.0 - 10.0),  # first reached between ckpt 0 and 1
            20.0,  # 0.50: reached exactly at checkpoint 1 (interpolation weight 1)
            # 0.55: ckpt 1 (0.5) and 2 (0.3) are below; first >= 0.55 is ckpt 3, last below is ckpt 2
            5.0 + (0.55 - 0.30) / (0.60 - 0.30) * (40.0 - 5.0),
            # 0.70: first >= is ckpt 5 (0.9); last below is ckpt 4 (0.4), not ckpt 3 (0.6)
            0.0 + (0.70 - 0.40) / (0.90 - 0.40) * (100.0 - 0.0),
            100.0,
            np.nan,  # never reached
        ]
    )
    np.testing.assert_allclose(first_passage_interpolate(acc, val, grid), expected, rtol=1e-12, atol=1e-12)


def test_first_passage_ignores_nan_accuracy_and_keeps_grid_shape():
    acc = np.array([0.1, np.nan, 0.5, 0.8])
    val = np.array([1.0, 999.0, 3.0, 6.0])
    grid = np.array([[0.3, 0.65], [0.8, 0.81]])
    expected = np.array([[1.0 + 0.2 / 0.4 * 2.0, 3.0 + 0.15 / 0.3 * 3.0], [6.0, np.nan]])
    out = first_passage_interpolate(acc, val, grid)
    assert out.shape == grid.shape
    np.testing.assert_allclose(out, expected, rtol=1e-12)


def test_first_passage_matches_loop_definition_on_random_runs():
    """Vectorised implementation vs a literal loop over the definition."""
    rng = np.random.default_rng(0)
    for _ in range(50):
        n = int(rng.integers(1, 15))
        acc = np.round(rng.uniform(0, 1, n), 2)  # rounding creates ties
        val = rng.standard_normal(n)
        grid = np.concatenate([rng.uniform(-0.1, 1.1, 20), acc])
        expected = []
        for a in grid:
            hits = np.flatnonzero(acc >= a)
            if hits.size == 0:
                expected.append(np.nan)
                continue
            k = hits[0]
            if k == 0:
                expected.append(val[0])
            else:
                w = (a - acc[k - 1]) / (acc[k] - acc[k - 1])
                expected.append((1 - w) * val[k - 1] + w * val[k])
        np.testing.assert_allclose(first_passage_interpolate(acc, val, grid), expected, atol=1e-12)


def test_first_passage_shape_errors():
    with pytest.raises(ValueError):
        first_passage_interpolate(np.zeros(3), np.zeros(4), np.zeros(2))


def test_common_accuracy_grid():
    runs = [np.array([0.1, 0.6, 0.4, 0.8]), np.array([0.3, np.nan, 0.7, 0.65])]
    grid = common_accuracy_grid(runs, n=5)
    np.testing.assert_allclose(grid, np.linspace(0.3, 0.7, 5))
    np.testing.assert_allclose(common_accuracy_grid(runs, n=3, lo=0.2), [0.2, 0.45, 0.7])
    # every run reaches every grid point, and none starts above the grid
    for acc in runs:
        acc = acc[~np.isnan(acc)]
        assert acc[0] <= grid[0] and acc.max() >= grid[-1]
    assert common_accuracy_grid([np.array([0.5, 0.6]), np.array([0.7, 0.8])]).size == 0


# --------------------------------------------------------------------------------------- bootstrap


def test_bootstrap_ci_coverage_of_normal_mean():
    rng = np.random.default_rng(1)
    true_mean = 2.0
    covered = 0
    n_sim = 200
    for i in range(n_sim):
        x = rng.normal(true_mean, 3.0, size=40)
        lo, hi = bootstrap_ci(x, n_boot=2000, seed=i)
        covered += lo <= true_mean <= hi
    assert 0.88 <= covered / n_sim <= 0.99


def test_bootstrap_ci_narrows_with_n_and_is_seeded():
    rng = np.random.default_rng(2)
    small = rng.standard_normal(20)
    large = rng.standard_normal(2000)
    w_small = np.subtract(*bootstrap_ci(small)[::-1])
    w_large = np.subtract(*bootstrap_ci(large)[::-1])
    assert w_large < w_small / 5  # width ~ 1/sqrt(n): expected ratio 10
    # close to the normal-theory interval for large n
    se = large.std(ddof=1) / np.sqrt(large.size)
    assert w_large == pytest.approx(2 * 1.96 * se, rel=0.1)
    assert bootstrap_ci(small, seed=3) == bootstrap_ci(small, seed=3)
    assert bootstrap_ci(small, seed=3) != bootstrap_ci(small, seed=4)


def test_bootstrap_ci_nan_and_small_inputs():
    x = np.array([1.0, np.nan, 2.0, 3.0, np.nan, 4.0])
    assert bootstrap_ci(x, seed=0) == bootstrap_ci(x[~np.isnan(x)], seed=0)
    assert all(math.isnan(v) for v in bootstrap_ci(np.array([1.0, np.nan])))
    assert all(math.isnan(v) for v in bootstrap_ci(np.array([])))


def test_bootstrap_ci_other_statistic_brackets_it():
    x = np.random.default_rng(4).exponential(size=200)
    lo, hi = bootstrap_ci(x, statistic=np.median, n_boot=3000)
    assert lo < np.median(x) < hi
    assert x.min() <= lo and hi <= x.max()
    with pytest.raises(ValueError, match="one number"):
        bootstrap_ci(np.ones((10, 2)), statistic=np.mean)  # reduces rows only -> (n_boot, 2)


def test_mean_ci_over_runs_nan_aware():
    rng = np.random.default_rng(5)
    curves = rng.standard_normal((8, 4))
    curves[:3, 1] = np.nan
    curves[:, 2] = np.nan
    curves[1:, 3] = np.nan
    mean, lo, hi = mean_ci_over_runs(curves, n_boot=2000)
    np.testing.assert_allclose(mean[:2], [curves[:, 0].mean(), curves[3:, 1].mean()])
    assert (lo[0], hi[0]) == bootstrap_ci(curves[:, 0], n_boot=2000)
    assert (lo[1], hi[1]) == bootstrap_ci(curves[3:, 1], n_boot=2000)
    assert np.isnan(mean[2]) and np.isnan(lo[2]) and np.isnan(hi[2])
    assert mean[3] == curves[0, 3] and np.isnan(lo[3]) and np.isnan(hi[3])
    assert np.all(lo[:2] < mean[:2]) and np.all(mean[:2] < hi[:2])


# ------------------------------------------------------------------------------- difference of means


def _brute_force_p(a: np.ndarray, b: np.ndarray) -> float:
    pooled = np.concatenate([a, b])
    observed = abs(a.mean() - b.mean())
    count = total = 0
    for combo in itertools.combinations(range(pooled.size), a.size):
        mask = np.zeros(pooled.size, dtype=bool)
        mask[list(combo)] = True
        diff = abs(pooled[mask].mean() - pooled[~mask].mean())
        count += diff >= observed - 1e-12
        total += 1
    return count / total


@pytest.mark.parametrize("n_a,n_b", [(3, 4), (5, 5), (2, 6)])
def test_exact_permutation_p_matches_brute_force(n_a, n_b):
    rng = np.random.default_rng(n_a * 10 + n_b)
    a = rng.normal(0.5, 1.0, n_a)
    b = rng.normal(0.0, 1.0, n_b)
    result = difference_of_means(a, b)
    assert result["p"] == pytest.approx(_brute_force_p(a, b), abs=1e-12)
    assert result["mean_diff"] == pytest.approx(a.mean() - b.mean())
    assert (result["n_a"], result["n_b"]) == (n_a, n_b)


def test_exact_p_counts_ties():
    # integer data: many relabellings tie with the observed difference exactly
    a = np.array([0.0, 1.0, 2.0])
    b = np.array([1.0, 2.0, 3.0])
    assert difference_of_means(a, b)["p"] == pytest.approx(_brute_force_p(a, b), abs=1e-12)


def test_monte_carlo_p_close_to_exact():
    rng = np.random.default_rng(6)
    a = rng.normal(0.8, 1.0, 6)
    b = rng.normal(0.0, 1.0, 6)  # C(12, 6) = 924 splits
    exact = difference_of_means(a, b, n_perm=1000)["p"]
    mc = difference_of_means(a, b, n_perm=900, seed=1)["p"]  # 900 < 924 -> Monte Carlo
    assert exact == pytest.approx(_brute_force_p(a, b), abs=1e-12)
    assert mc == pytest.approx(exact, abs=4 * np.sqrt(exact * (1 - exact) / 900) + 2e-3)


def test_p_uniform_under_null():
    rng = np.random.default_rng(7)
    ps = np.array(
        [
            difference_of_means(
                rng.standard_normal(8), rng.standard_normal(10), n_perm=500, n_boot=10, seed=i
            )["p"]
            for i in range(200)
        ]
    )
    assert 0.01 <= np.mean(ps < 0.05) <= 0.10
    assert 0.35 <= np.mean(ps < 0.5) <= 0.65


def test_p_small_and_ci_excludes_zero_for_large_shift():
    rng = np.random.default_rng(8)
    a = rng.normal(3.0, 1.0, 10)
    b = rng.normal(0.0, 1.0, 10)
    result = difference_of_means(a, b, n_perm=2000)  # C(20, 10) > 2000 splits -> Monte Carlo
    assert result["p"] < 0.01
    assert result["p"] >= 1 / 2001  # a Monte Carlo permutation p-value counts the observed labelling
    lo, hi = result["ci"]
    assert 0 < lo < result["mean_diff"] < hi


def test_difference_ci_coverage():
    rng = np.random.default_rng(9)
    covered = 0
    for i in range(150):
        a = rng.normal(1.0, 1.0, 25)
        b = rng.normal(0.0, 2.0, 30)
        lo, hi = difference_of_means(a, b, n_perm=10, n_boot=1000, seed=i)["ci"]
        covered += lo <= 1.0 <= hi
    assert 0.86 <= covered / 150 <= 0.99


def test_difference_of_means_drops_nans_and_small_groups():
    result = difference_of_means(np.array([1.0, np.nan, 2.0, 4.0]), np.array([0.0, 1.0, np.nan]))
    assert (result["n_a"], result["n_b"]) == (3, 2)
    assert result["mean_diff"] == pytest.approx(7 / 3 - 0.5)
    single = difference_of_means(np.array([1.0]), np.array([0.0, 1.0, 2.0]))
    assert all(math.isnan(v) for v in single["ci"])
    assert single["p"] == pytest.approx(_brute_force_p(np.array([1.0]), np.array([0.0, 1.0, 2.0])))


def test_mean_difference_ci_is_welch_and_flags_small_groups():
    from scipy import stats as sps

    from biocredit.stats import mean_difference_ci

    rng = np.random.default_rng(3)
    a, b = rng.normal(1.0, 1.0, 7), rng.normal(0.0, 3.0, 5)
    d = mean_difference_ci(a, np.append(b, np.nan), level=0.9)
    ref = sps.ttest_ind(a, b, equal_var=False).confidence_interval(0.9)
    assert d["diff"] == pytest.approx(a.mean() - b.mean())
    assert d["ci"] == pytest.approx((ref.low, ref.high))
    assert d["enough"] and (d["n_a"], d["n_b"]) == (7, 5)
    assert not mean_difference_ci(a, b[:2])["enough"]


def test_mean_difference_ci_covers_at_its_level():
    from biocredit.stats import mean_difference_ci

    rng = np.random.default_rng(0)
    hits = sum(lo <= 0.5 <= hi for lo, hi in (mean_difference_ci(rng.normal(0.5, 1, 5), rng.normal(0, 2, 5))["ci"]
                                             for _ in range(2000)))
    assert 0.93 <= hits / 2000 <= 0.97


def test_correlation_ci_fisher_z():
    import math

    from scipy import stats as sps

    from biocredit.stats import correlation_ci

    rng = np.random.default_rng(1)
    x = rng.normal(size=30)
    y = x + rng.normal(size=30)
    c = correlation_ci(x, y, kind="pearson")
    r = sps.pearsonr(x, y).statistic
    h = 1.959963984540054 / math.sqrt(27)
    assert c["r"] == pytest.approx(r)
    assert c["ci"] == pytest.approx((math.tanh(math.atanh(r) - h), math.tanh(math.atanh(r) + h)))
    s = correlation_ci(x, y)
    rho = sps.spearmanr(x, y).statistic
    h = 1.959963984540054 * math.sqrt((1 + rho**2 / 2) / 27)
    assert s["ci"] == pytest.approx((math.tanh(math.atanh(rho) - h), math.tanh(math.atanh(rho) + h)))
    assert math.isnan(correlation_ci([1, 2, 3], [3, 2, 1])["r"])  # fewer than 4 pairs


def test_sd_ratio_ci_f_interval_covers():
    from biocredit.stats import sd_ratio_ci

    rng = np.random.default_rng(2)
    hits = 0
    for _ in range(2000):
        d = sd_ratio_ci([rng.normal(0, 2, 5), rng.normal(5, 2, 5)], [rng.normal(0, 1, 5)])
        hits += d["ci"][0] <= 2.0 <= d["ci"][1]
    assert 0.93 <= hits / 2000 <= 0.97


def test_permutation_p_with_a_statistic_of_rows_matches_brute_force_and_the_mean_path():
    from biocredit.stats import permutation_p

    rng = np.random.default_rng(11)
    a = rng.normal(0.3, 1.0, (4, 3))  # 4 runs' curves over 3 levels
    b = rng.normal(0.0, 1.0, (3, 3))
    b[0, 2] = np.nan  # a level one run never reached

    def stat(x, y):
        return float(np.mean(np.nanmean(x, axis=0) - np.nanmean(y, axis=0)))

    pooled = np.concatenate([a, b])
    observed = abs(stat(a, b))
    count = total = 0
    for combo in itertools.combinations(range(len(pooled)), len(a)):
        mask = np.zeros(len(pooled), dtype=bool)
        mask[list(combo)] = True
        count += abs(stat(pooled[mask], pooled[~mask])) >= observed - 1e-12
        total += 1
    assert permutation_p(a, b, statistic=stat) == pytest.approx(count / total, abs=1e-12)
    # the default statistic (vectorised difference of means) equals the same test given that statistic explicitly
    x, y = rng.normal(0, 1, 5), rng.normal(0.5, 1, 6)
    for alternative in ("two-sided", "greater", "less"):
        for n_perm in (10**6, 300):  # exact, then Monte Carlo from the same seed
            fast = permutation_p(x, y, alternative, n_perm, np.random.default_rng(2))
            slow = permutation_p(x, y, alternative, n_perm, np.random.default_rng(2),
                                 statistic=lambda u, v: u.mean() - v.mean())
            assert fast == pytest.approx(slow, abs=1e-12)
    with pytest.raises(ValueError, match="bigger"):
        permutation_p(x, y, "bigger")
