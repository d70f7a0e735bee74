"""ModProp (Liu, Ghosh, Richards, Shea-Brown & Lajoie; the authors' study-A ``learning_mode 2``), for ReLU units
with Dale's law.

The exact adjoint recursion of :mod:`biocredit.model` is::

    δ_t = f'(a_t) ⊙ (g_t + α W_recᵀ δ_{t+1}) + (1 - α) δ_{t+1}        g_t = ∂E/∂h_t (readout, activity penalty)

ModProp keeps every path of BPTT but makes the non-local one cheap to signal: where credit passes back through a
recurrent synapse, (i) the activation derivative of the presynaptic unit is replaced by a constant ``μ`` (the
authors' 0.2) and (ii) the synapse-specific ``W_rec`` is replaced by its cell-type average ``W_ab`` (the mean of
``W_rec`` over each (post type, pre type) block; with one type per unit it is ``W_rec`` itself)::

    δ_t = f'(a_t) ⊙ g_t + μ α W_abᵀ δ_{t+1} + (1 - α) δ_{t+1}
    ΔW_rec ∝ Σ_t α δ_t h_{t-1}ᵀ,   ΔW_in ∝ Σ_t α δ_t x_tᵀ,   Δb ∝ Σ_t α δ_t
    Δa0 ∝ (1 - α) δ_0 + μ α W_abᵀ δ_0                                    (h_{-1} = f(a0) enters W_rec at t = 0)

and ``W_out``, ``b_out`` exact. This is what the authors' code does: the rate that feeds the recurrent drive is
computed by a ReLU whose backward returns ``μ`` times the incoming gradient (not gated by ``a > 0``), and the
recurrent product's backward sends ``grad · W_ab`` to that rate while ``W_rec`` gets its usual ``gradᵀ h``; the
rate that the readout and the activity penalty see is an ordinary ReLU (exact ``f'``).

**Cell types.** Under Dale's law our first ``round(0.8 N)`` units are excitatory and the rest inhibitory
(:func:`biocredit.connectivity.dale_signs`). ModProp splits each population into ``n_types_exc`` and
``n_types_inh`` contiguous types of (almost) equal size — the authors use 8 and 8, the last type of a population
taking the remainder; here sizes differ by at most one (``numpy.array_split``), and a population smaller than its
number of types gets one type per unit. ``W_ab`` averages the *effective* weights (``|W|·signs``, zero diagonal,
any sparsity mask: absent synapses count as zeros, as in the authors' code).

**Decision: ``W_ab`` follows the weights.** The authors compute ``W_ab`` once, from the initial weights, and keep
it for the run. We recompute it from the current weights at every forward pass (the cell-type average of the
network being trained, as the ModProp derivation assumes): it needs no state that a restart from a checkpoint would
have to restore, and costs one ``N × N`` average per update.

Constraints: the network must use ReLU units and Dale's law (as the authors' assertion); the config validation
(:func:`biocredit.learning.check_rule_arch`) and :meth:`ModProp.credit_matrix` refuse others, naming why.
Tested against an explicit NumPy implementation (``tests/reference_rnn.py``) on both recurrence paths.
"""

from __future__ import annotations

import numpy as np
import torch

from biocredit.learning.base import LearningRule


def constraint_violations(activation: str, dale: bool) -> list[str]:
    """Why an architecture (its ``activation`` and ``dale`` flag) cannot be trained with ModProp (empty: it can)."""
    why = []
    if activation != "relu":
        why.append(f"ModProp needs ReLU units (its constant derivative μ stands in for ReLU's), got activation "
                   f"{activation!r}")
    if not dale:
        why.append("ModProp needs Dale's law (dale: true): its cell types are the excitatory and inhibitory "
                   "populations split further")
    return why


def cell_types(signs: torch.Tensor, n_types_exc: int, n_types_inh: int) -> torch.Tensor:
    """Type index per unit (long): contiguous, near-equal splits of the excitatory (``signs > 0``) then the
    inhibitory units. Excitatory units must come first (as :func:`~biocredit.connectivity.dale_signs` lays them)."""
    s = signs.detach().cpu().numpy()
    exc = np.flatnonzero(s > 0)
    inh = np.flatnonzero(s <= 0)
    if len(exc) and len(inh) and exc.max() > inh.min():
        raise ValueError("cell_types expects the excitatory units first, then the inhibitory ones")
    labels = np.empty(len(s), dtype=np.int64)
    next_type = 0
    for units, k in ((exc, n_types_exc), (inh, n_types_inh)):
        for block in np.array_split(units, min(k, len(units))) if len(units) else []:
            labels[block] = next_type
            next_type += 1
    return torch.from_numpy(labels)


def type_average(w: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
    """``W_ab``: every entry of ``w`` (post, pre) replaced by the mean of its (post type, pre type) block."""
    onehot = torch.nn.functional.one_hot(types.to(w.device)).to(w.dtype)  # (N, K)
    counts = onehot.sum(0)
    block_mean = (onehot.t() @ w @ onehot) / torch.outer(counts, counts)  # (K, K)
    return onehot @ block_mean @ onehot.t()


class ModProp(LearningRule):
    """BPTT's recursion with a constant activation derivative ``mu`` and the cell-type-averaged ``W_rec`` on the
    recurrent credit path (see the module docstring). ReLU units with Dale's law only."""

    name = "modprop"

    def __init__(self, mu: float = 0.2, n_types_exc: int = 8, n_types_inh: int = 8) -> None:
        if isinstance(mu, bool) or not isinstance(mu, (int, float)) or not np.isfinite(mu) or mu <= 0:
            raise ValueError(f"modprop mu must be a positive number, got {mu!r}")
        for key, k in (("n_types_exc", n_types_exc), ("n_types_inh", n_types_inh)):
            if isinstance(k, bool) or not isinstance(k, int) or k < 1:
                raise ValueError(f"modprop {key} must be a positive integer, got {k!r}")
        self.mu = float(mu)
        self.n_types_exc = n_types_exc
        self.n_types_inh = n_types_inh

    @property
    def recurrent_credit_gain(self) -> float:
        return self.mu

    def credit_matrix(self, model) -> torch.Tensor:
        why = constraint_violations(model.config.activation, model.dale_signs is not None)
        if why:
            raise ValueError("; ".join(why))
        types = cell_types(model.dale_signs, self.n_types_exc, self.n_types_inh)
        with torch.no_grad():
            return type_average(model.effective_w_rec().detach(), types)

    def __repr__(self) -> str:
        return f"ModProp(mu={self.mu}, n_types_exc={self.n_types_exc}, n_types_inh={self.n_types_inh})"
