"""Oracles for biocredit.curvature: a quadratic with a known spectrum, and a tiny RateRNN against autograd's dense
Hessian and a finite-difference Hessian."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from biocredit.curvature import (
    HessianOperator,
    hutchinson_trace,
    lanczos,
    rnn_loss_closure,
    spectral_density,
    top_eigenvalue_lanczos,
    top_eigenvalue_power,
)
from biocredit.learning import EProp
from biocredit.model import ModelConfig, RateRNN

# ------------------------------------------------------------------------------------------------- quadratic


def spectrum(n: int) -> np.ndarray:
    """Eigenvalues incl. negative ones: dominant magnitude -5, largest algebraic 3, a bulk in [-1, 2]."""
    return np.concatenate([[-5.0, 3.0], np.linspace(-1.0, 2.0, n - 2)])


def quadratic(n: int, seed: int = 0, dtype=torch.float64) -> tuple[HessianOperator, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    lam = spectrum(n)
    a = q @ np.diag(lam) @ q.T
    a = (a + a.T) / 2
    a_t = torch.tensor(a, dtype=dtype)
    x = torch.tensor(rng.standard_normal(n), dtype=dtype, requires_grad=True)
    return HessianOperator(lambda: 0.5 * x @ a_t @ x, [x]), a, lam


@pytest.fixture(scope="module")
def quad():
    return quadratic(60)


def test_hvp_equals_av(quad):
    op, a, _ = quad
    v = np.random.default_rng(1).standard_normal(op.dim)
    np.testing.assert_allclose(op.matvec(v), a @ v, rtol=1e-12, atol=1e-12)
    vt = torch.tensor(v, dtype=torch.float32)
    out = op.matvec(vt)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), a @ v, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(op.as_linear_operator() @ v, a @ v, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError):
        op.matvec(np.ones(op.dim + 1))


def test_dense_equals_a(quad):
    op, a, _ = quad
    np.testing.assert_allclose(op.dense(), a, atol=1e-12)


def test_float32_operator():
    op, a, _ = quadratic(30, dtype=torch.float32)
    assert op.dtype == torch.float32
    v = np.random.default_rng(2).standard_normal(op.dim)
    out = op.matvec(v)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, a @ v, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("method,stop", [("lanczos", "residual"), ("lanczos", "change"), ("eigsh", "residual")])
def test_lanczos_top_eigenvalue(quad, method, stop):
    op, _, lam = quad
    res = top_eigenvalue_lanczos(op, tol=1e-3, max_hvp=100, seed=3, method=method, stop=stop)
    assert res["converged"]
    assert abs(res["value"] - lam.max()) <= 1e-3 * abs(lam.max())
    assert 0 < res["n_hvp"] <= 100


def test_lanczos_budget_exhausted(quad):
    op, _, _ = quad
    res = top_eigenvalue_lanczos(op, tol=1e-14, max_hvp=5, seed=0)
    assert not res["converged"] and res["n_hvp"] == 5
    res = top_eigenvalue_lanczos(op, tol=1e-14, max_hvp=5, seed=0, method="eigsh")
    assert not res["converged"] and res["n_hvp"] <= 5


def test_lanczos_basis_and_tridiagonal(quad):
    op, a, _ = quad
    alphas, betas, q = lanczos(op, n_iter=15, seed=4)
    assert alphas.shape == (15,) and betas.shape == (14,) and q.shape == (op.dim, 15)
    np.testing.assert_allclose(q.T @ q, np.eye(15), atol=1e-12)
    t = np.diag(alphas) + np.diag(betas, 1) + np.diag(betas, -1)
    np.testing.assert_allclose(q.T @ a @ q, t, atol=1e-10)


def test_power_iteration_returns_dominant_magnitude(quad):
    op, _, lam = quad
    res = top_eigenvalue_power(op, tol=1e-6, max_iter=500, seed=0)
    assert res["converged"]
    dominant = lam[np.argmax(np.abs(lam))]
    assert abs(res["value"] - abs(dominant)) <= 1e-5 * abs(dominant)
    assert res["rayleigh"] == pytest.approx(dominant, rel=1e-4)  # the sign survives in the Rayleigh quotient
    rel = top_eigenvalue_power(op, tol=1e-3, seed=0, relative=True)
    assert rel["converged"] and rel["n_hvp"] < res["n_hvp"]
    capped = top_eigenvalue_power(op, tol=0.0, max_iter=7, seed=0)
    assert not capped["converged"] and capped["n_hvp"] == 7


def test_hutchinson_trace(quad):
    op, a, _ = quad
    small = hutchinson_trace(op, n_samples=25, seed=0)
    big = hutchinson_trace(op, n_samples=400, seed=1)
    for res in (small, big):
        assert abs(res["value"] - np.trace(a)) <= 4 * res["stderr"]
    assert big["stderr"] < small["stderr"] / 2  # ~ 1/sqrt(n): expected ratio 4
    assert big["n_hvp"] == 400


def test_slq_weights_mean_and_support(quad):
    op, a, lam = quad
    res = spectral_density(op, n_iter=20, n_vectors=8, seed=0)
    n = op.dim
    assert res["weights"].sum() == pytest.approx(1.0, abs=1e-12)
    assert res["nodes"].min() >= lam.min() - 1e-9 and res["nodes"].max() <= lam.max() + 1e-9
    assert res["n_hvp"] == 8 * 20
    mean_q = float(res["weights"] @ res["nodes"])
    grid, rho = res["grid"], res["density"]
    assert np.trapezoid(rho, grid) == pytest.approx(1.0, abs=1e-6)
    assert np.trapezoid(grid * rho, grid) == pytest.approx(mean_q, abs=1e-6)
    # Σ τθ over one vector is vᵀAv, a Hutchinson sample divided by n: compare with its standard error
    off = a - np.diag(np.diag(a))
    sd = np.sqrt(2 * (off**2).sum()) / n / np.sqrt(8)
    assert abs(mean_q - np.trace(a) / n) <= 4 * sd


def test_slq_is_gauss_quadrature():
    """With n_iter = dim the nodes are the eigenvalues; for any n_iter, Σ τ θ^p = vᵀ A^p v for p < 2 n_iter."""
    op, a, lam = quadratic(24, seed=5)
    n = op.dim
    v = np.random.default_rng(0).choice([-1.0, 1.0], size=n) / np.sqrt(n)
    alphas, betas, _ = lanczos(op, n_iter=4, v0=v)
    theta, u = np.linalg.eigh(np.diag(alphas) + np.diag(betas, 1) + np.diag(betas, -1))
    for p in range(1, 8):
        assert (u[0] ** 2) @ theta**p == pytest.approx(v @ np.linalg.matrix_power(a, p) @ v, rel=1e-9, abs=1e-9)
    full = spectral_density(op, n_iter=n, n_vectors=1, seed=0)
    np.testing.assert_allclose(np.sort(full["nodes"]), np.sort(lam), atol=1e-8)
    many = spectral_density(op, n_iter=n, n_vectors=300, seed=1)
    w, x = many["weights"], many["nodes"]
    for p, tol in ((1, 0.05), (2, 0.15)):
        exact = np.trace(np.linalg.matrix_power(a, p)) / n
        assert w @ x**p == pytest.approx(exact, abs=tol)


# -------------------------------------------------------------------------------------------------- counting


class FakeOp:
    """A diagonal operator that counts its own products."""

    def __init__(self, diag: np.ndarray) -> None:
        self.diag = diag
        self.dim = diag.size
        self.calls = 0

    def matvec(self, v: np.ndarray) -> np.ndarray:
        self.calls += 1
        return self.diag * v


@pytest.mark.parametrize(
    "fn",
    [
        lambda op: top_eigenvalue_lanczos(op, tol=1e-6),
        lambda op: top_eigenvalue_lanczos(op, tol=1e-6, method="eigsh"),
        lambda op: top_eigenvalue_power(op, tol=1e-8),
        lambda op: hutchinson_trace(op, n_samples=13),
        lambda op: spectral_density(op, n_iter=9, n_vectors=3),
    ],
)
def test_n_hvp_counts_every_product(fn):
    op = FakeOp(np.linspace(-1.0, 4.0, 50))
    res = fn(op)
    assert res["n_hvp"] == op.calls > 0


def test_hessian_operator_counts(quad):
    op, _, _ = quad
    before = op.n_hvp
    res = top_eigenvalue_lanczos(op)
    assert op.n_hvp - before == res["n_hvp"]
    before = op.n_hvp
    op.dense()
    assert op.n_hvp - before == op.dim


# ------------------------------------------------------------------------------------------------- tiny RNN


def tiny_rnn(seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    model = RateRNN(ModelConfig(n_in=3, n_hidden=6, n_out=2, tau=2.0, activation="tanh"), generator=gen).double()
    with torch.no_grad():  # move a0 and the biases off zero so no parameter sits at a special point
        for p in (model.a0, model.b, model.b_out):
            p.copy_(0.3 * torch.randn(p.shape, generator=gen, dtype=torch.float64))
    x = torch.randn(3, 8, 3, generator=gen, dtype=torch.float64)
    target = torch.randn(3, 8, 2, generator=gen, dtype=torch.float64)
    return model, x, target


def make_loss(target: torch.Tensor, w_rec: torch.Tensor):
    def loss(y: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        return ((y - target) ** 2).mean() + 0.01 * (w_rec**2).sum() / 2

    return loss


def autograd_hessian_wrec(model, x, target) -> np.ndarray:
    """The full-graph Hessian w.r.t. W_rec by torch.autograd.functional.hessian (independent of the operator)."""

    def f(w: torch.Tensor) -> torch.Tensor:
        y, h = torch.func.functional_call(model, {"w_rec": w}, (x,), {"fused": False})
        return make_loss(target, w)(y, h)

    w = model.w_rec.detach().clone()
    return torch.autograd.functional.hessian(f, w).reshape(w.numel(), w.numel()).numpy()


def test_rnn_wrec_block_matches_autograd_hessian():
    model, x, target = tiny_rnn()
    op = HessianOperator(rnn_loss_closure(model, x, make_loss(target, model.w_rec)), [model.w_rec])
    dense = op.dense()
    ref = autograd_hessian_wrec(model, x, target)
    np.testing.assert_allclose(dense, ref, atol=1e-8, rtol=0)
    np.testing.assert_allclose(dense, dense.T, atol=1e-12)
    top = top_eigenvalue_lanczos(op, tol=1e-6, max_hvp=op.dim)
    assert top["value"] == pytest.approx(np.linalg.eigvalsh(ref).max(), rel=1e-6)


def test_rnn_full_hessian_matches_finite_differences():
    model, x, target = tiny_rnn(1)
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    params = [p for p in model.parameters() if p.requires_grad]
    op = HessianOperator(rnn_loss_closure(model, x, make_loss(target, model.w_rec)), params)
    dense = op.dense()
    assert op.dim == sum(p.numel() for p in params)
    np.testing.assert_allclose(dense, dense.T, atol=1e-12)

    theta0 = torch.cat([p.detach().reshape(-1) for p in params])
    shapes = [p.shape for p in params]

    def grad_at(theta: torch.Tensor) -> torch.Tensor:
        chunks = torch.split(theta, [int(np.prod(s)) for s in shapes])
        tensors = [c.reshape(s).clone().requires_grad_(True) for c, s in zip(chunks, shapes, strict=True)]
        y, h = torch.func.functional_call(model, dict(zip(names, tensors, strict=True)), (x,), {"fused": False})
        loss = make_loss(target, tensors[names.index("w_rec")])(y, h)
        return torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, tensors)])

    eps = 1e-5
    fd = np.empty_like(dense)
    for i in range(op.dim):
        e = torch.zeros_like(theta0)
        e[i] = eps
        fd[:, i] = ((grad_at(theta0 + e) - grad_at(theta0 - e)) / (2 * eps)).numpy()
    assert np.abs(dense - fd).max() <= 1e-5 * np.abs(dense).max()
    top = top_eigenvalue_lanczos(op, tol=1e-6, max_hvp=op.dim)
    assert top["value"] == pytest.approx(np.linalg.eigvalsh(dense).max(), rel=1e-6)


def test_full_graph_whatever_rule_trained_the_net():
    model, x, target = tiny_rnn(2)
    rule = EProp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(5):  # train a little with a truncated rule, on the fast fused path
        opt.zero_grad()
        y, h = model(x, rule=rule)
        make_loss(target, model.w_rec)(y, h).backward()
        opt.step()
    op = HessianOperator(rnn_loss_closure(model, x, make_loss(target, model.w_rec)), [model.w_rec])
    ref = autograd_hessian_wrec(model, x, target)
    np.testing.assert_allclose(op.dense(), ref, atol=1e-8, rtol=0)
    # the check has teeth: differentiating e-prop's truncated graph twice gives something else (not even symmetric)
    loss_fn = make_loss(target, model.w_rec)
    eprop_op = HessianOperator(lambda: loss_fn(*model(x, rule=rule, fused=False)), [model.w_rec])
    assert np.abs(eprop_op.dense() - ref).max() > 1e-3 * np.abs(ref).max()


def test_operator_rejects_bad_params():
    frozen = torch.zeros(3, requires_grad=False)
    with pytest.raises(ValueError):
        HessianOperator(lambda: (frozen**2).sum(), [frozen])
    a = torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError):
        HessianOperator(lambda: a**2, [a])
