"""How much of the variation of a measure is due to each experimental factor (rule, initialisation, architecture).

A main-effects (additive, no interactions) ANOVA decomposition of the total sum of squares of ``value``:
the factors are categorical columns of a pandas DataFrame, the model is ``value ~ f1 + f2 + ...`` fitted by
ordinary least squares with one-hot (treatment) coding, and a factor's share is the part of the total sum of
squares it explains. The remainder, interactions plus noise, is reported as ``"residual"``.

For a balanced design (every combination of factor levels equally often) the factors' one-hot designs are
orthogonal after centring, so each factor's sum of squares is simply ``sum_g n_g (mean_g - grand_mean)^2`` over
its levels ``g``, independent of the order or of which other factors are in the model. For unbalanced designs
the factors' explained sums of squares overlap and an attribution rule is needed:

- ``method="shapley"`` (default): each factor receives its Shapley value, the increase in explained sum of
  squares when it is added to the model, averaged over all orderings of the factors (Lipovetsky & Conklin
  2001, "Analysis of regression in game theory approach", Appl. Stoch. Models Bus. Ind. 17:319-330; the
  "LMG" measure of Lindeman, Merenda & Gold 1980; Grömping 2007, "Estimators of relative importance in linear
  regression based on variance decomposition", Am. Stat. 61:139-147). It does not depend on the order in
  which the factors are listed.
- ``method="sequential"``: type I (sequential) sums of squares in the listed order: the first factor gets its
  marginal sum of squares, each later one what it adds to those before it.

Either way the factor shares plus the residual share sum to 1, and both agree for balanced designs.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

__all__ = ["variance_shares"]


def _explained_ss(y: np.ndarray, dummies: dict[str, np.ndarray], subset: tuple[str, ...]) -> float:
    """Sum of squares explained by the main-effects OLS model on ``subset`` (intercept always included)."""
    if not subset:
        return 0.0
    X = np.hstack([np.ones((y.size, 1))] + [dummies[f] for f in subset])
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    yc = y - y.mean()
    return float(np.sum(yc**2) - np.sum(resid**2))


def variance_shares(
    df: pd.DataFrame,
    factors: Sequence[str] = ("rule", "init", "arch"),
    value: str = "distance",
    method: Literal["shapley", "sequential"] = "shapley",
) -> dict[str, float]:
    """Share of the total variance of ``df[value]`` attributed to each factor by a main-effects ANOVA.

    Args:
        df: one row per observation (e.g. per trained network); factor columns are treated as categorical.
        factors: names of the factor columns.
        value: name of the numeric response column. Rows where it or a factor is missing are dropped.
        method: ``"shapley"`` (average over factor orderings, order-free) or ``"sequential"`` (type I sums of
            squares in the order of ``factors``); identical for balanced designs. See the module docstring.

    Returns:
        ``{factor: share, ..., "residual": share}``, each share the corresponding sum of squares divided by the
        total sum of squares around the grand mean; the shares sum to 1. Factor shares are non-negative.

    Raises:
        ValueError: for unknown columns or method, duplicate factors, fewer than 2 rows, or a constant
            response (the shares are then undefined).
    """
    factors = tuple(factors)
    if method not in ("shapley", "sequential"):
        raise ValueError(f"method must be 'shapley' or 'sequential'; got {method!r}")
    if len(set(factors)) != len(factors):
        raise ValueError(f"factors must be distinct; got {factors}")
    if "residual" in factors:
        raise ValueError("'residual' is reserved for the residual share and cannot be a factor name")
    missing = [c for c in (*factors, value) if c not in df.columns]
    if missing:
        raise ValueError(f"columns not in the DataFrame: {missing}")
    data = df[[*factors, value]].dropna()
    if len(data) < 2:
        raise ValueError(f"need at least 2 complete rows; got {len(data)}")
    y = data[value].to_numpy(dtype=np.float64)
    total = float(np.sum((y - y.mean()) ** 2))
    if not total > 1e-24 * max(float(np.sum(y**2)), 1e-300):
        raise ValueError(f"{value!r} is constant; variance shares are undefined")
    dummies = {
        f: pd.get_dummies(data[f].astype(str), drop_first=True).to_numpy(dtype=np.float64) for f in factors
    }

    cache: dict[frozenset[str], float] = {}

    def ss(subset: tuple[str, ...]) -> float:
        key = frozenset(subset)
        if key not in cache:
            cache[key] = _explained_ss(y, dummies, tuple(f for f in factors if f in key))
        return cache[key]

    m = len(factors)
    shares: dict[str, float] = {}
    if method == "sequential":
        for i, f in enumerate(factors):
            shares[f] = (ss(factors[: i + 1]) - ss(factors[:i])) / total
    else:
        for f in factors:
            others = [g for g in factors if g != f]
            acc = 0.0
            for size in range(m):
                weight = math.factorial(size) * math.factorial(m - size - 1) / math.factorial(m)
                for subset in itertools.combinations(others, size):
                    acc += weight * (ss((*subset, f)) - ss(subset))
            shares[f] = acc / total
    # Round-off can make an irrelevant factor's share -1e-17; explained SS is never negative in exact arithmetic.
    shares = {f: max(s, 0.0) for f, s in shares.items()}
    shares["residual"] = 1.0 - sum(shares.values())
    return shares
