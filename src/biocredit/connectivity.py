"""Structural constraints on the recurrent weights: Dale's law and sparse connectivity.

Both act through an *effective* weight matrix that the recurrence uses, so every learning rule and every
Hessian sees the constraint (the parameters themselves stay unconstrained):

- **Dale's law** (as the authors' ``--dale_constraint``): a fraction ``frac_exc`` (80 %) of the units is excitatory.
  ``W_eff = |W| · diag(s)`` with ``s_j = +1`` for excitatory and ``−1`` for inhibitory *presynaptic* units, so
  each unit's outgoing weights keep one sign throughout training. At initialisation the excitatory columns are
  divided by 4 so that, with four times as many excitatory as inhibitory units, excitation and inhibition balance
  on average. No autapses.
- **Sparsity** (``--conn_density p``): a fixed Bernoulli(p) mask; the initial weights are scaled by ``1/√p`` so
  the spectral radius does not shrink with the density. Masked entries stay exactly zero (their gradient is 0).

The authors' extra block-sparse cell-type initialisation for ReLU with Dale's law is not reproduced.
"""

from __future__ import annotations

import math

import torch

__all__ = ["dale_signs", "sparsity_mask", "effective_weights", "constrain_initial_weights"]


def dale_signs(n: int, frac_exc: float = 0.8) -> torch.Tensor:
    """``+1`` for the first ``round(frac_exc·n)`` (excitatory) units, ``−1`` for the rest."""
    if not 0 < frac_exc < 1:
        raise ValueError(f"frac_exc must lie in (0, 1), got {frac_exc}")
    n_exc = int(round(frac_exc * n))
    return torch.cat([torch.ones(n_exc), -torch.ones(n - n_exc)])


def sparsity_mask(n: int, density: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """A fixed Bernoulli(``density``) connectivity mask (float 0/1)."""
    if not 0 < density <= 1:
        raise ValueError(f"density must lie in (0, 1], got {density}")
    if density == 1:
        return torch.ones(n, n)
    return (torch.rand(n, n, generator=generator) < density).float()


def constrain_initial_weights(
    w: torch.Tensor, signs: torch.Tensor | None, mask: torch.Tensor | None, density: float = 1.0
) -> torch.Tensor:
    """Initial parameter values consistent with the constraints (see the module docstring)."""
    w = w.clone()
    if density < 1:
        w = w / math.sqrt(density)
    if signs is not None:
        w = w.abs()
        w[:, signs > 0] /= 4
    if mask is not None:
        w = w * mask
    return w


def effective_weights(w: torch.Tensor, signs: torch.Tensor | None = None, mask: torch.Tensor | None = None):
    """The weights the recurrence uses: ``|W|·diag(signs)`` under Dale's law, times the fixed mask if any."""
    if signs is not None:
        w = w.abs() * signs.to(w.dtype)
    if mask is not None:
        w = w * mask.to(w.dtype)
    return w
