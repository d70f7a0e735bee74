"""Statistics for comparing learning rules (both studies): matched-accuracy interpolation, bootstrap CIs, one
permutation test, the Brown–Forsythe spread test, correlations.

Matched accuracy
----------------
Networks trained with different rules reach a given task accuracy after different amounts of training, so
brain-likeness (e.g. the Procrustes shape distance of Williams et al. 2021, "Generalized shape metrics on
neural representations") is compared at *matched accuracy*: for each accuracy level ``a`` on a common grid,
the value a run had at the moment it **first** reached ``a`` (:func:`first_passage_interpolate`). Accuracy
is not monotone during training, so "the checkpoint whose accuracy is closest to ``a``" or interpolating
value against accuracy as if it were a function would be ill-defined; the first-passage definition is not.

Comparing rules
---------------
Runs of different rules are independent (no pairing by seed). Means: :func:`permutation_test` (one- or two-sided,
exact over all relabellings when feasible, else Monte Carlo), the same test :func:`difference_of_means` reports beside
its bootstrap CI; a relabelling within ``1e-10 · max|x|`` of the observed statistic counts as a tie. Spread:
:func:`spread_test`, the Brown–Forsythe test on absolute deviations from each rule's own median (so that pooling rules
with different means does not count as spread). Association: :func:`correlation`, Pearson's r and Spearman's ρ.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import numpy as np
from scipy import stats as sps

__all__ = [
    "first_passage_interpolate",
    "common_accuracy_grid",
    "bootstrap_ci",
    "mean_ci_over_runs",
    "difference_of_means",
    "permutation_test",
    "spread_test",
    "pooled_within_sd",
    "sd_ratio_ci",
    "mean_difference_ci",
    "correlation_ci",
    "correlation",
    "mean_sem",
    "INTERVAL_METHODS",
    "adjusted_level",
    "mean_ci",
    "pairwise_excess_ci",
]

# Upper bound on elements of a temporary resampling array (keeps memory near 32 MiB of float64).
_CHUNK_ELEMENTS = 1 << 22


def first_passage_interpolate(accuracy: np.ndarray, value: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Value of a training run at the moment it first reaches each accuracy in ``grid`` ("matched accuracy").

    ``accuracy`` and ``value`` are 1-D arrays over the run's checkpoints, in training order. Accuracy is in
    general not monotone during training; for a grid accuracy ``a`` let ``k`` be the first checkpoint with
    ``accuracy[k] >= a``. Then the result is

    - ``value[k]`` if ``k`` is the first checkpoint (the run starts at or above ``a``);
    - otherwise the linear interpolation between checkpoint ``k - 1`` (the last one below ``a``; every
      earlier checkpoint is below ``a`` too) and ``k``:
      ``value[k-1] + (a - acc[k-1]) / (acc[k] - acc[k-1]) * (value[k] - value[k-1])``;
    - NaN if the run never reaches ``a`` (or ``a`` is NaN).

    Checkpoints whose accuracy is NaN are dropped before anything else. Returns an array shaped like
    ``grid``.
    """
    accuracy = np.asarray(accuracy, dtype=np.float64)
    value = np.asarray(value, dtype=np.float64)
    grid = np.asarray(grid, dtype=np.float64)
    if accuracy.ndim != 1 or value.shape != accuracy.shape:
        raise ValueError(
            "accuracy and value must be 1-D arrays of equal length; "
            f"got shapes {accuracy.shape}, {value.shape}"
        )
    keep = ~np.isnan(accuracy)
    acc, val = accuracy[keep], value[keep]
    flat_out = np.full(grid.size, np.nan)
    if acc.size == 0:
        return flat_out.reshape(grid.shape)
    # First index with acc >= a is the first index where the running maximum reaches a.
    running_max = np.maximum.accumulate(acc)
    flat_grid = grid.ravel()
    k = np.searchsorted(running_max, flat_grid, side="left")
    reached = (k < acc.size) & ~np.isnan(flat_grid)
    kr, ar = k[reached], flat_grid[reached]
    at_start = kr == 0
    flat_idx = np.flatnonzero(reached)
    flat_out[flat_idx[at_start]] = val[0]
    ki, ai = kr[~at_start], ar[~at_start]
    lo_acc, hi_acc = acc[ki - 1], acc[ki]
    w = (ai - lo_acc) / (hi_acc - lo_acc)  # hi_acc >= a > lo_acc, so the denominator is positive
    flat_out[flat_idx[~at_start]] = val[ki - 1] + w * (val[ki] - val[ki - 1])
    return flat_out.reshape(grid.shape)


def common_accuracy_grid(
    accuracies: Sequence[np.ndarray], n: int = 50, lo: float | None = None
) -> np.ndarray:
    """``n`` evenly spaced accuracies that every run in ``accuracies`` passes through.

    The grid runs from ``lo`` to the smallest, over runs, of the maximum accuracy each run reached. The
    default ``lo`` is the largest, over runs, of each run's first (non-NaN) checkpoint accuracy, so that no
    run starts above the grid. If the range is empty (upper end not above ``lo``) an empty array is
    returned. NaN accuracies are ignored; a run with none at all gives an empty grid.
    """
    if len(accuracies) == 0:
        raise ValueError("accuracies must contain at least one run")
    if n < 1:
        raise ValueError(f"n must be positive; got {n}")
    runs = [np.asarray(a, dtype=np.float64).ravel() for a in accuracies]
    runs = [a[~np.isnan(a)] for a in runs]
    if any(a.size == 0 for a in runs):
        return np.empty(0)
    start = max(float(a[0]) for a in runs) if lo is None else float(lo)
    stop = min(float(a.max()) for a in runs)
    if not stop > start:
        return np.empty(0)
    return np.linspace(start, stop, n)


def _percentile_interval(boot: np.ndarray, level: float) -> tuple[float, float]:
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(boot, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1); got {level}")


def _bootstrap_means(x: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Means of ``n_boot`` resamples (with replacement) of the 1-D array ``x``, in bounded-memory chunks."""
    n = x.size
    chunk = max(1, _CHUNK_ELEMENTS // n)
    out = np.empty(n_boot)
    for start in range(0, n_boot, chunk):
        stop = min(start + chunk, n_boot)
        out[start:stop] = x[rng.integers(0, n, size=(stop - start, n))].mean(axis=1)
    return out


def bootstrap_ci(
    samples: np.ndarray,
    statistic: Callable[..., np.ndarray] = np.mean,
    n_boot: int = 10000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile-bootstrap confidence interval for ``statistic`` of ``samples``.

    Rows (axis 0) of ``samples`` are resampled with replacement ``n_boot`` times; rows containing NaN are
    dropped first. ``statistic`` must accept an ``axis`` keyword (like ``np.mean``/``np.median``) and is
    evaluated on all resamples at once with ``axis=1``, returning one number per resample. The interval is
    the ``(1 - level)/2`` and ``(1 + level)/2`` quantiles of the bootstrap distribution. Fewer than 2
    usable samples give ``(nan, nan)``.
    """
    _check_level(level)
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 0:
        x = x.reshape(1)
    if x.shape[0] < 2:
        return (math.nan, math.nan)
    x = x[~np.isnan(x).any(axis=tuple(range(1, x.ndim)))]
    n = x.shape[0]
    if n < 2:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    chunk = max(1, _CHUNK_ELEMENTS // x[0].size // n)
    boot = np.empty(n_boot)
    for start in range(0, n_boot, chunk):
        stop = min(start + chunk, n_boot)
        resampled = x[rng.integers(0, n, size=(stop - start, n))]
        stat = np.asarray(statistic(resampled, axis=1), dtype=np.float64)
        if stat.shape != (stop - start,):
            raise ValueError(
                f"statistic must reduce each resample to one number; got output of shape {stat.shape}"
            )
        boot[start:stop] = stat
    return _percentile_interval(boot, level)


def mean_ci_over_runs(
    curves: np.ndarray, level: float = 0.95, seed: int = 0, n_boot: int = 10000
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over runs and a bootstrap CI of that mean, at every grid point.

    ``curves`` has shape ``(n_runs, n_grid)`` (e.g. rows from :func:`first_passage_interpolate`). At each
    grid point the runs that are not NaN are averaged and resampled (:func:`bootstrap_ci` of the mean).
    Returns ``(mean, lo, hi)``, each of length ``n_grid``; the mean is NaN where no run has a value and the
    bounds are NaN where fewer than 2 do.
    """
    curves = np.asarray(curves, dtype=np.float64)
    if curves.ndim != 2:
        raise ValueError(f"curves must have shape (n_runs, n_grid); got {curves.shape}")
    n_grid = curves.shape[1]
    mean = np.full(n_grid, np.nan)
    lo = np.full(n_grid, np.nan)
    hi = np.full(n_grid, np.nan)
    for j in range(n_grid):
        col = curves[:, j]
        col = col[~np.isnan(col)]
        if col.size:
            mean[j] = col.mean()
        lo[j], hi[j] = bootstrap_ci(col, n_boot=n_boot, level=level, seed=seed)
    return mean, lo, hi


def _clean(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64).ravel()
    return x[np.isfinite(x)]


def _permutation_p(a: np.ndarray, b: np.ndarray, alternative: str, n_perm: int, rng: np.random.Generator) -> float:
    """Permutation p-value of ``mean(a) - mean(b)`` (``alternative``: ``"greater"``, ``"less"`` or ``"two-sided"``,
    i.e. ``|diff|``) under exchangeability of the pooled values: exact over all ``C(n_a + n_b, n_a)`` relabellings
    (the observed one included) when there are at most ``n_perm``, otherwise Monte Carlo with ``n_perm`` random
    relabellings drawn from ``rng`` and the ``(1 + hits)/(1 + n_perm)`` estimate. A relabelling whose statistic
    lies within ``1e-10 · max|pooled|`` below the observed one counts as a tie (at least as extreme): sums of the
    same values in another order differ in their last bits."""
    pooled = np.concatenate([a, b])
    n_a, n_b = a.size, b.size
    total = pooled.sum()
    observed = a.mean() - b.mean()
    ref = {"greater": observed, "less": -observed, "two-sided": abs(observed)}[alternative]
    tol = 1e-10 * float(np.abs(pooled).max())  # ties in exact arithmetic must count as ties

    def stat(sum_a: np.ndarray) -> np.ndarray:
        d = sum_a / n_a - (total - sum_a) / n_b
        return {"greater": d, "less": -d, "two-sided": np.abs(d)}[alternative]

    n_splits = math.comb(n_a + n_b, n_a)
    if n_splits <= n_perm:
        idx = np.array(list(itertools.combinations(range(n_a + n_b), n_a)), dtype=np.intp)
        return float(np.mean(stat(pooled[idx].sum(axis=1)) >= ref - tol))
    hits = 0
    chunk = max(1, _CHUNK_ELEMENTS // pooled.size)
    for start in range(0, n_perm, chunk):
        m = min(chunk, n_perm - start)
        shuffled = rng.permuted(np.broadcast_to(pooled, (m, pooled.size)), axis=1)
        hits += int(np.sum(stat(shuffled[:, :n_a].sum(axis=1)) >= ref - tol))
    return (1.0 + hits) / (1.0 + n_perm)


def permutation_test(a, b, alternative: str = "two-sided", n_perm: int = 20000, seed: int = 0) -> dict:
    """Permutation test of ``mean(a) − mean(b)`` for two independent groups (non-finite values dropped).

    The statistic is the difference of means; under the null the pooled values are exchangeable. ``alternative``:
    ``"greater"`` (a's mean larger), ``"less"`` or ``"two-sided"`` (``|diff|``). Exact over all relabellings when
    there are at most ``n_perm``, else Monte Carlo seeded by ``seed`` (see :func:`_permutation_p`, which
    :func:`difference_of_means` shares). Returns ``dict(diff, p, n_a, n_b, exact)``; ``p`` is NaN when a group is
    empty.
    """
    if alternative not in ("two-sided", "greater", "less"):
        raise ValueError(f"alternative must be 'two-sided', 'greater' or 'less', got {alternative!r}")
    a, b = _clean(a), _clean(b)
    n_a, n_b = a.size, b.size
    if n_a == 0 or n_b == 0:
        return {"diff": math.nan, "p": math.nan, "n_a": int(n_a), "n_b": int(n_b), "exact": True}
    p = _permutation_p(a, b, alternative, n_perm, np.random.default_rng(seed))
    return {"diff": float(a.mean() - b.mean()), "p": p, "n_a": int(n_a), "n_b": int(n_b),
            "exact": math.comb(n_a + n_b, n_a) <= n_perm}


def difference_of_means(
    a: np.ndarray,
    b: np.ndarray,
    seed: int = 0,
    n_perm: int = 10000,
    n_boot: int = 10000,
    level: float = 0.95,
) -> dict:
    """Compare two independent groups of per-run scalars (e.g. BPTT seeds vs e-prop seeds).

    The groups are not paired (runs of different rules share no seed structure). NaNs are dropped.
    Returns a dict with

    - ``"mean_diff"``: ``mean(a) - mean(b)``;
    - ``"ci"``: percentile-bootstrap CI at ``level`` of the difference of means, each group resampled
      independently (``(nan, nan)`` if a group has fewer than 2 values);
    - ``"p"``: two-sided permutation-test p-value for ``|mean(a) - mean(b)|`` — exact enumeration of all
      relabellings when there are at most ``n_perm`` of them, else Monte Carlo with ``n_perm`` draws;
    - ``"n_a"``, ``"n_b"``: group sizes after dropping NaNs.
    """
    _check_level(level)
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    n_a, n_b = int(a.size), int(b.size)
    if n_a == 0 or n_b == 0:
        return {"mean_diff": math.nan, "ci": (math.nan, math.nan), "p": math.nan, "n_a": n_a, "n_b": n_b}
    rng = np.random.default_rng(seed)
    mean_diff = float(a.mean() - b.mean())
    if n_a >= 2 and n_b >= 2:
        boot = _bootstrap_means(a, n_boot, rng) - _bootstrap_means(b, n_boot, rng)
        ci = _percentile_interval(boot, level)
    else:
        ci = (math.nan, math.nan)
    p = _permutation_p(a, b, "two-sided", n_perm, rng)
    return {"mean_diff": mean_diff, "ci": ci, "p": p, "n_a": n_a, "n_b": n_b}


def _deviations(groups: Sequence) -> np.ndarray:
    """Absolute deviations of each group's values from that group's median, concatenated."""
    out = [np.abs(g - np.median(g)) for g in (_clean(g) for g in groups) if g.size]
    return np.concatenate(out) if out else np.empty(0)


def pooled_within_sd(groups: Sequence) -> float:
    """Pooled within-group standard deviation ``sqrt(Σ_g Σ (x − mean_g)² / Σ_g (n_g − 1))`` (NaN without any
    degree of freedom)."""
    ss, dof = 0.0, 0
    for g in (_clean(g) for g in groups):
        if g.size > 1:
            ss += float(((g - g.mean()) ** 2).sum())
            dof += g.size - 1
    return math.sqrt(ss / dof) if dof else math.nan


def spread_test(groups_a: Sequence, groups_b: Sequence) -> dict:
    """Brown–Forsythe test of equal spread between side A (one or more groups, e.g. one per bio rule) and side B.

    Each value is replaced by its absolute deviation from its own group's median; the two sides' deviations are
    compared by a one-way ANOVA F test (2 groups: F = t², two-sided p). With one group per side this is
    ``scipy.stats.levene(a, b, center="median")``. Returns ``dict(F, p, sd_ratio, sd_a, sd_b, n_a, n_b)`` where
    ``sd_ratio = sd_a / sd_b`` of the pooled within-group SDs (> 1: side A more variable). NaN where undefined.
    """
    dev_a, dev_b = _deviations(groups_a), _deviations(groups_b)
    sd_a, sd_b = pooled_within_sd(groups_a), pooled_within_sd(groups_b)
    ratio = sd_a / sd_b if sd_b and np.isfinite(sd_b) and sd_b > 0 else math.nan
    out = {"F": math.nan, "p": math.nan, "sd_ratio": ratio, "sd_a": sd_a, "sd_b": sd_b,
           "n_a": int(dev_a.size), "n_b": int(dev_b.size)}
    if dev_a.size < 2 or dev_b.size < 2 or (np.ptp(np.concatenate([dev_a, dev_b])) == 0):
        return out
    res = sps.f_oneway(dev_a, dev_b)
    out.update(F=float(res.statistic), p=float(res.pvalue))
    return out


def sd_ratio_ci(groups_a: Sequence, groups_b: Sequence, level: float = 0.95) -> dict:
    """CI of the ratio of pooled within-group SDs, side A over side B (:func:`pooled_within_sd`), from the F
    distribution of the ratio of pooled variances with ``Σ(n_g − 1)`` degrees of freedom on each side (normal
    within-group errors). Returns ``dict(sd_ratio, ci, df_a, df_b)``; NaN where a side has no degree of freedom."""
    _check_level(level)
    df = [sum(max(g.size - 1, 0) for g in (_clean(g) for g in side)) for side in (groups_a, groups_b)]
    sd_a, sd_b = pooled_within_sd(groups_a), pooled_within_sd(groups_b)
    out = {"sd_ratio": math.nan, "ci": (math.nan, math.nan), "df_a": int(df[0]), "df_b": int(df[1])}
    if not (df[0] and df[1] and np.isfinite(sd_a) and np.isfinite(sd_b) and sd_b > 0):
        return out
    ratio = (sd_a / sd_b) ** 2
    tail = (1 - level) / 2
    lo = ratio / sps.f.ppf(1 - tail, df[0], df[1])
    hi = ratio / sps.f.ppf(tail, df[0], df[1])
    out.update(sd_ratio=float(math.sqrt(ratio)), ci=(float(math.sqrt(lo)), float(math.sqrt(hi))))
    return out


def correlation(x, y) -> dict:
    """Pearson's r and Spearman's ρ of paired values (pairs with a non-finite member dropped), with scipy's
    two-sided p-values. NaN with fewer than 3 pairs or a constant variable."""
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    out = {"pearson_r": math.nan, "pearson_p": math.nan, "spearman_r": math.nan, "spearman_p": math.nan,
           "n": int(x.size)}
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return out
    pr = sps.pearsonr(x, y)
    sr = sps.spearmanr(x, y)
    out.update(pearson_r=float(pr.statistic), pearson_p=float(pr.pvalue), spearman_r=float(sr.statistic),
               spearman_p=float(sr.pvalue))
    return out


def mean_sem(values, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard error of the mean (``sd(ddof=1)/√n``) over ``axis``, ignoring non-finite values (mean NaN
    where none is left, SEM NaN where fewer than 2 are)."""
    v = np.moveaxis(np.asarray(values, dtype=np.float64), axis, 0)
    ok = np.isfinite(v)
    n = ok.sum(0)
    mean = np.where(n > 0, np.where(ok, v, 0.0).sum(0) / np.maximum(n, 1), np.nan)
    var = (np.where(ok, v - mean, 0.0) ** 2).sum(0) / np.maximum(n - 1, 1)
    sem = np.where(n > 1, np.sqrt(var / np.maximum(n, 1)), np.nan)
    return mean, sem


# ------------------------------------------------------------------------------------------ intervals for verdicts
#
# The verdicts of biocredit.claims are read off an interval against a threshold stated before any data, so the
# interval must cover at its nominal level with the few runs a preset has (5 seeds per rule). The functions below
# return plain dicts that a claim row can store as they are; each says how many runs it used and whether that is
# enough (``min_n`` per group; below it a verdict is inconclusive whatever the interval says).

#: the interval methods of :func:`mean_difference_ci`
INTERVAL_METHODS = ("welch", "bootstrap-t", "bca", "percentile")


def adjusted_level(level: float, k: int, method: str = "bonferroni") -> float:
    """The confidence level of each of ``k`` intervals such that all ``k`` cover at once with probability at least
    ``level`` (a composite claim's parts: A3's levels, B1's rules). ``"bonferroni"``: ``1 − (1 − level)/k`` (any
    dependence); ``"sidak"``: ``level**(1/k)`` (independent or positively dependent parts). ``k = 1`` returns
    ``level``."""
    _check_level(level)
    if int(k) != k or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if method == "bonferroni":
        return 1.0 - (1.0 - level) / k
    if method == "sidak":
        return level ** (1.0 / k)
    raise ValueError(f"method must be 'bonferroni' or 'sidak', got {method!r}")


def _resample_moments(x: np.ndarray, n_boot: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Means and unbiased variances (ddof 1) of ``n_boot`` resamples with replacement of the 1-D array ``x``."""
    n = x.size
    chunk = max(1, _CHUNK_ELEMENTS // n)
    means, variances = np.empty(n_boot), np.empty(n_boot)
    for start in range(0, n_boot, chunk):
        stop = min(start + chunk, n_boot)
        r = x[rng.integers(0, n, size=(stop - start, n))]
        means[start:stop] = r.mean(axis=1)
        variances[start:stop] = r.var(axis=1, ddof=1)
    return means, variances


def _welch_se_df(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Standard error of ``mean(a) − mean(b)`` without assuming equal variances, and the Welch–Satterthwaite degrees
    of freedom (infinite when both groups are constant)."""
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = math.sqrt(va + vb)
    if se == 0:
        return 0.0, math.inf
    df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    return se, float(df)


def _order_quantiles(values: np.ndarray, probs) -> list[float]:
    """Quantiles by the inverted empirical CDF (no interpolation, so infinite values never give NaN)."""
    return [float(q) for q in np.quantile(values, probs, method="inverted_cdf")]


def _bca_interval(a: np.ndarray, b: np.ndarray, boot: np.ndarray, diff: float, level: float) -> tuple[float, float]:
    """Bias-corrected and accelerated interval (Efron & Tibshirani 1993, ch. 14) of ``mean(a) − mean(b)`` from its
    bootstrap replicates ``boot``. The bias correction is the normal quantile of the share of replicates below the
    estimate (ties count half); the acceleration comes from the jackknife of each group in turn (leave one value
    out of ``a``, then of ``b``), as for a two-sample statistic."""
    if np.ptp(boot) == 0:
        return diff, diff
    share = (np.sum(boot < diff) + 0.5 * np.sum(boot == diff)) / boot.size
    z0 = sps.norm.ppf(np.clip(share, 1.0 / boot.size, 1.0 - 1.0 / boot.size))
    influence = []
    for x, sign in ((a, 1.0), (b, -1.0)):
        loo = (x.sum() - x) / (x.size - 1)  # each leave-one-out mean of this group
        influence.append(sign * (x.size - 1) * (loo.mean() - loo))
    u = np.concatenate(influence)
    denom = 6.0 * float(np.sum(u**2)) ** 1.5
    accel = float(np.sum(u**3)) / denom if denom > 0 else 0.0
    z = sps.norm.ppf([(1.0 - level) / 2.0, (1.0 + level) / 2.0])
    probs = sps.norm.cdf(z0 + (z0 + z) / (1.0 - accel * (z0 + z)))
    lo, hi = _order_quantiles(boot, probs)
    return lo, hi


def mean_difference_ci(a, b, *, level: float = 0.95, min_n: int = 3, method: str = "welch", n_boot: int = 9999,
                       seed: int = 0) -> dict:
    """Confidence interval of ``mean(a) − mean(b)`` for two independent groups of per-run values (runs of two rules
    share no seed structure; non-finite values are dropped).

    ``method``:

    - ``"welch"`` (default): Welch's t interval, ``diff ± t_{df}·se`` with ``se² = s_a²/n_a + s_b²/n_b`` and the
      Welch–Satterthwaite ``df``. Exact coverage for normal runs with any variances; the method of the verdicts
      (its coverage at 5 runs per rule is in ``docs/verdicts.md``).
    - ``"bootstrap-t"``: the studentized bootstrap, each group resampled on its own ``n_boot`` times; the interval
      is ``diff − q_{1−α/2}·se, diff − q_{α/2}·se`` with ``q`` the quantiles of ``(diff* − diff)/se*``.
    - ``"bca"``: the bias-corrected and accelerated percentile bootstrap (acceleration from the jackknife).
    - ``"percentile"``: the plain percentile bootstrap (kept for comparison: it is too narrow with few runs).

    ``min_n``: the smallest number of runs per group for a verdict. Returns ``dict(diff, ci, n_a, n_b, method,
    level, enough)``; ``enough`` is False when a group has fewer than ``min_n`` runs, and then a verdict read off the
    interval must be ``inconclusive`` (the interval is still given, for display, when each group has 2 runs).
    ``ci`` is ``(nan, nan)`` with fewer than 2 runs in a group. The bootstrap methods are seeded by ``seed``."""
    _check_level(level)
    if method not in INTERVAL_METHODS:
        raise ValueError(f"method must be one of {INTERVAL_METHODS}, got {method!r}")
    if int(min_n) < 2:
        raise ValueError(f"min_n must be at least 2 (a variance needs two runs), got {min_n!r}")
    a, b = _clean(a), _clean(b)
    n_a, n_b = int(a.size), int(b.size)
    out = {"diff": math.nan, "ci": (math.nan, math.nan), "n_a": n_a, "n_b": n_b, "method": method,
           "level": float(level), "enough": bool(n_a >= min_n and n_b >= min_n)}
    if n_a and n_b:
        out["diff"] = float(a.mean() - b.mean())
    if n_a < 2 or n_b < 2:
        return out
    diff = out["diff"]
    se, df = _welch_se_df(a, b)
    alpha = 1.0 - level
    if method == "welch":
        half = float(sps.t.ppf(1.0 - alpha / 2.0, df)) * se if se > 0 else 0.0
        out["ci"] = (diff - half, diff + half)
        return out
    rng = np.random.default_rng(seed)
    mean_a, var_a = _resample_moments(a, n_boot, rng)
    mean_b, var_b = _resample_moments(b, n_boot, rng)
    boot = mean_a - mean_b
    if method == "percentile":
        out["ci"] = _percentile_interval(boot, level)
    elif method == "bca":
        out["ci"] = _bca_interval(a, b, boot, diff, level)
    else:  # bootstrap-t
        if se == 0:
            out["ci"] = (diff, diff)
            return out
        se_boot = np.sqrt(var_a / n_a + var_b / n_b)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (boot - diff) / se_boot
        t[np.isnan(t)] = 0.0  # a resample equal to the estimate with no spread: no deviation
        q_lo, q_hi = _order_quantiles(t, [alpha / 2.0, 1.0 - alpha / 2.0])
        out["ci"] = (diff - q_hi * se, diff - q_lo * se)
    return out


def mean_ci(x, *, level: float = 0.95, min_n: int = 3) -> dict:
    """Student's t interval of the mean of one group of per-run values (non-finite values dropped):
    ``mean ± t_{n−1}·s/√n``. Returns ``dict(mean, ci, n, method, level, enough)``; ``enough`` as in
    :func:`mean_difference_ci`; ``ci`` is ``(nan, nan)`` with fewer than 2 values."""
    _check_level(level)
    x = _clean(x)
    n = int(x.size)
    out = {"mean": float(x.mean()) if n else math.nan, "ci": (math.nan, math.nan), "n": n, "method": "t",
           "level": float(level), "enough": bool(n >= min_n)}
    if n >= 2:
        half = float(sps.t.ppf((1.0 + level) / 2.0, n - 1)) * float(x.std(ddof=1)) / math.sqrt(n)
        out["ci"] = (out["mean"] - half, out["mean"] + half)
    return out


def correlation_ci(x, y, *, kind: str = "spearman", level: float = 0.95) -> dict:
    """A correlation of paired values with a confidence interval from Fisher's z (pairs with a non-finite member
    dropped).

    ``kind="pearson"``: ``tanh(atanh r ± z_{1−α/2}/√(n − 3))``. ``kind="spearman"``: the same transform with the
    standard error of Bonett & Wright (2000, Psychometrika 65:23), ``√((1 + ρ²/2)/(n − 3))``, which keeps the
    interval's coverage near nominal for ρ (Fisher's ``1/√(n − 3)`` is too narrow for a rank correlation). ``p``
    is scipy's two-sided p-value of the same coefficient. Returns ``dict(r, ci, p, n, method, level)``, all NaN but
    ``n`` with fewer than 4 pairs (no interval) or a constant variable."""
    _check_level(level)
    if kind not in ("pearson", "spearman"):
        raise ValueError(f"kind must be 'pearson' or 'spearman', got {kind!r}")
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same length, got {x.size} and {y.size}")
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    n = int(x.size)
    method = "Fisher z" if kind == "pearson" else "Fisher z, Bonett-Wright SE"
    out = {"r": math.nan, "ci": (math.nan, math.nan), "p": math.nan, "n": n, "method": method, "level": float(level)}
    if n < 4 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return out
    res = sps.pearsonr(x, y) if kind == "pearson" else sps.spearmanr(x, y)
    r = float(np.clip(res.statistic, -1.0, 1.0))
    out.update(r=r, p=float(res.pvalue))
    se = 1.0 / math.sqrt(n - 3) if kind == "pearson" else math.sqrt((1.0 + r * r / 2.0) / (n - 3))
    z = float(sps.norm.ppf((1.0 + level) / 2.0))
    with np.errstate(divide="ignore"):
        centre = float(np.arctanh(r))
    out["ci"] = (float(np.tanh(centre - z * se)), float(np.tanh(centre + z * se)))
    return out


def _pairwise_excess(d: np.ndarray, groups: np.ndarray) -> float:
    """Mean distance over pairs of runs of different groups minus the mean over pairs of the same group (pairs of
    distinct runs; NaN where either kind has no pair)."""
    iu = np.triu_indices(d.shape[0], k=1)
    same = groups[iu[0]] == groups[iu[1]]
    vals = d[iu]
    if same.all() or not same.any():
        return math.nan
    return float(vals[~same].mean() - vals[same].mean())


def pairwise_excess_ci(distances, groups, *, level: float = 0.95, min_n: int = 3) -> dict:
    """Interval of the excess of the between-group over the within-group distance, when each value is a distance
    between two runs (A5: the DSA distance between networks of two rules).

    The statistic is the mean distance over pairs of runs of different groups minus the mean over pairs of runs of
    the same group. Pairs are not independent (each run is in many), so the interval resamples **runs**: the
    leave-one-run-out jackknife gives the standard error, ``se² = (n − 1)/n · Σ (θ₋ᵢ − θ̄₋)²`` over the ``n``
    runs, and the interval is ``θ ± t_{n−2}·se`` (a U-statistic of degree 2, whose jackknife variance is
    consistent). ``distances``: a symmetric ``(n, n)`` array; ``groups``: each run's group (e.g. its rule).
    Returns ``dict(diff, ci, n, n_groups, n_pairs, method, level, enough)``; ``enough`` is False when a group has
    fewer than ``min_n`` runs (then the verdict is inconclusive)."""
    _check_level(level)
    d = np.asarray(distances, dtype=np.float64)
    g = np.asarray(groups)
    if d.ndim != 2 or d.shape[0] != d.shape[1] or g.shape != (d.shape[0],):
        raise ValueError(f"distances must be (n, n) and groups (n,), got {d.shape} and {g.shape}")
    if not np.allclose(d, d.T, equal_nan=True):
        raise ValueError("distances must be symmetric")
    keep = np.array([np.isfinite(np.delete(d[i], i)).all() for i in range(d.shape[0])])
    d, g = d[np.ix_(keep, keep)], g[keep]
    n = int(g.size)
    labels, counts = np.unique(g, return_counts=True)
    iu = np.triu_indices(n, k=1)
    same = g[iu[0]] == g[iu[1]]
    out = {"diff": _pairwise_excess(d, g), "ci": (math.nan, math.nan), "n": n, "n_groups": int(labels.size),
           "n_pairs": {"within": int(same.sum()), "between": int((~same).sum())}, "method": "jackknife over runs, t",
           "level": float(level), "enough": bool(labels.size >= 2 and counts.min() >= min_n)}
    if labels.size < 2 or counts.min() < 2 or n < 4:
        return out
    loo = np.array([_pairwise_excess(np.delete(np.delete(d, i, 0), i, 1), np.delete(g, i)) for i in range(n)])
    if not np.isfinite(loo).all():
        return out
    se = math.sqrt((n - 1) / n * float(np.sum((loo - loo.mean()) ** 2)))
    half = float(sps.t.ppf((1.0 + level) / 2.0, n - 2)) * se
    out["ci"] = (out["diff"] - half, out["diff"] + half)
    return out
