"""BPTT with random readout feedback (the authors' study-A ``learning_mode −2``; feedback alignment at the output).

The exact adjoint recursion through every recurrent path (as :mod:`biocredit.learning.bptt`), except that the output
error reaches the units through a fixed random matrix ``B`` instead of ``W_outᵀ``::

    g_t = Bᵀ ∂E/∂y_t + ∂E_act/∂h_t                 (activity-penalty term exact: it never passes the readout)
    δ_t = f'(a_t) ⊙ (g_t + α W_recᵀ δ_{t+1}) + (1 - α) δ_{t+1}
    dE/dW_out, dE/db_out exact

``B`` has the shape of ``W_out`` with entries ``U(±1/√N)`` (the authors' ``W_fb``), fixed for the run and drawn
from a seeded generator (:class:`~biocredit.learning.feedback.RandomFeedbackRule`; the workflow seeds it with the
run's seed). It isolates the cost of the random readout feedback from that of cutting the recurrence: compare with
``bptt`` (same recursion, true feedback) and ``eprop_random`` (same feedback, recurrence cut).
"""

from __future__ import annotations

from biocredit.learning.feedback import RandomFeedbackRule


class BPTTRandomFeedback(RandomFeedbackRule):
    """BPTT whose output error is fed back through a fixed random matrix ``B`` instead of ``W_outᵀ``."""

    name = "bptt_random"

    def cuts_recurrence(self, t: int, n_steps: int) -> bool:
        return False
