"""Independent NumPy implementations of the rate RNN's gradients, used as oracles by the tests.

Nothing here imports the library's model or rules: forward pass, learning signals and eligibility traces are
written out from the equations (Bellec et al. 2020, eq. 1 and the e-prop factorisation) in float64.
"""

from __future__ import annotations

import numpy as np


def retanh(a):
    return np.maximum(np.tanh(a), 0.0)


def retanh_grad(a):
    return (1 - np.tanh(a) ** 2) * (a > 0)


def forward(p, x):
    """a, h of shape (B, T, N) for parameters ``p`` (dict of float64 arrays) and inputs ``x`` (B, T, n_in)."""
    alpha = p["alpha"]
    batch, n_steps, _ = x.shape
    n = p["w_rec"].shape[0]
    a = np.broadcast_to(p["a0"], (batch, n)).copy()
    h = retanh(a)
    a_all = np.zeros((batch, n_steps, n))
    h_all = np.zeros((batch, n_steps, n))
    h_prev_all = np.zeros((batch, n_steps, n))
    for t in range(n_steps):
        h_prev_all[:, t] = h
        a = (1 - alpha) * a + alpha * (h @ p["w_rec"].T + x[:, t] @ p["w_in"].T + p["b"])
        h = retanh(a)
        a_all[:, t], h_all[:, t] = a, h
    return a_all, h_all, h_prev_all


def loss_and_partials(p, x, target, mask, lam):
    """E = masked MSE (mean over masked entries and outputs) + lam * mean(h^2); ∂E/∂y and ∂E/∂h (partial)."""
    a, h, h_prev = forward(p, x)
    y = h @ p["w_out"].T + p["b_out"]
    m = mask[..., None]
    denom = mask.sum() * y.shape[-1]
    loss = ((y - target) ** 2 * m).sum() / denom + lam * (h**2).mean()
    dy = 2 * (y - target) * m / denom
    dh_partial = dy @ p["w_out"] + 2 * lam * h / h.size
    return loss, a, h, h_prev, dy, dh_partial


def total_learning_signal(p, a, dh_partial):
    """dE/dh_t as a total derivative (h_t reaches the future only through W_rec), by the adjoint recursion."""
    alpha = p["alpha"]
    batch, n_steps, n = a.shape
    total = np.zeros_like(dh_partial)
    grad_a_next = np.zeros((batch, n))
    for t in range(n_steps - 1, -1, -1):
        total[:, t] = dh_partial[:, t] + alpha * grad_a_next @ p["w_rec"]
        grad_a_next = total[:, t] * retanh_grad(a[:, t]) + (1 - alpha) * grad_a_next
    return total


def trace_gradients(p, x, a, h_prev, signal):
    """Σ_t L_{j,t} e_{ji,t} with explicit eligibility vectors ε_t = (1-α) ε_{t-1} + α·(presynaptic input)."""
    alpha = p["alpha"]
    batch, n_steps, n = a.shape
    n_in = x.shape[-1]
    eps_rec = np.zeros((batch, n, n))  # [b, j, i]
    eps_in = np.zeros((batch, n, n_in))
    eps_b = np.zeros((batch, n))
    eps_a0 = np.ones((batch, n))  # d a_{j,-1} / d a0_j
    g = {k: np.zeros_like(p[k]) for k in ("w_rec", "w_in", "b", "a0")}
    for t in range(n_steps):
        eps_rec = (1 - alpha) * eps_rec + alpha * h_prev[:, t][:, None, :]
        eps_in = (1 - alpha) * eps_in + alpha * x[:, t][:, None, :]
        eps_b = (1 - alpha) * eps_b + alpha
        eps_a0 = (1 - alpha) * eps_a0
        psi = retanh_grad(a[:, t])  # f'(a_{j,t})
        ls = signal[:, t] * psi  # L_{j,t} f'(a_{j,t})
        g["w_rec"] += np.einsum("bj,bji->ji", ls, eps_rec)
        g["w_in"] += np.einsum("bj,bji->ji", ls, eps_in)
        g["b"] += (ls * eps_b).sum(0)
        g["a0"] += (ls * eps_a0).sum(0)
    return g


def eprop_gradients(p, x, target, mask, lam):
    """e-prop with symmetric feedback: partial learning signal × eligibility traces; exact readout gradients."""
    _, a, h, h_prev, dy, dh_partial = loss_and_partials(p, x, target, mask, lam)
    g = trace_gradients(p, x, a, h_prev, dh_partial)
    g["w_out"] = np.einsum("bto,btn->on", dy, h)
    g["b_out"] = dy.sum((0, 1))
    return g


def factorised_bptt_gradients(p, x, target, mask, lam):
    """The same factorisation fed with the total learning signal: equals the exact gradient (e-prop paper eq. 1).

    The initial state's extra path (h_{-1} = f(a0) entering W_rec at t = 0) is added by hand.
    """
    _, a, h, h_prev, dy, dh_partial = loss_and_partials(p, x, target, mask, lam)
    total = total_learning_signal(p, a, dh_partial)
    g = trace_gradients(p, x, a, h_prev, total)
    # a0 also drives the first step through h_{-1} = f(a0): dE/da0 += f'(a0) * α W_rec^T dE/da_0
    alpha = p["alpha"]
    grad_a_first = np.zeros_like(a[:, 0])
    for t in range(a.shape[1] - 1, -1, -1):
        grad_a_first = total[:, t] * retanh_grad(a[:, t]) + (1 - alpha) * grad_a_first
    g["a0"] = g["a0"] + (alpha * grad_a_first @ p["w_rec"] * retanh_grad(p["a0"])).sum(0)
    g["w_out"] = np.einsum("bto,btn->on", dy, h)
    g["b_out"] = dy.sum((0, 1))
    return g
