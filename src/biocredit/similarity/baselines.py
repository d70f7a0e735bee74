"""Reference points for the shape distance: what a trivial model scores, and how far data is from itself.

All functions take ``rate(unit, time, condition)`` arrays and use the angular Procrustes distance of
Williams et al. (2021), "Generalized shape metrics on neural representations" (see
:mod:`biocredit.similarity.procrustes`).

- :func:`cross_condition_baseline`: distance from the data to a "model" that knows each unit's time
  course averaged over conditions but nothing condition-specific. A model should beat it.
- :func:`split_half_distances`: distance between two disjoint random halves of the recorded units, an
  estimate of how close a perfect model could get given a finite sample of neurons.
"""

from __future__ import annotations

import numpy as np

from .procrustes import shape_distance

__all__ = [
    "cross_condition_average",
    "cross_condition_baseline",
    "split_half_indices",
    "split_half_distances",
]


def _check_rate(rate: np.ndarray) -> np.ndarray:
    rate = np.asarray(rate, dtype=np.float64)
    if rate.ndim != 3:
        raise ValueError(f"rate must have shape (unit, time, condition); got an array of shape {rate.shape}")
    return rate


def cross_condition_average(rate: np.ndarray) -> np.ndarray:
    """Replace each unit's rate at each time by its mean over conditions, repeated for every condition.

    Returns an array of the same shape as ``rate`` whose values do not depend on the condition index.
    """
    rate = _check_rate(rate)
    mean = rate.mean(axis=2, keepdims=True)
    return np.broadcast_to(mean, rate.shape).copy()


def cross_condition_baseline(rate: np.ndarray) -> float:
    """Normalised shape distance between ``rate`` and its :func:`cross_condition_average`."""
    rate = _check_rate(rate)
    return shape_distance(rate, cross_condition_average(rate))


def split_half_indices(n_units: int, n_iter: int = 100, seed: int = 0) -> np.ndarray:
    """Unit indices of ``n_iter`` random splits into two disjoint halves of ``n_units // 2`` units each.

    Returns an integer array of shape ``(n_iter, 2, n_units // 2)``; ``out[i, 0]`` and ``out[i, 1]`` are the
    two (sorted) halves of split ``i``. With an odd number of units one unit is left out of each split.
    Splits are drawn with ``numpy.random.default_rng(seed)``.
    """
    if n_units < 2:
        raise ValueError(f"split-half needs at least 2 units; got {n_units}")
    if n_iter < 1:
        raise ValueError(f"n_iter must be positive; got {n_iter}")
    half = n_units // 2
    rng = np.random.default_rng(seed)
    out = np.empty((n_iter, 2, half), dtype=np.intp)
    for i in range(n_iter):
        perm = rng.permutation(n_units)
        out[i, 0] = np.sort(perm[:half])
        out[i, 1] = np.sort(perm[half : 2 * half])
    return out


def split_half_distances(rate: np.ndarray, n_iter: int = 100, seed: int = 0) -> np.ndarray:
    """Shape distances between disjoint random halves of the units, one per split.

    For each split from :func:`split_half_indices` (``n_units // 2`` units per half, seeded) returns the
    normalised distance ``d(rate[half1], rate[half2])``; the result has ``n_iter`` values.
    """
    rate = _check_rate(rate)
    splits = split_half_indices(rate.shape[0], n_iter=n_iter, seed=seed)
    return np.array([shape_distance(rate[h1], rate[h2]) for h1, h2 in splits], dtype=np.float64)
