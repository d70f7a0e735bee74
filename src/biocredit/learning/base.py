"""The interface every learning rule implements.

A rule shapes only the backward pass of :meth:`biocredit.model.RateRNN.forward`, through six knobs:

- :meth:`LearningRule.cuts_recurrence` — at which steps ``t`` the recurrent drive sees a detached ``h_{t-1}``;
- :attr:`LearningRule.one_step_credit` — whether a cut step still passes the *partial* learning signal of
  ``h_t`` back one recurrent step (``α W_recᵀ (∂E/∂h_t ⊙ f'(a_t))`` to ``h_{t-1}``) and no further (MDGL);
- :meth:`LearningRule.readout` — ``y = W_out h + b_out``; the backward may use another feedback matrix;
- :attr:`LearningRule.activity_credit` — whether loss terms on the rates themselves (the activity penalty) send
  their gradient into the network (RFLO: no; its learning signal is the fed-back output error alone);
- :meth:`LearningRule.credit_matrix` — the matrix that carries recurrent credit back in place of ``W_rec``
  (``None``: ``W_rec`` itself; ModProp: its cell-type average);
- :attr:`LearningRule.recurrent_credit_gain` — a constant that replaces ``f'(a_{t-1})`` on the recurrent credit
  path only (``None``: the exact derivative; ModProp: μ). The gradient of ``W_rec`` itself keeps its form
  ``Σ_t α δ_t h_{t-1}ᵀ``; see :func:`biocredit.model.recurrence`.
"""

from __future__ import annotations

import torch


class LearningRule:
    """Base class: exact gradients everywhere (the behaviour of BPTT). Subclasses override hooks and flags."""

    name = "base"
    #: Cut steps still carry one recurrent step of the partial learning signal (see the module docstring).
    one_step_credit: bool = False
    #: Loss terms computed from the returned rates (the activity penalty) send credit into the network.
    activity_credit: bool = True
    #: Constant in place of ``f'(a_{t-1})`` where credit passes back through ``W_rec`` (None: the exact ``f'``).
    recurrent_credit_gain: float | None = None

    def __init__(self) -> None:
        """No options; rules with options take them as keywords with defaults (see ``make_rule``)."""

    def cuts_recurrence(self, t: int, n_steps: int) -> bool:
        """True where the recurrent drive at step ``t`` sees a detached ``h_{t-1}`` (no credit through ``W_rec``)."""
        return False

    def recurrent_input(self, h_prev: torch.Tensor, t: int, n_steps: int) -> torch.Tensor:
        """What the recurrent drive at step ``t`` sees of the previous rates (forward value is ``h_prev``)."""
        return h_prev.detach() if self.cuts_recurrence(t, n_steps) else h_prev

    def readout(self, h: torch.Tensor, w_out: torch.Tensor, b_out: torch.Tensor) -> torch.Tensor:
        """Outputs ``y = W_out h + b_out``; the backward pass may use another feedback matrix."""
        return torch.nn.functional.linear(h, w_out, b_out)

    def credit_matrix(self, model) -> torch.Tensor | None:
        """The (post, pre) matrix whose transpose carries recurrent credit back in place of ``W_rec`` for the
        network ``model`` (a :class:`~biocredit.model.RateRNN`), or None for ``W_rec`` itself. Backward only: the
        forward pass always uses ``W_rec``. A rule may raise ``ValueError`` here if ``model`` breaks its
        constraints."""
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
