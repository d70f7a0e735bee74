"""Angular Procrustes shape distance between two neural representations.

This is the shape metric of Williams, Kunz, Kornblith & Linderman (2021), "Generalized shape metrics on
neural representations" (NeurIPS), in the configuration netrep calls
``LinearMetric(alpha=1, center_columns=True, zero_pad=True, score_method="angular")``:

1. each representation is a matrix of samples × features; its columns are centred (translation invariance);
2. the narrower matrix is zero-padded to the width of the wider one (which changes no inner product);
3. the distance is the angle between the two centred matrices after the best orthogonal alignment,

   ``theta = arccos( max_Q <A Q, B>_F / (||A||_F ||B||_F) )``,

   and ``max_Q <A Q, B>_F`` over orthogonal ``Q`` is the nuclear norm of ``A.T @ B`` (von Neumann's trace
   inequality), so no alignment needs to be formed explicitly.

``theta`` lies in ``[0, pi/2]`` and is a metric on representations modulo rotation/reflection, translation
and isotropic scaling. By default it is divided by ``pi/2`` so that 0 means identical shape and 1 means
orthogonal.

Neural data and model activity share the layout ``rate(unit, time, condition)``; :func:`as_samples` turns it
into the samples × features matrix used here, with time varying fastest within each condition.
"""

from __future__ import annotations

import numpy as np

__all__ = ["as_samples", "procrustes_distance", "shape_distance"]


def as_samples(rate: np.ndarray) -> np.ndarray:
    """Reshape ``rate(unit, time, condition)`` to a ``(time * condition, unit)`` sample matrix.

    Samples are ordered ``(c0, t0), (c0, t1), ..., (c0, t_{T-1}), (c1, t0), ...``, i.e. row ``c * T + t``
    holds ``rate[:, t, c]``.
    """
    rate = np.asarray(rate)
    if rate.ndim != 3:
        raise ValueError(f"rate must have shape (unit, time, condition); got an array of shape {rate.shape}")
    n_unit, n_time, n_cond = rate.shape
    return rate.transpose(2, 1, 0).reshape(n_cond * n_time, n_unit)


def _as_sample_matrix(X: np.ndarray, name: str) -> np.ndarray:
    """Return ``X`` as a finite float64 2-D array, or raise ``ValueError``."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (samples, features) matrix; got shape {X.shape}")
    if X.shape[0] < 2 or X.shape[1] < 1:
        raise ValueError(f"{name} needs at least 2 samples and 1 feature; got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return X


def _sample_pair(X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``X`` and ``Y`` as checked sample matrices (:func:`_as_sample_matrix`) with the same number of
    samples (rows), or raise ``ValueError``."""
    X = _as_sample_matrix(X, "X")
    Y = _as_sample_matrix(Y, "Y")
    if X.shape[0] != Y.shape[0]:
        raise ValueError(
            f"X and Y must have the same number of samples (rows); got X of shape {X.shape} "
            f"and Y of shape {Y.shape}"
        )
    return X, Y


def _center_columns(X: np.ndarray, name: str) -> tuple[np.ndarray, float]:
    """Subtract each column's mean; return the centred matrix and its Frobenius norm.

    Raises ``ValueError`` when the centred matrix is zero up to rounding (every column constant), since the
    angle is then undefined.
    """
    A = X - X.mean(axis=0, keepdims=True)
    norm = float(np.linalg.norm(A))
    scale = float(np.linalg.norm(X))
    if norm == 0.0 or norm <= 1e-12 * scale:
        raise ValueError(
            f"{name} has zero variance (every column is constant); the shape distance is undefined"
        )
    return A, norm


def _nuclear_norm_of_cross(A: np.ndarray, B: np.ndarray) -> float:
    """Sum of the singular values of ``A.T @ B`` for sample matrices ``A`` (n, p) and ``B`` (n, q).

    When ``n >= min(p, q)`` the (p, q) cross-covariance is formed directly and its singular values computed.
    With fewer samples than features the problem is first reduced to n × n: with ``A.T = Q_a R_a`` and
    ``B.T = Q_b R_b`` (thin QR), ``A.T @ B = Q_a (R_a @ R_b.T) Q_b.T`` has the singular values of the
    n × n matrix ``R_a @ R_b.T``.
    """
    n, p = A.shape
    q = B.shape[1]
    if n < min(p, q):
        R_a = np.linalg.qr(A.T, mode="r")
        R_b = np.linalg.qr(B.T, mode="r")
        M = R_a @ R_b.T
    else:
        M = A.T @ B
    return float(np.linalg.svd(M, compute_uv=False).sum())


def procrustes_distance(X: np.ndarray, Y: np.ndarray, *, normalize: bool = True) -> float:
    """Angular Procrustes shape distance between sample matrices ``X`` (n, n_x) and ``Y`` (n, n_y).

    Williams et al. (2021), "Generalized shape metrics on neural representations": with ``A``, ``B`` the
    column-centred inputs, returns ``arccos(||A.T B||_* / (||A||_F ||B||_F))``, the angle between ``A`` and
    ``B`` after the optimal orthogonal alignment (the narrower one implicitly zero-padded). The value is
    invariant to rotations/reflections of either feature space, to translations and to isotropic scaling,
    is symmetric and satisfies the triangle inequality.

    Args:
        X: samples × features matrix of the first representation.
        Y: samples × features matrix of the second; the rows must correspond to those of ``X``, the number
            of features may differ.
        normalize: if True (default) divide the angle by ``pi/2`` so the result lies in ``[0, 1]``; if False
            return the angle in radians, in ``[0, pi/2]``.

    Raises:
        ValueError: if the inputs are not 2-D, the numbers of samples differ, a value is not finite, or an
            input has zero variance.
    """
    X, Y = _sample_pair(X, Y)
    A, norm_a = _center_columns(X, "X")
    B, norm_b = _center_columns(Y, "Y")
    cosine = _nuclear_norm_of_cross(A, B) / (norm_a * norm_b)
    angle = float(np.arccos(np.clip(cosine, -1.0, 1.0)))
    return angle / (np.pi / 2) if normalize else angle


def shape_distance(rate_a: np.ndarray, rate_b: np.ndarray, **kw) -> float:
    """:func:`procrustes_distance` between two ``rate(unit, time, condition)`` arrays.

    The arrays may have different numbers of units but must agree in time and condition. Keyword
    arguments (``normalize``) are passed on.
    """
    rate_a = np.asarray(rate_a)
    rate_b = np.asarray(rate_b)
    X = as_samples(rate_a)
    Y = as_samples(rate_b)
    if rate_a.shape[1:] != rate_b.shape[1:]:
        raise ValueError(
            "rate arrays must agree in (time, condition); got shapes "
            f"{rate_a.shape} and {rate_b.shape} (unit, time, condition)"
        )
    return procrustes_distance(X, Y, **kw)
