"""The interface every learning rule implements."""

from __future__ import annotations

import torch


class LearningRule:
    """Base class: exact gradients everywhere (the behaviour of BPTT). Subclasses override one hook or both."""

    name = "base"

    def cuts_recurrence(self, t: int, n_steps: int) -> bool:
        """True where the recurrent drive at step ``t`` sees a detached ``h_{t-1}`` (no credit through ``W_rec``)."""
        return False

    def recurrent_input(self, h_prev: torch.Tensor, t: int, n_steps: int) -> torch.Tensor:
        """What the recurrent drive at step ``t`` sees of the previous rates (forward value is ``h_prev``)."""
        return h_prev.detach() if self.cuts_recurrence(t, n_steps) else h_prev

    def readout(self, h: torch.Tensor, w_out: torch.Tensor, b_out: torch.Tensor) -> torch.Tensor:
        """Outputs ``y = W_out h + b_out``; the backward pass may use another feedback matrix."""
        return torch.nn.functional.linear(h, w_out, b_out)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
