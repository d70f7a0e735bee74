"""Intervals that verdicts are read off (:mod:`biocredit.claims`), with the few runs a preset has (5 seeds per rule):
Welch's t for a difference of means (and, to compare, the studentized, BCa and percentile bootstraps), a t interval
of one mean, Fisher-z intervals of correlations, an interval of the excess of between- over within-group pairwise
distances that resamples runs rather than pairs, and multiplicity-adjusted levels for composite claims.
:mod:`biocredit.stats` re-exports them. Each returns a plain dict a claim row can store, with the number of runs
and whether it reaches ``min_n`` per group (below it a verdict is inconclusive whatever the interval says).
Their coverage on simulated runs is measured in ``docs/verdicts.md``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as sps

__all__ = [
    "INTERVAL_METHODS",
    "adjusted_level",
    "mean_difference_ci",
    "mean_ci",
    "correlation_ci",
    "pairwise_excess_ci",
]

# Upper bound on elements of a temporary resampling array (keeps memory near 32 MiB of float64).
_CHUNK_ELEMENTS = 1 << 22


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1); got {level}")


def _clean(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64).ravel()
    return x[np.isfinite(x)]


def _percentile_interval(boot: np.ndarray, level: float) -> tuple[float, float]:
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(boot, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


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
