"""The verdict rules on simulated runs with a known truth: how often an equivalence claim is said to hold when the
true difference sits exactly on its margin (false holds), how often the interval covers the truth, and how often
two independent seed sets contradict each other (one holds, the other fails). ``benchmarks/bench_verdicts.py``
prints the tables of ``docs/verdicts.md`` from these functions; ``tests/test_verdict_simulation.py`` runs a small
seeded version.

Each simulated experiment draws ``n`` runs per rule: BPTT's per-run values ``~ F`` and e-prop's ``~ F + Δ`` (``F``
normal or a right-skewed lognormal, scaled to standard deviation ``sd``), makes the interval of the difference
(:func:`biocredit.stats.mean_difference_ci`) and reads the equivalence verdict against ±``margin``.
"""

from __future__ import annotations

import numpy as np

from biocredit.claims import FAILS, HOLDS, INCONCLUSIVE, combine, equivalence_verdict
from biocredit.stats import adjusted_level, mean_difference_ci

__all__ = ["draw_runs", "equivalence_rates", "two_set_contradictions", "composite_false_holds"]


def draw_runs(rng: np.random.Generator, n: int, shift: float, sd: float, shape: str = "normal") -> np.ndarray:
    """``n`` per-run values with mean ``shift`` and standard deviation ``sd``: normal, or lognormal (σ = 1, skewness
    ≈ 6) centred and scaled."""
    if shape == "normal":
        return shift + sd * rng.standard_normal(n)
    if shape == "lognormal":
        s = 1.0
        raw = rng.lognormal(0.0, s, n)
        mean, var = np.exp(s * s / 2), (np.exp(s * s) - 1) * np.exp(s * s)
        return shift + sd * (raw - mean) / np.sqrt(var)
    raise ValueError(f"shape must be 'normal' or 'lognormal', got {shape!r}")


def _one(rng, n, delta, sd, shape, method, level, margin, min_n, n_boot, seed):
    a, b = draw_runs(rng, n, delta, sd, shape), draw_runs(rng, n, 0.0, sd, shape)
    res = mean_difference_ci(a, b, level=level, min_n=min_n, method=method, n_boot=n_boot, seed=seed)
    return res, equivalence_verdict(res["ci"], margin, enough=res["enough"])


def equivalence_rates(*, delta: float, margin: float = 0.05, sd: float = 0.01, n: int = 5, draws: int = 2000,
                      method: str = "welch", level: float = 0.95, shape: str = "normal", min_n: int = 3,
                      n_boot: int = 999, seed: int = 0) -> dict:
    """Shares of ``draws`` simulated experiments (true difference ``delta``) whose verdict is holds, fails and
    inconclusive, and the share whose interval covers ``delta``."""
    rng = np.random.default_rng(seed)
    counts = {HOLDS: 0, FAILS: 0, INCONCLUSIVE: 0}
    covered = 0
    for i in range(draws):
        res, verdict = _one(rng, n, delta, sd, shape, method, level, margin, min_n, n_boot, seed + i)
        counts[verdict] += 1
        covered += res["ci"][0] <= delta <= res["ci"][1]
    return {"holds": counts[HOLDS] / draws, "fails": counts[FAILS] / draws,
            "inconclusive": counts[INCONCLUSIVE] / draws, "coverage": covered / draws, "draws": draws}


def two_set_contradictions(*, delta: float, margin: float = 0.05, sd: float = 0.01, n: int = 5, draws: int = 2000,
                           method: str = "welch", level: float = 0.95, three_valued: bool = True,
                           seed: int = 0) -> float:
    """Share of pairs of independent seed sets (same truth ``delta``) whose verdicts are holds on one and fails on
    the other. ``three_valued=False``: the two-valued rule of before (holds when the CI lies within ±margin, fails
    otherwise)."""
    rng = np.random.default_rng(seed)
    flips = 0
    for i in range(draws):
        verdicts = []
        for _ in range(2):
            res, v = _one(rng, n, delta, sd, "normal", method, level, margin, 3, 999, seed + i)
            verdicts.append(v if three_valued else (HOLDS if v == HOLDS else FAILS))
        flips += set(verdicts) == {HOLDS, FAILS}
    return flips / draws


def composite_false_holds(*, k: int = 3, margin: float = 0.05, sd: float = 0.01, n: int = 5, draws: int = 2000,
                          level: float = 0.95, adjust: bool = True, seed: int = 0) -> dict:
    """A composite of ``k`` equivalence parts (A3's levels), one part's true difference on the margin and the others
    at 0: the share of experiments whose composite verdict is holds (false holds) and fails, with the parts' level
    Bonferroni-adjusted or not."""
    rng = np.random.default_rng(seed)
    part_level = adjusted_level(level, k) if adjust else level
    holds = fails = 0
    for _ in range(draws):
        parts = [_one(rng, n, margin if j == 0 else 0.0, sd, "normal", "welch", part_level, margin, 3, 0, 0)[1]
                 for j in range(k)]
        v = combine(parts)
        holds += v == HOLDS
        fails += v == FAILS
    return {"holds": holds / draws, "fails": fails / draws, "draws": draws}
