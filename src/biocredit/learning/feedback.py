"""Random readout feedback ("feedback alignment" at the output), shared by ``eprop_random`` and ``rflo``.

The readout keeps its forward value ``y_t = W_out h_t + b_out``; in the backward the error reaches the units
through a fixed random matrix ``B`` (same shape as ``W_out``, entries ``U(-1/√N, 1/√N)`` like ``W_out``'s
initialisation; the authors' ``W_fb``) instead of ``W_out``::

    ∂E/∂h_t  ->  Bᵀ ∂E/∂y_t          (grad_h = grad_y @ B)
    ∂E/∂W_out = Σ_t ∂E/∂y_t h_tᵀ,   ∂E/∂b_out = Σ_t ∂E/∂y_t      (exact)

Loss terms on the rates themselves (the activity penalty) do not pass through the readout, so for
``eprop_random`` their gradient stays exact. Bellec et al. 2020 call e-prop with this feedback "random e-prop";
Murray 2019 uses the same feedback in RFLO.
"""

from __future__ import annotations

import math

import torch

from biocredit.learning.base import LearningRule


class _FeedbackReadout(torch.autograd.Function):
    """``y = W_out h + b_out``; backward sends ``grad_y @ B`` to ``h`` and exact gradients to ``W_out``, ``b_out``."""

    @staticmethod
    def forward(ctx, h, w_out, b_out, feedback):
        ctx.save_for_backward(h, feedback)
        return torch.nn.functional.linear(h, w_out, b_out)

    @staticmethod
    def backward(ctx, grad_y):
        h, feedback = ctx.saved_tensors
        grad_h = grad_y @ feedback if ctx.needs_input_grad[0] else None
        flat_grad_y = grad_y.reshape(-1, grad_y.shape[-1])
        grad_w = flat_grad_y.t() @ h.reshape(-1, h.shape[-1]) if ctx.needs_input_grad[1] else None
        grad_b = flat_grad_y.sum(0) if ctx.needs_input_grad[2] else None
        return grad_h, grad_w, grad_b, None


def feedback_readout(h: torch.Tensor, w_out: torch.Tensor, b_out: torch.Tensor | None,
                     feedback: torch.Tensor) -> torch.Tensor:
    """``W_out h + b_out`` whose backward uses ``feedback`` (shape of ``W_out``) in place of ``W_out`` for ``h``."""
    if feedback.shape != w_out.shape:
        raise ValueError(f"feedback matrix has shape {tuple(feedback.shape)}, W_out {tuple(w_out.shape)}")
    return _FeedbackReadout.apply(h, w_out, b_out, feedback.to(dtype=h.dtype, device=h.device))


def draw_feedback(n_hidden: int, n_out: int, generator: torch.Generator) -> torch.Tensor:
    """``B ~ U(-1/√N, 1/√N)`` of shape ``(n_out, n_hidden)``, float64 on the CPU, drawn from ``generator``."""
    bound = 1.0 / math.sqrt(n_hidden)
    return (torch.rand(n_out, n_hidden, generator=generator, dtype=torch.float64) * 2 - 1) * bound


class RandomFeedbackRule(LearningRule):
    """Base for rules whose readout sends errors back through a fixed random matrix ``B`` (see module docstring).

    ``B`` is drawn from ``generator`` if given, else from ``torch.Generator().manual_seed(seed)`` — so the same
    seed always gives the same ``B``, also after a restart. With ``n_hidden`` and ``n_out`` it is drawn at
    construction, otherwise lazily at the first forward pass (with the shape of ``W_out``); a later network of
    another shape is an error. The master copy is float64 on the CPU; each forward pass uses it cast to the
    rates' dtype and device (cached).
    """

    def __init__(self, seed: int = 0, n_hidden: int | None = None, n_out: int | None = None,
                 generator: torch.Generator | None = None) -> None:
        if (n_hidden is None) != (n_out is None):
            raise ValueError("give both n_hidden and n_out (to draw B now) or neither (to draw it at first use)")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"seed must be an integer, got {seed!r}")
        self.seed = seed
        self._generator = generator
        self._feedback: torch.Tensor | None = None
        self._cast: dict[tuple[torch.dtype, torch.device], torch.Tensor] = {}
        if n_hidden is not None:
            self.feedback_matrix(n_hidden, n_out)

    def feedback_matrix(self, n_hidden: int, n_out: int) -> torch.Tensor:
        """The fixed feedback matrix ``B`` (n_out, n_hidden), float64; drawn on the first call."""
        if self._feedback is None:
            if n_hidden < 1 or n_out < 1:
                raise ValueError(f"n_hidden and n_out must be positive, got {n_hidden}, {n_out}")
            generator = self._generator or torch.Generator().manual_seed(self.seed)
            self._feedback = draw_feedback(n_hidden, n_out, generator)
        elif tuple(self._feedback.shape) != (n_out, n_hidden):
            raise ValueError(f"{self!r} holds a feedback matrix of shape {tuple(self._feedback.shape)}, "
                             f"but the network needs ({n_out}, {n_hidden}); use one rule object per network shape")
        return self._feedback

    def readout(self, h: torch.Tensor, w_out: torch.Tensor, b_out: torch.Tensor) -> torch.Tensor:
        master = self.feedback_matrix(w_out.shape[1], w_out.shape[0])
        key = (h.dtype, h.device)
        if key not in self._cast:
            self._cast[key] = master.to(dtype=h.dtype, device=h.device)
        return _FeedbackReadout.apply(h, w_out, b_out, self._cast[key])

    def cuts_recurrence(self, t: int, n_steps: int) -> bool:
        return True

    def __repr__(self) -> str:
        return f"{type(self).__name__}(seed={self.seed})"
