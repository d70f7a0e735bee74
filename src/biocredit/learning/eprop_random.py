"""e-prop with random readout feedback ("random e-prop", Bellec et al. 2020), for leaky rate units.

As :mod:`biocredit.learning.eprop` (recurrence cut at every step; traces keep the local leak), but the output
error reaches unit ``j`` through a fixed random matrix ``B`` instead of ``W_outᵀ``::

    dE/dW_ji  ≈  Σ_t  L_{j,t} · f'(a_{j,t}) · ε_{ji,t}
    L_t       =  Bᵀ ∂E/∂y_t  +  ∂E_act/∂h_t          (activity-penalty term exact: it never passes the readout)
    ε_{ji,t}  =  (1 - α) ε_{ji,t-1} + α h_{i,t-1}     (W_in: x_{i,t}; b: 1; a0: ε_{-1} = 1, no input term)
    dE/dW_out, dE/db_out exact

``B`` has the shape of ``W_out`` with entries ``U(±1/√N)`` (the authors' ``W_fb``), fixed for the run and drawn
from a seeded generator (see :class:`~biocredit.learning.feedback.RandomFeedbackRule`).
"""

from __future__ import annotations

from biocredit.learning.feedback import RandomFeedbackRule


class EPropRandom(RandomFeedbackRule):
    """e-prop whose learning signal uses a fixed random feedback matrix ``B`` instead of ``W_outᵀ``."""

    name = "eprop_random"
