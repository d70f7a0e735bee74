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

Intervals for verdicts (:func:`mean_difference_ci`, :func:`correlation_ci`, :func:`mean_ci`,
:func:`pairwise_excess_ci`, :func:`adjusted_level`) live in :mod:`biocredit.intervals` and are re-exported here.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import numpy as np
from scipy import stats as sps

from biocredit.intervals import (  # noqa: F401 - re-exported: the intervals verdicts read
    INTERVAL_METHODS,
    adjusted_level,
    correlation_ci,
    mean_ci,
    mean_difference_ci,
    pairwise_excess_ci,
)

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


def _relabellings(n: int, n_a: int, n_perm: int, rng: np.random.Generator, width: int = 1):
    """Chunks of relabellings of ``n`` pooled units, each row the indices of the units labelled "a" (``n_a`` of
    them, followed by the rest): all ``C(n, n_a)`` when there are at most ``n_perm`` (the observed one among them),
    else ``n_perm`` random permutations from ``rng``. ``width``: elements per unit, to size the chunks."""
    if math.comb(n, n_a) <= n_perm:
        idx = np.array(list(itertools.combinations(range(n), n_a)), dtype=np.intp).reshape(-1, n_a)
        yield idx
        return
    chunk = max(1, _CHUNK_ELEMENTS // (n * width))
    for start in range(0, n_perm, chunk):
        m = min(chunk, n_perm - start)
        yield rng.permuted(np.broadcast_to(np.arange(n), (m, n)), axis=1)[:, :n_a]


def permutation_p(
    a: np.ndarray,
    b: np.ndarray,
    alternative: str = "two-sided",
    n_perm: int = 20000,
    rng: np.random.Generator | None = None,
    statistic: Callable[[np.ndarray, np.ndarray], float] | None = None,
) -> float:
    """The project's one permutation test: p-value of a two-group statistic under exchangeability of whole units.

    ``a`` and ``b`` hold one unit per row (a run's scalar, or a run's curve as a row). ``statistic(a, b)`` (default:
    ``mean(a) − mean(b)``, computed vectorised) is compared one-sided (``"greater"``, ``"less"``) or by its
    absolute value (``"two-sided"``). Exact over all ``C(n_a + n_b, n_a)`` relabellings (the observed one included)
    when there are at most ``n_perm``, otherwise Monte Carlo with ``n_perm`` random relabellings from ``rng`` and
    the ``(1 + hits)/(1 + n_perm)`` estimate. A relabelling whose statistic lies within ``1e-10 · max|pooled|`` below
    the observed one counts as a tie (at least as extreme): sums of the same values in another order differ in their
    last bits. A relabelling whose statistic is not finite counts as less extreme.
    """
    if alternative not in ("two-sided", "greater", "less"):
        raise ValueError(f"alternative must be 'two-sided', 'greater' or 'less', got {alternative!r}")
    rng = np.random.default_rng(0) if rng is None else rng
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    pooled = np.concatenate([a, b])
    n_a, n = len(a), len(pooled)
    finite = pooled[np.isfinite(pooled)]
    tol = 1e-10 * float(np.abs(finite).max()) if finite.size else 0.0  # ties in exact arithmetic count as ties

    def oriented(d):
        return {"greater": d, "less": -d, "two-sided": np.abs(d)}[alternative]

    if statistic is None:
        total = pooled.sum()

        def stats_of(idx):
            sum_a = pooled[idx].sum(axis=1)
            return sum_a / n_a - (total - sum_a) / (n - n_a)

        observed = a.mean() - b.mean()
    else:
        def stats_of(idx):
            mask = np.zeros((len(idx), n), dtype=bool)
            np.put_along_axis(mask, idx, True, axis=1)
            return np.array([statistic(pooled[m], pooled[~m]) for m in mask])

        observed = statistic(a, b)
    ref = oriented(observed)
    width = max(1, pooled[0].size) if n else 1
    hits = total_draws = 0
    exact = math.comb(n, n_a) <= n_perm
    for idx in _relabellings(n, n_a, n_perm, rng, width):
        with np.errstate(invalid="ignore"):
            hits += int(np.sum(oriented(stats_of(idx)) >= ref - tol))
        total_draws += len(idx)
    return hits / total_draws if exact else (1.0 + hits) / (1.0 + n_perm)


def permutation_test(a, b, alternative: str = "two-sided", n_perm: int = 20000, seed: int = 0) -> dict:
    """Permutation test of ``mean(a) − mean(b)`` for two independent groups (non-finite values dropped).

    The statistic is the difference of means; under the null the pooled values are exchangeable. ``alternative``:
    ``"greater"`` (a's mean larger), ``"less"`` or ``"two-sided"`` (``|diff|``). Exact over all relabellings when
    there are at most ``n_perm``, else Monte Carlo seeded by ``seed`` (:func:`permutation_p`, which
    :func:`difference_of_means` shares). Returns ``dict(diff, p, n_a, n_b, exact)``; ``p`` is NaN when a group is
    empty.
    """
    if alternative not in ("two-sided", "greater", "less"):
        raise ValueError(f"alternative must be 'two-sided', 'greater' or 'less', got {alternative!r}")
    a, b = _clean(a), _clean(b)
    n_a, n_b = a.size, b.size
    if n_a == 0 or n_b == 0:
        return {"diff": math.nan, "p": math.nan, "n_a": int(n_a), "n_b": int(n_b), "exact": True}
    p = permutation_p(a, b, alternative, n_perm, np.random.default_rng(seed))
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
    p = permutation_p(a, b, "two-sided", n_perm, rng)
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
