"""Curvature summaries of a symmetric operator known only through matrix-vector products.

Every routine takes an ``op`` with a ``dim`` (or ``shape``) and a ``matvec(np.ndarray) -> np.ndarray`` — a
:class:`~biocredit.curvature.hvp.HessianOperator`, or anything shaped like it — and reports ``n_hvp``, the number
of products it asked of ``op`` (each one is a Hessian-vector product, the unit of cost).

- :func:`top_eigenvalue_lanczos`: largest algebraic eigenvalue by Lanczos (Lanczos 1950; with full
  reorthogonalisation, Parlett 1998 §13) or ARPACK's implicitly restarted Lanczos (``scipy.sparse.linalg.eigsh``,
  Lehoucq, Sorensen & Yang 1998).
- :func:`top_eigenvalue_power`: power iteration exactly as in the code of Liu et al. (NeurIPS 2022), which
  returns the *magnitude* of the dominant eigenvalue.
- :func:`hutchinson_trace`: Hutchinson's (1990) trace estimator with Rademacher probes.
- :func:`spectral_density`: stochastic Lanczos quadrature (Golub & Meurant 2010; Ubaru, Chen & Saad 2017;
  Ghorbani, Krishnan & Xiao 2019).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Protocol

import numpy as np
from scipy.linalg import eigh_tridiagonal
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

__all__ = ["lanczos", "top_eigenvalue_lanczos", "top_eigenvalue_power", "hutchinson_trace", "spectral_density"]


class SymmetricOperator(Protocol):
    """What the routines need: a ``matvec`` on flat vectors and a ``dim`` (or a square ``shape``)."""

    def matvec(self, v: np.ndarray) -> np.ndarray: ...


class _Counted:
    """Wraps ``op`` and counts the products asked of it (what ``n_hvp`` reports)."""

    def __init__(self, op: SymmetricOperator) -> None:
        self.op = op
        self.dim = int(op.dim) if hasattr(op, "dim") else int(op.shape[0])
        self.count = 0

    def __call__(self, v: np.ndarray) -> np.ndarray:
        self.count += 1
        return np.asarray(self.op.matvec(v), dtype=np.float64).reshape(-1)


class _BudgetExceeded(Exception):
    pass


def _unit_normal(dim: int, rng: np.random.Generator) -> np.ndarray:
    v = rng.standard_normal(dim)
    return v / np.linalg.norm(v)


def _rademacher(dim: int, rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 2, size=dim).astype(np.float64) * 2 - 1


# ----------------------------------------------------------------------------------------------------- Lanczos


def _lanczos_steps(matvec: _Counted, v0: np.ndarray, max_steps: int) -> Iterator[tuple[list, list, float, np.ndarray]]:
    """Lanczos with full reorthogonalisation (classical Gram-Schmidt, applied twice: "twice is enough").

    After step ``k`` (``k`` products) yields ``(alphas, betas, beta_k, Q)``: the tridiagonal ``T_k`` has diagonal
    ``alphas`` (length k) and off-diagonal ``betas`` (length k-1); ``beta_k`` is the norm of the next residual
    (``H Q_k = Q_k T_k + beta_k q_{k+1} e_kᵀ``) and ``Q`` the ``dim × k`` orthonormal basis. Stops early on an
    invariant subspace (``beta_k`` ≈ 0) and after at most ``dim`` steps.
    """
    n = v0.size
    m = min(max_steps, n)
    q_basis = np.zeros((n, m))
    q_basis[:, 0] = v0 / np.linalg.norm(v0)
    alphas: list[float] = []
    betas: list[float] = []
    for k in range(m):
        q = q_basis[:, k]
        w = matvec(q)
        alpha = float(q @ w)
        w = w - alpha * q
        if k:
            w -= betas[-1] * q_basis[:, k - 1]
        basis = q_basis[:, : k + 1]
        for _ in range(2):
            w -= basis @ (basis.T @ w)
        beta = float(np.linalg.norm(w))
        alphas.append(alpha)
        yield alphas, betas, beta, basis
        scale = max(max(abs(a) for a in alphas), max(betas, default=0.0))
        if k + 1 == m or beta <= 1e-12 * max(scale, np.finfo(float).tiny):
            return
        betas.append(beta)
        q_basis[:, k + 1] = w / beta


def _last_step(matvec: _Counted, v0: np.ndarray, n_iter: int) -> tuple[list, list, float, np.ndarray]:
    """The state after the last of at most ``n_iter`` Lanczos steps."""
    if n_iter < 1:
        raise ValueError(f"n_iter must be >= 1, got {n_iter}")
    return deque(_lanczos_steps(matvec, v0, n_iter), maxlen=1)[0]


def _tridiag_eigh(alphas: list[float] | np.ndarray, betas: list[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (ascending) and eigenvectors of the symmetric tridiagonal matrix (alphas, betas)."""
    d = np.asarray(alphas, dtype=np.float64)
    if d.size == 1:
        return d.copy(), np.ones((1, 1))
    return eigh_tridiagonal(d, np.asarray(betas, dtype=np.float64))


def lanczos(
    op: SymmetricOperator, n_iter: int, seed: int = 0, v0: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Plain Lanczos with full reorthogonalisation for ``n_iter`` steps (fewer on an invariant subspace).

    Returns ``(alphas, betas, Q)``: the diagonal (length m) and off-diagonal (length m-1) of the tridiagonal
    ``T = Qᵀ H Q`` and the orthonormal Lanczos basis ``Q`` (``dim × m``), ``m ≤ n_iter``. The start vector is
    ``v0`` or, by default, a seeded standard normal vector; it is normalised.
    """
    matvec = _Counted(op)
    if v0 is None:
        v0 = np.random.default_rng(seed).standard_normal(matvec.dim)
    alphas, betas, _, basis = _last_step(matvec, np.asarray(v0, dtype=np.float64).reshape(-1), n_iter)
    return np.array(alphas), np.array(betas), np.array(basis)


def _top_lanczos(op: SymmetricOperator, tol: float, max_hvp: int, seed: int, stop: str) -> dict:
    matvec = _Counted(op)
    v0 = np.random.default_rng(seed).standard_normal(matvec.dim)
    theta, prev, residual, converged, n_iter = np.nan, np.nan, np.inf, False, 0
    for alphas, betas, beta, _ in _lanczos_steps(matvec, v0, max_hvp):
        n_iter = len(alphas)
        ritz, vecs = _tridiag_eigh(alphas, betas)
        prev, theta = theta, float(ritz[-1])
        residual = beta * abs(vecs[-1, -1])
        scale = tol * max(abs(theta), np.finfo(float).tiny)
        if stop == "residual":
            converged = residual <= scale
        else:
            converged = abs(theta - prev) <= scale or residual <= scale
        if converged:
            break
    if not converged and n_iter == matvec.dim:  # the whole space is spanned: T is H in the Lanczos basis
        converged = True
    return {"value": theta, "n_hvp": matvec.count, "converged": bool(converged), "method": f"lanczos-{stop}",
            "residual": float(residual), "n_iter": n_iter}


def _top_eigsh(op: SymmetricOperator, tol: float, max_hvp: int, seed: int) -> dict:
    matvec = _Counted(op)
    n = matvec.dim

    def mv(x: np.ndarray) -> np.ndarray:
        if matvec.count >= max_hvp:
            raise _BudgetExceeded
        return matvec(np.asarray(x, dtype=np.float64).reshape(-1))

    lin = LinearOperator((n, n), matvec=mv, dtype=np.float64)
    v0 = np.random.default_rng(seed).standard_normal(n)
    ncv = min(n, 20)
    value, converged = np.nan, False
    try:
        vals = eigsh(lin, k=1, which="LA", tol=tol, v0=v0, ncv=ncv, maxiter=max(1, max_hvp), return_eigenvectors=False)
        value, converged = float(vals[-1]), True
    except ArpackNoConvergence as err:
        if len(err.eigenvalues):
            value = float(np.max(err.eigenvalues))
    except _BudgetExceeded:
        pass
    return {"value": value, "n_hvp": matvec.count, "converged": converged, "method": "eigsh"}


def top_eigenvalue_lanczos(
    op: SymmetricOperator,
    tol: float = 1e-3,
    max_hvp: int = 100,
    seed: int = 0,
    method: str = "lanczos",
    stop: str = "residual",
) -> dict:
    """Largest *algebraic* eigenvalue of the symmetric ``op`` to relative accuracy about ``tol``.

    ``method="lanczos"`` (default): :func:`lanczos` from a seeded normal start vector, one product per step,
    stopping when the residual bound ``β_k |s_k| ≤ tol |θ|`` holds for the top Ritz pair ``(θ, y = Q s)``
    (``‖H y − θ y‖ = β_k |s_k|``, so an eigenvalue lies within that distance of θ, and the error of an extreme
    Ritz value is of order ``residual² / gap``; Parlett 1998 §13.2) or, with ``stop="change"``, when also the
    relative change of θ between successive steps is ``≤ tol`` (cheaper, less safe). ``method="eigsh"``:
    ARPACK through ``scipy.sparse.linalg.eigsh(k=1, which='LA', tol=tol, v0=seeded normal)``; its restarts make it
    spend at least ``min(dim, 20)`` products.

    At most ``max_hvp`` products are spent (``converged`` False when the budget ran out first; for ``eigsh`` the
    value is then NaN unless ARPACK reports a partial one). Returns ``dict(value, n_hvp, converged, method, …)``,
    ``n_hvp`` counting the products actually done.
    """
    if method == "lanczos":
        if stop not in ("residual", "change"):
            raise ValueError(f"stop must be 'residual' or 'change', got {stop!r}")
        return _top_lanczos(op, tol, max_hvp, seed, stop)
    if method == "eigsh":
        return _top_eigsh(op, tol, max_hvp, seed)
    raise ValueError(f"method must be 'lanczos' or 'eigsh', got {method!r}")


# ------------------------------------------------------------------------------------------------ power iteration


def top_eigenvalue_power(
    op: SymmetricOperator, tol: float = 1e-6, max_iter: int = 500, seed: int = 0, relative: bool = False
) -> dict:
    """Power iteration as in the code of Liu et al. (NeurIPS 2022; after PyHessian, Yao et al. 2020).

    ``v ~ N(0, I)`` normalised, ``λ = 0``; repeat: ``Hv``; ``v ← Hv / ‖Hv‖``; ``λ_k ← ⟨v, Hv⟩`` (which is ``‖Hv‖``:
    the *magnitude* of the dominant eigenvalue, never negative); stop when ``|λ_k − λ_{k−1}| ≤ tol`` (absolute, as
    the authors: "did not divide by λ"; ``relative=True`` divides by ``|λ_k|``) or after ``max_iter`` products
    (``converged`` False; the authors printed a warning). Also returns ``rayleigh``, the signed Rayleigh quotient
    ``⟨v_{k−1}, H v_{k−1}⟩`` of the last iterate, which carries the eigenvalue's sign.
    """
    matvec = _Counted(op)
    v = _unit_normal(matvec.dim, np.random.default_rng(seed))
    lam, rayleigh, converged = 0.0, 0.0, False
    for _ in range(max_iter):
        hv = matvec(v)
        rayleigh = float(v @ hv)
        norm = float(np.linalg.norm(hv))
        if norm == 0.0:  # v in the null space: the dominant magnitude found is 0
            lam, converged = 0.0, True
            break
        v = hv / norm
        lam_new = float(v @ hv)
        delta = abs(lam_new - lam)
        lam = lam_new
        if delta <= (tol * abs(lam) if relative else tol):
            converged = True
            break
    return {"value": lam, "n_hvp": matvec.count, "converged": converged, "rayleigh": rayleigh}


# ---------------------------------------------------------------------------------------------- trace, density


def hutchinson_trace(op: SymmetricOperator, n_samples: int = 100, seed: int = 0) -> dict:
    """Hutchinson's estimator ``tr H ≈ mean_i zᵢᵀ H zᵢ`` with Rademacher ``zᵢ`` (Hutchinson 1990; Avron & Toledo
    2011). ``stderr`` is the sample standard deviation over √n_samples (NaN for one sample)."""
    matvec = _Counted(op)
    rng = np.random.default_rng(seed)
    samples = np.empty(n_samples)
    for i in range(n_samples):
        z = _rademacher(matvec.dim, rng)
        samples[i] = z @ matvec(z)
    stderr = float(samples.std(ddof=1) / np.sqrt(n_samples)) if n_samples > 1 else np.nan
    return {"value": float(samples.mean()), "stderr": stderr, "n_hvp": matvec.count}


def _gaussian_density(nodes: np.ndarray, weights: np.ndarray, grid: np.ndarray, sigma: float) -> np.ndarray:
    z = (grid[:, None] - nodes[None, :]) / sigma
    return (np.exp(-0.5 * z * z) / (sigma * np.sqrt(2 * np.pi))) @ weights


def spectral_density(
    op: SymmetricOperator,
    n_iter: int = 30,
    n_vectors: int = 5,
    seed: int = 0,
    grid: np.ndarray | None = None,
    sigma: float | None = None,
) -> dict:
    """Eigenvalue density by stochastic Lanczos quadrature (Ubaru, Chen & Saad 2017; Ghorbani et al. 2019).

    For each of ``n_vectors`` random unit vectors ``v`` (normalised Rademacher), ``n_iter`` Lanczos steps from
    ``v`` give ``T``; its eigenvalues θ_j (Ritz values) are the Gauss quadrature nodes and the squared first
    components ``τ_j = U[0, j]²`` of its eigenvectors the weights, so ``Σ_j τ_j f(θ_j) ≈ vᵀ f(H) v`` (exact for
    polynomials of degree < 2·n_iter), whose mean over ``v`` is ``tr f(H) / dim``. ``nodes`` and ``weights``
    (divided by ``n_vectors``; they sum to 1) are concatenated over vectors; ``density`` is their sum of
    Gaussians of width ``sigma`` (default 1% of the node range) evaluated on ``grid`` (default 1000 points
    spanning the nodes ± 5 sigma). Also returns ``n_hvp``.
    """
    matvec = _Counted(op)
    rng = np.random.default_rng(seed)
    all_nodes, all_weights = [], []
    for _ in range(n_vectors):
        v0 = _rademacher(matvec.dim, rng)
        alphas, betas, _, _ = _last_step(matvec, v0, n_iter)
        theta, vecs = _tridiag_eigh(alphas, betas)
        all_nodes.append(theta)
        all_weights.append(vecs[0] ** 2 / n_vectors)
    nodes, weights = np.concatenate(all_nodes), np.concatenate(all_weights)
    if sigma is None:
        span = float(nodes.max() - nodes.min())
        sigma = 0.01 * span if span > 0 else 1e-3 * max(1.0, float(np.abs(nodes).max()))
    if grid is None:
        grid = np.linspace(nodes.min() - 5 * sigma, nodes.max() + 5 * sigma, 1000)
    grid = np.asarray(grid, dtype=np.float64)
    return {"nodes": nodes, "weights": weights, "grid": grid, "density": _gaussian_density(nodes, weights, grid, sigma),
            "sigma": float(sigma), "n_hvp": matvec.count}
