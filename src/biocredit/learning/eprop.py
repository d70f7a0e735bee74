"""e-prop with symmetric readout feedback (Bellec et al. 2020), for leaky rate units.

For the rate RNN of :mod:`biocredit.model`, e-prop's update of a recurrent weight is::

    dE/dW_ji  ≈  Σ_t  L_{j,t} · e_{ji,t}
    L_{j,t}   =  ∂E/∂h_{j,t}                      (partial: through the readout and the activity penalty only)
    e_{ji,t}  =  f'(a_{j,t}) · ε_{ji,t}             (eligibility trace)
    ε_{ji,t}  =  (1 - α) ε_{ji,t-1} + α h_{i,t-1}   (eligibility vector; for W_in use x_{i,t})

It drops the non-local term of the exact gradient (paths that leave unit j through W_rec and come back) and
keeps the local leak. Detaching ``h_{t-1}`` in the recurrent drive gives exactly this in autograd: the only
remaining path from ``W_rec`` to the loss runs through ``a_{j,t}``'s own leak chain and ``h_{j,t}``'s direct
effect on the loss. The tests check this against an explicit trace implementation.
"""

from __future__ import annotations

from biocredit.learning.base import LearningRule


class EProp(LearningRule):
    """e-prop, symmetric feedback (the learning signal uses the true ``W_out``)."""

    name = "eprop"

    def cuts_recurrence(self, t: int, n_steps: int) -> bool:
        return True
