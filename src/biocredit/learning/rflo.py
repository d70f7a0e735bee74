"""Random-feedback local online learning, RFLO (Murray 2019, eLife 8:e43299), for this model's parametrisation.

**Murray's rule.** For ``r_t = (1-α) r_{t-1} + α f(u_t)``, ``u_t = W r_{t-1} + U x_t``, ``y_t = W_out r_t`` and the
output-error loss ``L = ½ Σ_t |y*_t - y_t|²``, real-time recurrent learning has
``∂r_t/∂W_ij = (1-α) ∂r_{t-1}/∂W_ij + α f'(u_t) ⊙ (e_i r_{j,t-1} + W ∂r_{t-1}/∂W_ij)``. RFLO drops the non-local
term ``W ∂r_{t-1}/∂W_ij`` and replaces ``W_outᵀ`` by a fixed random ``B``::

    ΔW_ij ∝ Σ_t (Bᵀ ε_t)_i p_ij,t,    p_ij,t = (1-α) p_ij,t-1 + α f'(u_i,t) r_j,t-1,    ε_t = y*_t - y_t

(``q_ij,t`` likewise with ``x_j,t`` for ``U``; ``W_out`` learns with the exact ``ε_t r_tᵀ``).

**The same two steps for our model.** Here the leak acts on the pre-activation: ``a_t = (1-α) a_{t-1} + α (W h_{t-1}
+ U x_t + b)``, ``h_t = f(a_t)``. RTRL reads ``∂h_t/∂W_ij = f'(a_t) ⊙ ∂a_t/∂W_ij`` with ``∂a_t/∂W_ij =
(1-α) ∂a_{t-1}/∂W_ij + α (e_i h_{j,t-1} + W ∂h_{t-1}/∂W_ij)``. Dropping the ``W`` term leaves::

    ∂h_{i,t}/∂W_ij  ≈  p_ij,t  =  f'(a_{i,t}) ε_ij,t,     ε_ij,t = (1-α) ε_ij,t-1 + α h_{j,t-1}

— the filtered quantity is the pre-activation, so ``f'(a_t)`` multiplies the trace when it is read out instead of
sitting inside the filter (in Murray's model the filtered quantity ``r`` is already past the nonlinearity). This
is exactly e-prop's eligibility trace (Bellec et al. 2020), and the output-error part of RFLO **coincides exactly
with random-feedback e-prop** (:mod:`biocredit.learning.eprop_random`) for this model.

**Where they differ, and the decision taken.** RFLO's learning signal is by definition the random projection of
the *output error* alone (Murray's loss has no other term). Our training loss adds an activity penalty
``λ·mean(h²)``, whose gradient e-prop includes in its learning signal ``∂E/∂h_t``. Following the paper's
definition, ``rflo`` does not: ``W_rec``, ``W_in``, ``b`` and ``a0`` are updated with::

    ΔW_ij ∝ Σ_t (Bᵀ ∂E_task/∂y_t)_i f'(a_{i,t}) ε_ij,t          (W_in: ε with x_{j,t}; b: with 1;
                                                              a0: ε_{-1} = 1, no input term)

and ``W_out``, ``b_out`` exactly (the penalty does not touch them). Mechanically, ``rflo`` sets
``activity_credit = False``: the model returns ``h`` detached, so the penalty computed from it sends no gradient.
With ``λ = 0``, ``rflo`` and ``eprop_random`` (same ``B``) are identical — tested, together with an explicit,
online RFLO trace oracle. (Murray does not learn an initial state; ``a0`` gets the same trace treatment here.)
"""

from __future__ import annotations

from biocredit.learning.feedback import RandomFeedbackRule


class RFLO(RandomFeedbackRule):
    """RFLO: e-prop traces, random-feedback output error as the only learning signal (no activity-penalty credit)."""

    name = "rflo"
    activity_credit = False
