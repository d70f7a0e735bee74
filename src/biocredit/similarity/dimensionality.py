"""Dimensionality of population activity: the participation ratio (Gao et al. 2017). Used by the per-checkpoint
comparison (:mod:`biocredit.similarity.compare`) and by the dynamics analyses (:mod:`biocredit.dynamics`)."""

from __future__ import annotations

import numpy as np

from biocredit.similarity.procrustes import as_samples

__all__ = ["participation_ratio"]


def _check_rate(rate: np.ndarray, name: str = "rate") -> np.ndarray:
    rate = np.asarray(rate, dtype=np.float64)
    if rate.ndim != 3:
        raise ValueError(f"{name} must have shape (unit, time, condition); got an array of shape {rate.shape}")
    if not np.all(np.isfinite(rate)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return rate


def participation_ratio(rate: np.ndarray) -> float:
    """Participation ratio ``(sum_i lambda_i)^2 / sum_i lambda_i^2`` of the activity's covariance eigenvalues.

    The eigenvalues ``lambda_i`` are those of the unit × unit covariance of the ``(time * condition, unit)``
    samples (:func:`~biocredit.similarity.procrustes.as_samples`), i.e. the PCA variances (Gao et al. 2017).
    PR lies in ``[1, n_units]``: 1 for activity confined to one dimension, ``n`` for isotropic activity in
    ``n`` dimensions. It is invariant to rotations of unit space, translations and scaling.

    Raises:
        ValueError: if ``rate`` is not 3-D, contains non-finite values or has zero variance.
    """
    S = as_samples(_check_rate(rate))
    A = S - S.mean(axis=0, keepdims=True)
    s2 = np.linalg.svd(A, compute_uv=False) ** 2  # proportional to the covariance eigenvalues
    total = float(s2.sum())
    if total <= 1e-24 * max(float(np.sum(S**2)), 1e-300):
        raise ValueError("rate has zero variance; the participation ratio is undefined")
    return float(total**2 / np.sum(s2**2))
