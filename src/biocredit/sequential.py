"""Group-sequential looks: how much of the error rate α each look at a growing set of seeds may spend, and the
confidence level of the interval to read at each look (the ``settle`` target of the workflow).

A claim that stays inconclusive at the preset's seeds gets more seeds in batches, and its interval is looked at
again. Reading a plain 95% interval at every look would let chance decide: the probability that some look's
interval misses the true effect grows with the number of looks. Repeated confidence intervals (Jennison & Turnbull
1989, JRSS B 51:305) fix it: at look ``k`` the interval is ``estimate ± c_k · se``, with critical values ``c_k``
chosen so that all looks' intervals cover the true effect at once with probability ``1 − α``, whatever rule decides
when to stop. The ``c_k`` follow a spending function ``α(t)`` of the information fraction ``t = n_k / n_max``
(Lan & DeMets 1983, Biometrika 70:659): the probability that look ``k`` is the first whose interval misses is
``α(t_k) − α(t_{k−1})``.

- ``"obrien-fleming"``: each side of the interval spends ``α/2`` by Lan & DeMets' O'Brien–Fleming-type function
  ``α_s(t) = 2 − 2Φ(z_{1−α_s/2}/√t)`` with ``α_s = α/2``, so two-sided ``α(t) = 4 − 4Φ(z_{1−α/4}/√t)`` (the
  convention of the published tables and of gsDesign/ldbounds); it spends almost nothing early and keeps the last
  look's level near ``1 − α``;
- ``"pocock"``: ``α(t) = α·ln(1 + (e − 1)t)``, nearly the same level at every look.

The look statistics of a mean over a growing sample are jointly normal with ``corr(Z_i, Z_j) = √(t_i/t_j)``
(``i < j``); the critical values solve the spending equations on that joint distribution (scipy's multivariate
normal CDF). With the few runs of a look the intervals use Student's t at the nominal level ``1 − 2(1 − Φ(c_k))``,
the usual approximation.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np
from scipy import optimize
from scipy import stats as sps

__all__ = ["SPENDING", "spent", "critical_values", "look_levels", "look_sizes"]

#: the spending functions of :func:`spent`
SPENDING = ("obrien-fleming", "pocock")


def spent(t, alpha: float = 0.05, kind: str = "obrien-fleming"):
    """The two-sided error rate spent by information fraction ``t`` (0 at t = 0, ``alpha`` at t = 1; the module
    docstring gives the functions)."""
    if kind not in SPENDING:
        raise ValueError(f"kind must be one of {SPENDING}, got {kind!r}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    t = np.clip(np.asarray(t, dtype=np.float64), 0.0, 1.0)
    if kind == "pocock":
        out = alpha * np.log1p((math.e - 1.0) * t)
    else:
        with np.errstate(divide="ignore"):
            out = np.where(t > 0, 4.0 * sps.norm.sf(sps.norm.ppf(1.0 - alpha / 4.0) / np.sqrt(t)), 0.0)
    return float(out) if out.ndim == 0 else out


def _check_fractions(fractions: Sequence[float]) -> np.ndarray:
    t = np.asarray(fractions, dtype=np.float64)
    if t.ndim != 1 or t.size == 0 or np.any(t <= 0) or np.any(t > 1) or np.any(np.diff(t) <= 0):
        raise ValueError(f"information fractions must increase strictly within (0, 1], got {list(fractions)}")
    return t


@functools.lru_cache(maxsize=64)
def _critical_values(fractions: tuple[float, ...], alpha: float, kind: str) -> tuple[float, ...]:
    t = _check_fractions(fractions)
    cum = spent(t, alpha, kind)
    cov = np.sqrt(np.minimum.outer(t, t) / np.maximum.outer(t, t))
    c = np.empty(t.size)
    c[0] = sps.norm.isf(cum[0] / 2.0)
    for k in range(1, t.size):
        sub = cov[: k + 1, : k + 1]

        def inside(ck, k=k, sub=sub):
            upper = np.append(c[:k], ck)
            return sps.multivariate_normal.cdf(upper, cov=sub, lower_limit=-upper, abseps=1e-7, releps=1e-7,
                                               maxpts=20000 * (k + 1), rng=np.random.default_rng(20261202))

        target = 1.0 - cum[k]
        c[k] = optimize.brentq(lambda ck, target=target, inside=inside: inside(ck) - target, 0.5, 12.0, xtol=1e-6)
    return tuple(float(x) for x in c)


def critical_values(fractions: Sequence[float], alpha: float = 0.05, kind: str = "obrien-fleming") -> np.ndarray:
    """Two-sided critical values ``c_k`` of looks at information fractions ``fractions`` (increasing, the last
    normally 1) such that ``P(|Z_j| < c_j for j < k, |Z_k| ≥ c_k) = α(t_k) − α(t_{k−1})`` under
    ``corr(Z_i, Z_j) = √(t_i/t_j)``."""
    if kind not in SPENDING:
        raise ValueError(f"kind must be one of {SPENDING}, got {kind!r}")
    return np.array(_critical_values(tuple(float(x) for x in fractions), float(alpha), kind))


def look_levels(fractions: Sequence[float], alpha: float = 0.05, kind: str = "obrien-fleming") -> np.ndarray:
    """The two-sided confidence level of the interval to read at each look: ``1 − 2(1 − Φ(c_k))``."""
    return 1.0 - 2.0 * sps.norm.sf(critical_values(fractions, alpha, kind))


def look_sizes(n_first: int, batch: int, cap: int) -> list[int]:
    """Seeds per rule at each look: ``n_first``, then ``batch`` more at a time, up to ``cap`` (the last look is the
    cap, even if the last batch is smaller)."""
    if n_first < 1 or batch < 1 or cap < n_first:
        raise ValueError(f"need n_first >= 1, batch >= 1 and cap >= n_first; got {n_first}, {batch}, {cap}")
    sizes = list(range(n_first, cap + 1, batch))
    if sizes[-1] != cap:
        sizes.append(cap)
    return sizes
