"""Linear centred kernel alignment (CKA) between two neural representations.

Kornblith, Norouzi, Lee & Hinton (2019), "Similarity of neural network representations revisited" (ICML):
for sample matrices ``X`` (n, p) and ``Y`` (n, q) with centred columns,

    ``CKA(X, Y) = ||Y.T X||_F^2 / (||X.T X||_F ||Y.T Y||_F)``

which equals the normalised HSIC of the linear Gram matrices ``K = X X.T`` and ``L = Y Y.T``,
``tr(K H L H) / sqrt(tr(K H K H) tr(L H L H))`` with the centring matrix ``H = I - 11.T/n``. CKA lies in
``[0, 1]``, is symmetric, and is invariant to translations, orthogonal transformations and isotropic scaling of
either feature space, but not to anisotropic (general invertible linear) maps.

The spec (section 6.4) lists two distances built from it: ``1 - CKA`` and the "metric" CKA
``arccos(CKA) / (pi/2)`` (the angle between the centred Gram matrices, a metric; Williams et al. 2021).

Inputs follow :mod:`biocredit.similarity.procrustes`: samples × features matrices, e.g. from
:func:`~biocredit.similarity.procrustes.as_samples` applied to ``rate(unit, time, condition)`` arrays.
"""

from __future__ import annotations

import numpy as np

from .procrustes import _center_columns, _sample_pair

__all__ = ["linear_cka", "cka_distance", "angular_cka_distance"]


def _centred_pair(X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate, centre the columns and scale each matrix to unit Frobenius norm."""
    X, Y = _sample_pair(X, Y)
    A, norm_a = _center_columns(X, "X")
    B, norm_b = _center_columns(Y, "Y")
    # CKA is scale invariant; unit norms keep every intermediate product O(1) (no overflow/underflow).
    return A / norm_a, B / norm_b


def linear_cka(X: np.ndarray, Y: np.ndarray) -> float:
    """Linear CKA (Kornblith et al. 2019) between sample matrices ``X`` (n, p) and ``Y`` (n, q).

    Columns are centred first. With at least as many samples as features (on the larger side) the feature
    space form ``||B.T A||_F^2 / (||A.T A||_F ||B.T B||_F)`` is used, with the denominators taken from the
    singular values (``||A.T A||_F = sqrt(sum sigma^4)``); with far more features than samples the
    equivalent n × n Gram form ``<K, L>_F / (||K||_F ||L||_F)``, ``K = A A.T``, ``L = B B.T``, is cheaper.

    Returns:
        A float in ``[0, 1]``; 1 means the representations agree up to rotation, translation and isotropic
        scaling.

    Raises:
        ValueError: if the inputs are not 2-D, differ in number of samples, contain non-finite values, or one
            of them has zero variance.
    """
    A, B = _centred_pair(X, Y)
    n, p = A.shape
    q = B.shape[1]
    if n < max(p, q):
        K = A @ A.T
        L = B @ B.T
        num = float(np.sum(K * L))
        den = float(np.linalg.norm(K) * np.linalg.norm(L))
    else:
        num = float(np.linalg.norm(B.T @ A) ** 2)
        s_a = np.linalg.svd(A, compute_uv=False)
        s_b = np.linalg.svd(B, compute_uv=False)
        den = float(np.sqrt(np.sum(s_a**4)) * np.sqrt(np.sum(s_b**4)))
    return float(np.clip(num / den, 0.0, 1.0))


def cka_distance(X: np.ndarray, Y: np.ndarray) -> float:
    """``1 - linear_cka(X, Y)`` (spec 6.4 "CKA"), in ``[0, 1]``; 0 means identical up to the CKA invariances."""
    return 1.0 - linear_cka(X, Y)


def angular_cka_distance(X: np.ndarray, Y: np.ndarray) -> float:
    """``arccos(linear_cka(X, Y)) / (pi/2)`` (spec 6.4 "metric CKA"), in ``[0, 1]``.

    The arc-cosine of CKA is the angle between the centred linear Gram matrices, which satisfies the triangle
    inequality (Williams et al. 2021, "Generalized shape metrics on neural representations").
    """
    return float(np.arccos(linear_cka(X, Y)) / (np.pi / 2))
