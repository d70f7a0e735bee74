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
    return _with_a0_and_readout(p, g, a, h, dy, total)


def _with_a0_and_readout(p, g, a, h, dy, total):
    """Complete trace gradients ``g``: a0 also drives the first step through h_{-1} = f(a0), so
    dE/da0 += f'(a0) · α W_recᵀ dE/da_0 (dE/da_t by its own backward loop over ``total``); the readout's gradients
    come from the output error ``dy``."""
    alpha = p["alpha"]
    grad_a_first = np.zeros_like(a[:, 0])
    for t in range(a.shape[1] - 1, -1, -1):
        grad_a_first = total[:, t] * retanh_grad(a[:, t]) + (1 - alpha) * grad_a_first
    g["a0"] = g["a0"] + (alpha * grad_a_first @ p["w_rec"] * retanh_grad(p["a0"])).sum(0)
    g["w_out"] = np.einsum("bto,btn->on", dy, h)
    g["b_out"] = dy.sum((0, 1))
    return g


# ---------------------------------------------------------------------------------------------------------------
# Oracles for the rule zoo: truncated BPTT, random feedback (e-prop, RFLO), MDGL. Same equations, no library code.
# ---------------------------------------------------------------------------------------------------------------


def tbptt_cuts(n_steps, window):
    """Steps t whose recurrent drive sees h_{t-1} detached: windows of ``window`` steps counted from the trial end."""
    return [(n_steps - t) % window == 0 for t in range(n_steps)]


def cut_learning_signal(p, a, dh_partial, cut):
    """dE/dh_t with the W_rec path into a_t removed wherever cut[t]; also δ_0 = dE/da_0 (for a0's extra path)."""
    alpha = p["alpha"]
    batch, n_steps, n = a.shape
    signal = np.zeros_like(dh_partial)
    delta_next = np.zeros((batch, n))  # δ_{t+1} = dE/da_{t+1}
    for t in range(n_steps - 1, -1, -1):
        through_w = t + 1 < n_steps and not cut[t + 1]
        signal[:, t] = dh_partial[:, t] + (alpha * delta_next @ p["w_rec"] if through_w else 0.0)
        delta_next = signal[:, t] * retanh_grad(a[:, t]) + (1 - alpha) * delta_next
    return signal, delta_next


def tbptt_gradients(p, x, target, mask, lam, window):
    """Truncated BPTT (Williams & Zipser 1990): truncated total learning signal × eligibility traces.

    ``window`` is the number of steps per window; cuts counted from the trial end (``tbptt_cuts``). A cut at t = 0
    also removes a0's path through h_{-1} = f(a0) and W_rec.
    """
    _, a, h, h_prev, dy, dh_partial = loss_and_partials(p, x, target, mask, lam)
    cut = tbptt_cuts(a.shape[1], window)
    signal, delta_first = cut_learning_signal(p, a, dh_partial, cut)
    g = trace_gradients(p, x, a, h_prev, signal)
    if not cut[0]:
        g["a0"] = g["a0"] + (p["alpha"] * delta_first @ p["w_rec"] * retanh_grad(p["a0"])).sum(0)
    g["w_out"] = np.einsum("bto,btn->on", dy, h)
    g["b_out"] = dy.sum((0, 1))
    return g


def eprop_random_gradients(p, x, target, mask, lam, feedback):
    """Random e-prop: learning signal Bᵀ ∂E/∂y_t + ∂(λ mean h²)/∂h_t (exact), e-prop traces; readout exact."""
    _, a, h, h_prev, dy, _ = loss_and_partials(p, x, target, mask, lam)
    signal = dy @ feedback + 2 * lam * h / h.size
    g = trace_gradients(p, x, a, h_prev, signal)
    g["w_out"] = np.einsum("bto,btn->on", dy, h)
    g["b_out"] = dy.sum((0, 1))
    return g


def rflo_gradients(p, x, target, mask, feedback):
    """RFLO (Murray 2019) for a_t = (1-α) a_{t-1} + α(W h_{t-1} + U x_t + b), h_t = f(a_t), run fully online.

    One forward pass; at each step the output error err_t = ∂E_task/∂y_t is fed back through B and multiplied by
    the per-synapse trace p_ij,t = f'(a_i,t) ε_ij,t with ε_ij,t = (1-α) ε_ij,t-1 + α h_j,t-1 (the RTRL sensitivity
    ∂h_i,t/∂W_ij without its non-local W term). The activity penalty is not part of the learning signal, so no
    ``lam`` argument. W_out and b_out learn from err_t h_tᵀ and err_t.
    """
    alpha = p["alpha"]
    batch, n_steps, n_in = x.shape
    n = p["w_rec"].shape[0]
    denom = mask.sum() * p["w_out"].shape[0]
    a = np.broadcast_to(p["a0"], (batch, n)).copy()
    h = retanh(a)
    eps_rec = np.zeros((batch, n, n))
    eps_in = np.zeros((batch, n, n_in))
    eps_b = np.zeros((batch, n))
    eps_a0 = np.ones((batch, n))
    g = {k: np.zeros_like(p[k]) for k in ("w_rec", "w_in", "b", "a0", "w_out", "b_out")}
    for t in range(n_steps):
        h_prev = h
        a = (1 - alpha) * a + alpha * (h_prev @ p["w_rec"].T + x[:, t] @ p["w_in"].T + p["b"])
        h = retanh(a)
        eps_rec = (1 - alpha) * eps_rec + alpha * h_prev[:, None, :]
        eps_in = (1 - alpha) * eps_in + alpha * x[:, t][:, None, :]
        eps_b = (1 - alpha) * eps_b + alpha
        eps_a0 = (1 - alpha) * eps_a0
        y = h @ p["w_out"].T + p["b_out"]
        err = 2 * (y - target[:, t]) * mask[:, t, None] / denom  # ∂E_task/∂y_t
        fb = err @ feedback  # (Bᵀ err_t)_i, the random-feedback learning signal
        psi = retanh_grad(a)
        g["w_rec"] += np.einsum("bi,bij->ij", fb, psi[:, :, None] * eps_rec)  # Σ_b (Bᵀerr)_i p_ij
        g["w_in"] += np.einsum("bi,bij->ij", fb, psi[:, :, None] * eps_in)
        g["b"] += (fb * psi * eps_b).sum(0)
        g["a0"] += (fb * psi * eps_a0).sum(0)
        g["w_out"] += err.T @ h
        g["b_out"] += err.sum(0)
    return g


def mdgl_gradients(p, x, target, mask, lam):
    """MDGL (Liu et al. 2021): L_t = ∂E/∂h_t + α W_recᵀ(f'(a_{t+1}) ⊙ ∂E/∂h_{t+1}) × e-prop traces.

    The initial state is the rate of step -1: a0 also gets f'(a0) ⊙ α W_recᵀ(f'(a_0) ⊙ ∂E/∂h_0).
    """
    alpha = p["alpha"]
    _, a, h, h_prev, dy, dh_partial = loss_and_partials(p, x, target, mask, lam)
    modulated = dh_partial * retanh_grad(a)  # f'(a_t) ⊙ ∂E/∂h_t
    one_step = alpha * modulated @ p["w_rec"]  # what step t sends to the units it hears from, at step t-1
    signal = dh_partial.copy()
    signal[:, :-1] += one_step[:, 1:]
    g = trace_gradients(p, x, a, h_prev, signal)
    g["a0"] = g["a0"] + (one_step[:, 0] * retanh_grad(p["a0"])).sum(0)
    g["w_out"] = np.einsum("bto,btn->on", dy, h)
    g["b_out"] = dy.sum((0, 1))
    return g


def bptt_random_gradients(p, x, target, mask, lam, feedback):
    """BPTT with random readout feedback: the exact adjoint recursion fed with Bᵀ ∂E/∂y_t + ∂(λ mean h²)/∂h_t.

    Written as the factorisation of the exact gradient (total learning signal × eligibility traces) with the
    partial signal's readout term sent through ``feedback`` instead of W_out; a0's path through h_{-1} added.
    """
    _, a, h, h_prev, dy, _ = loss_and_partials(p, x, target, mask, lam)
    partial = dy @ feedback + 2 * lam * h / h.size
    total = total_learning_signal(p, a, partial)
    g = trace_gradients(p, x, a, h_prev, total)
    return _with_a0_and_readout(p, g, a, h, dy, total)


def type_averaged(w, types):
    """Cell-type average, by explicit loops: entry (i, j) is the mean of w over (type of i) × (type of j)."""
    n = w.shape[0]
    out = np.zeros_like(w)
    for i in range(n):
        for j in range(n):
            rows = [k for k in range(n) if types[k] == types[i]]
            cols = [k for k in range(n) if types[k] == types[j]]
            out[i, j] = np.mean([w[r, c] for r in rows for c in cols])
    return out


def modprop_gradients(p, x, target, mask, lam, mu, types, signs):
    """ModProp (the authors' learning_mode 2) for ReLU units with Dale's law, written out step by step.

    ``p["w_rec"]`` is the raw parameter; the network uses W = |w_rec| · diag(signs) with a zero diagonal. The
    backward recursion, unit by unit (loops, no matrix library beyond sums):

        δ_{t,i} = 1[a_{t,i} > 0] g_{t,i} + (1-α) δ_{t+1,i} + μ α Σ_k Wab[k, i] δ_{t+1,k}

    with Wab the cell-type average of W; gradients ΔW_eff[i, j] = Σ_t α δ_{t,i} h_{t-1,j} (h_{-1} = relu(a0)),
    mapped to the raw parameter through W_eff = |w| s_j (off the diagonal); a0 gets (1-α) δ_0 + μ α Wabᵀ δ_0.
    """
    alpha = p["alpha"]
    n = p["w_rec"].shape[0]
    sign_mat = np.ones((n, n)) * signs[None, :]
    np.fill_diagonal(sign_mat, 0.0)
    w_eff = np.abs(p["w_rec"]) * sign_mat
    wab = type_averaged(w_eff, types)
    batch, n_steps, _ = x.shape
    # forward (ReLU)
    a = np.broadcast_to(p["a0"], (batch, n)).copy()
    h = np.maximum(a, 0)
    a_all, h_all, h_prev_all = (np.zeros((batch, n_steps, n)) for _ in range(3))
    for t in range(n_steps):
        h_prev_all[:, t] = h
        a = (1 - alpha) * a + alpha * (h @ w_eff.T + x[:, t] @ p["w_in"].T + p["b"])
        h = np.maximum(a, 0)
        a_all[:, t], h_all[:, t] = a, h
    y = h_all @ p["w_out"].T + p["b_out"]
    m = mask[..., None]
    denom = mask.sum() * y.shape[-1]
    dy = 2 * (y - target) * m / denom
    g_part = dy @ p["w_out"] + 2 * lam * h_all / h_all.size
    # backward, one unit at a time
    delta = np.zeros((batch, n_steps + 1, n))  # delta[:, T] = 0
    for t in range(n_steps - 1, -1, -1):
        for b in range(batch):
            for i in range(n):
                back = sum(wab[k, i] * delta[b, t + 1, k] for k in range(n))
                delta[b, t, i] = ((a_all[b, t, i] > 0) * g_part[b, t, i] + (1 - alpha) * delta[b, t + 1, i]
                                  + mu * alpha * back)
    d = delta[:, :n_steps]
    g_eff = alpha * np.einsum("bti,btj->ij", d, h_prev_all)
    g = {
        "w_rec": g_eff * np.sign(p["w_rec"]) * sign_mat,
        "w_in": alpha * np.einsum("bti,btk->ik", d, x),
        "b": alpha * d.sum((0, 1)),
        "a0": ((1 - alpha) * d[:, 0] + mu * alpha * d[:, 0] @ wab).sum(0),
        "w_out": np.einsum("bto,btn->on", dy, h_all),
        "b_out": dy.sum((0, 1)),
    }
    return g
