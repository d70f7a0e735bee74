"""Multidigraph learning, MDGL (Liu, Smith, Mihalas, Shea-Brown & Sümbül 2021, PNAS 118(51)), for the leaky rate RNN.

**Exact gradient (Bellec et al. 2020, eq. 1).** ``dE/dW_ji = Σ_t L*_{j,t} e_{ji,t}`` with the e-prop eligibility
trace ``e_{ji,t} = f'(a_{j,t}) ε_{ji,t}``, ``ε_{ji,t} = (1-α) ε_{ji,t-1} + α h_{i,t-1}``, and the *total* learning
signal given by the adjoint recursion of our model::

    L*_t = ∂E/∂h_t + α W_recᵀ δ_{t+1},      δ_{t+1} = f'(a_{t+1}) ⊙ L*_{t+1} + (1-α) δ_{t+2}

e-prop keeps ``L_t = ∂E/∂h_t`` (the partial derivative: readout and activity penalty). MDGL adds the paths that
leave unit ``j`` through exactly one synapse and act at the very next step: expanding ``δ_{t+1}`` and keeping its
first term with the partial signal only,

    L^MDGL_t = ∂E/∂h_t + α W_recᵀ ( f'(a_{t+1}) ⊙ ∂E/∂h_{t+1} )        (no such term at t = T-1)

Dropped are the paths with two or more recurrent synapses (``L*_{t+1} - ∂E/∂h_{t+1}``) and the one-synapse paths
that act later through the receiving unit's own leak (``(1-α) δ_{t+2}``). This is the ModProp code's
``MDGL_output`` (its ``(1 - decay)`` is our ``α``): ``dE/dz_t = ∂E/∂z_t + a_{t+1} W_ab`` with
``a_{t+1} = ∂E/∂z_{t+1} ψ_{t+1} (1-decay)``; with cell-specific (not cell-type averaged) weights ``W_ab = W_rec``.
The update combines it with the e-prop traces: ``ΔW_ji ∝ Σ_t L^MDGL_{j,t} f'(a_{j,t}) ε_{ji,t}`` (``W_in``: ε with
``x``; ``b``: with 1); ``W_out``, ``b_out`` exact. The learned initial state is treated as the rate of step -1,
``h_{-1} = f(a0)``: ``dE/da0 ≈ Σ_{t≥0} (1-α)^{t+1} f'(a_t) L^MDGL_t + f'(a0) α W_recᵀ (f'(a_0) ⊙ ∂E/∂h_0)``.

**Implementation.** The recurrence is cut at every step (as e-prop) and ``one_step_credit = True`` makes the
backward carry ``α W_recᵀ (g_t ⊙ f'(a_t))`` from ``h_t`` to ``h_{t-1}``, where ``g_t`` is the partial gradient at
``h_t`` — one recurrent matrix product per step, the cost of BPTT. The reference loop does the same with a
zero-valued shadow term (see :func:`biocredit.model.recurrence`). Tested against an explicit-trace oracle.
"""

from __future__ import annotations

from biocredit.learning.base import LearningRule


class MDGL(LearningRule):
    """e-prop traces with the learning signal extended by one step of non-local credit through ``W_rec``."""

    name = "mdgl"
    one_step_credit = True

    def cuts_recurrence(self, t: int, n_steps: int) -> bool:
        return True
