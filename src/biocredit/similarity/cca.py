"""PCA-reduced canonical correlation analysis (CCA) distance between two neural representations.

Spec section 6.4: the authors' code reduces each representation to its top 20 principal components and
reports ``1 - mean canonical correlation`` (computed there with pyrcca; Bilenko & Gallant 2016, "Pyrcca:
regularized kernel canonical correlation analysis in Python"). This is the SVCCA recipe of Raghu, Gilmer,
Yosinski & Sohl-Dickstein (2017), "SVCCA: singular vector canonical correlation analysis for deep learning
dynamics and interpretability".

The canonical correlations are computed by the method of Björck & Golub (1973), "Numerical methods for
computing angles between linear subspaces" (Math. Comp. 27:579-594): with ``Q_x``, ``Q_y`` orthonormal bases
of the column spaces of the two centred (PC-score) matrices, the canonical correlations are the singular
values of ``Q_x.T @ Q_y`` (the cosines of the principal angles). This avoids forming and inverting covariance
matrices.

Inputs follow :mod:`biocredit.similarity.procrustes`: samples × features matrices, e.g. from
:func:`~biocredit.similarity.procrustes.as_samples` applied to ``rate(unit, time, condition)`` arrays.
"""

from __future__ import annotations

import numpy as np

from .procrustes import _center_columns, _sample_pair

__all__ = ["canonical_correlations", "cca_distance"]


def _pc_scores(X: np.ndarray, n_components: int, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Top principal-component scores of ``X`` (columns centred) and their singular values.

    Keeps ``min(n_components, rank)`` components, where the numerical rank counts singular values above
    ``1e-6 * sigma_max``. Returns ``(scores, singular_values)`` with ``scores`` of shape
    ``(n, k)`` (``U * sigma``).
    """
    A, _ = _center_columns(X, name)
    n, p = A.shape
    k = min(n_components, n, p)
    # Exact, deterministic PCA from the smaller Gram matrix (the sign of each component does not matter to CCA).
    if p <= n:
        evals, evecs = np.linalg.eigh(A.T @ A)
        order = np.argsort(evals)[::-1][:k]
        sv = np.sqrt(np.clip(evals[order], 0, None))
        scores = A @ evecs[:, order]
    else:
        evals, evecs = np.linalg.eigh(A @ A.T)
        order = np.argsort(evals)[::-1][:k]
        sv = np.sqrt(np.clip(evals[order], 0, None))
        scores = evecs[:, order] * sv
    keep = sv > 1e-6 * sv[0]  # the Gram route resolves singular values only down to ~sqrt(eps) of the largest
    return scores[:, keep], sv[keep]


def canonical_correlations(
    X: np.ndarray, Y: np.ndarray, n_components: int = 20, reg: float = 0.0
) -> np.ndarray:
    """Canonical correlations between the top ``n_components`` PCs of ``X`` (n, p) and of ``Y`` (n, q).

    Each side is column-centred and reduced to its top ``n_components`` principal components (fewer when its
    numerical rank is lower; singular values below 1e-6 of the largest count as zero). With ``reg == 0`` the
    correlations are the singular values of ``Q_x.T @ Q_y``, ``Q`` being the thin-QR orthonormal bases of the
    PC scores (Björck & Golub 1973).

    With ``reg > 0`` a ridge ``reg * I`` is added to each side's sum-of-squares matrix, as pyrcca does
    (Bilenko & Gallant 2016; there it is added to the un-normalised ``X.T X``): the PC scores ``U_x S_x``
    have sum-of-squares ``S_x^2``, so the regularised correlations are the singular values of
    ``diag(s_x / sqrt(s_x^2 + reg)) U_x.T U_y diag(s_y / sqrt(s_y^2 + reg))``. These shrink towards 0 and are
    no longer invariant to the scale of the data.

    Returns:
        The ``min(k_x, k_y)`` canonical correlations, sorted in decreasing order, each in ``[0, 1]``.

    Raises:
        ValueError: for malformed inputs (see :func:`~biocredit.similarity.procrustes.procrustes_distance`),
            ``n_components < 1`` or ``reg < 0``.
    """
    if int(n_components) != n_components or n_components < 1:
        raise ValueError(f"n_components must be a positive integer; got {n_components!r}")
    if not np.isfinite(reg) or reg < 0:
        raise ValueError(f"reg must be a non-negative finite number; got {reg!r}")
    X, Y = _sample_pair(X, Y)
    sx_scores, s_x = _pc_scores(X, int(n_components), "X")
    sy_scores, s_y = _pc_scores(Y, int(n_components), "Y")
    if reg == 0.0:
        Q_x, _ = np.linalg.qr(sx_scores)
        Q_y, _ = np.linalg.qr(sy_scores)
        M = Q_x.T @ Q_y
    else:
        U_x = sx_scores / s_x
        U_y = sy_scores / s_y
        w_x = s_x / np.sqrt(s_x**2 + reg)
        w_y = s_y / np.sqrt(s_y**2 + reg)
        M = (w_x[:, None] * (U_x.T @ U_y)) * w_y[None, :]
    rho = np.linalg.svd(M, compute_uv=False)
    return np.clip(rho, 0.0, 1.0)


def cca_distance(X: np.ndarray, Y: np.ndarray, n_components: int = 20, reg: float = 0.0) -> float:
    """``1 - mean(canonical_correlations(X, Y, n_components, reg))`` (spec 6.4 "CCA"), in ``[0, 1]``.

    0 means the top-PC subspaces of the two representations coincide (e.g. ``Y = X M + c`` with ``M``
    invertible and ``X`` of rank at most ``n_components``). Note that with many features relative to samples
    the top PCs of unrelated data can still be strongly correlated by chance (up to 1 when
    ``k_x + k_y >= n``), so the distance is only meaningful for ``n_samples`` well above ``2 * n_components``.
    """
    return float(1.0 - np.mean(canonical_correlations(X, Y, n_components=n_components, reg=reg)))
