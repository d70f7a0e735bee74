"""Truncated backpropagation through time (Williams & Zipser 1990; "BPTT(h)").

The exact adjoint recursion of :mod:`biocredit.model` is::

    dE/dh_t  =  ∂E/∂h_t  +  [not cut(t+1)] · α W_recᵀ δ_{t+1}
    δ_t      =  dE/da_t  =  f'(a_t) ⊙ dE/dh_t  +  (1 - α) δ_{t+1}
    dE/dW_rec = Σ_t α δ_t h_{t-1}ᵀ,   dE/dW_in = Σ_t α δ_t x_tᵀ,   dE/db = Σ_t α δ_t

Truncation with window ``k`` cuts the recurrent path (``h_{t-1}`` enters ``W_rec h_{t-1}`` detached) at the steps
``t`` with ``(T - t) % k == 0``: windows of ``k`` steps counted from the trial end, as in the authors' code
(``trunc_window=10`` "counted from trial end"). Credit still crosses a window boundary through the local leak
``a_{t-1} -> a_t`` (the same path e-prop keeps), only the non-local ``W_rec`` path is cut. Hence

- ``window = 1`` cuts every step: exactly e-prop (Bellec et al. 2020);
- ``window > T`` cuts nothing: exactly BPTT;
- ``window = T`` (and any ``k`` dividing ``T``) puts a boundary at ``t = 0``: the path from the learned initial
  state through ``h_{-1} = f(a0)`` and ``W_rec`` is cut, so only ``a0``'s gradient differs from BPTT there
  (all other parameters get the exact gradient when ``window >= T``).

The tests check these cases and an explicit adjoint × eligibility-trace oracle.
"""

from __future__ import annotations

from biocredit.learning.base import LearningRule


class TruncatedBPTT(LearningRule):
    """BPTT with the recurrent path cut every ``window`` steps counted from the trial end."""

    name = "tbptt"

    def __init__(self, window: int = 10) -> None:
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise ValueError(f"tbptt window must be a positive integer number of steps, got {window!r}")
        self.window = window

    def cuts_recurrence(self, t: int, n_steps: int) -> bool:
        return (n_steps - t) % self.window == 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}(window={self.window})"
