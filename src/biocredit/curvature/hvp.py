"""Hessian-vector products of a scalar loss by double backward (Pearlmutter 1994).

The gradient ``g = ∇_θ L`` is computed once with ``create_graph=True``; each product is then
``H v = ∇_θ ⟨g, v⟩``, one extra backward pass through the retained graph. This is the recipe of the authors'
code for Liu et al. (NeurIPS 2022; ``tf.gradients(reduce_sum(dWr * stop_gradient(v)), W_rec)``) and of PyHessian
(Yao et al. 2020).

For a :class:`~biocredit.model.RateRNN` the loss must be built with ``fused=False``: the fused recurrence is a
custom autograd Function that is not twice differentiable. :func:`rnn_loss_closure` does that, and it never passes
a learning rule, so the graph is the full, untruncated one (BPTT) whatever rule trained the network — the true
Hessian, as in the authors' separate ``cellH`` with ``custom_mode=0``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from scipy.sparse.linalg import LinearOperator

__all__ = ["HessianOperator", "rnn_loss_closure"]

Vector = np.ndarray | torch.Tensor


class HessianOperator:
    """The Hessian of ``loss_fn()`` with respect to ``params``, as a matrix-free symmetric operator.

    Vectors are flat, of length :attr:`dim`, in the order of ``params`` (each flattened row-major). The products are
    computed in the parameters' dtype (float32 or float64) on their device; :attr:`n_hvp` counts every product
    this operator has done. Pass e.g. ``[model.w_rec]`` for the W_rec block (Liu et al. 2022) or all trainable
    parameters for the full Hessian.
    """

    def __init__(self, loss_fn: Callable[[], torch.Tensor], params: Sequence[torch.Tensor]) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError("params is empty")
        for p in self.params:
            if not p.requires_grad:
                raise ValueError(f"parameter of shape {tuple(p.shape)} does not require grad; leave it out")
        dtypes = {p.dtype for p in self.params}
        if len(dtypes) != 1:
            raise ValueError(f"all params must share one dtype, got {sorted(map(str, dtypes))}")
        self.dtype = self.params[0].dtype
        self.device = self.params[0].device
        self._sizes = [p.numel() for p in self.params]
        self.n_hvp = 0
        loss = loss_fn()
        if loss.dim() != 0:
            raise ValueError(f"loss_fn must return a scalar, got shape {tuple(loss.shape)}")
        self.loss = float(loss.detach())
        grads = torch.autograd.grad(loss, self.params, create_graph=True, allow_unused=True)
        self._grads = [torch.zeros_like(p) if g is None else g for p, g in zip(self.params, grads, strict=True)]

    @property
    def dim(self) -> int:
        """Number of parameters, the side of the Hessian."""
        return sum(self._sizes)

    @property
    def shape(self) -> tuple[int, int]:
        return self.dim, self.dim

    def gradient(self) -> np.ndarray:
        """The flat gradient ``∇L`` at the parameters (float64)."""
        return torch.cat([g.detach().reshape(-1) for g in self._grads]).double().cpu().numpy()

    def _hvp(self, v: torch.Tensor) -> torch.Tensor:
        """``H v`` for a flat tensor ``v`` in the params' dtype and device."""
        chunks = torch.split(v, self._sizes)
        dot = sum((g * c.view_as(g)).sum() for g, c in zip(self._grads, chunks, strict=True))
        self.n_hvp += 1
        if not dot.requires_grad:  # the gradient does not depend on the params: H = 0
            return torch.zeros_like(v)
        hv = torch.autograd.grad(dot, self.params, retain_graph=True, allow_unused=True)
        parts = [(torch.zeros_like(p) if h is None else h).reshape(-1) for p, h in zip(self.params, hv, strict=True)]
        return torch.cat(parts)

    def matvec(self, v: Vector) -> Vector:
        """``H v``. A numpy array comes back as a numpy array (float64 unless ``v`` is another float type), a
        tensor as a tensor of ``v``'s dtype and device."""
        if isinstance(v, torch.Tensor):
            flat = v.detach().reshape(-1).to(device=self.device, dtype=self.dtype)
            self._check(flat.numel())
            return self._hvp(flat).to(device=v.device, dtype=v.dtype)
        arr = np.asarray(v)
        flat = torch.as_tensor(arr.reshape(-1).astype(np.float64), dtype=self.dtype, device=self.device)
        self._check(flat.numel())
        out_dtype = arr.dtype if np.issubdtype(arr.dtype, np.floating) else np.float64
        return self._hvp(flat).detach().cpu().double().numpy().astype(out_dtype, copy=False)

    __matmul__ = matvec

    def _check(self, n: int) -> None:
        if n != self.dim:
            raise ValueError(f"vector has {n} entries, the operator acts on {self.dim}")

    def as_linear_operator(self) -> LinearOperator:
        """A float64 :class:`scipy.sparse.linalg.LinearOperator` (symmetric, so ``rmatvec`` is ``matvec``)."""

        def mv(x: np.ndarray) -> np.ndarray:
            return self.matvec(np.asarray(x, dtype=np.float64).reshape(-1))

        return LinearOperator((self.dim, self.dim), matvec=mv, rmatvec=mv, dtype=np.float64)

    def dense(self) -> np.ndarray:
        """The full Hessian (float64, ``dim × dim``) from ``dim`` products with unit vectors; column ``i`` is
        ``H e_i``. Not symmetrised, so its symmetry is a check. For tests and small nets only."""
        eye = torch.eye(self.dim, dtype=self.dtype, device=self.device)
        cols = [self._hvp(eye[i]).detach().double().cpu() for i in range(self.dim)]
        return torch.stack(cols, dim=1).numpy()


def rnn_loss_closure(
    model: torch.nn.Module,
    x: torch.Tensor,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
) -> Callable[[], torch.Tensor]:
    """A closure ``() -> loss_fn(*model(x, fused=False))`` for :class:`HessianOperator`.

    ``loss_fn(y, h)`` gets the outputs ``y`` and rates ``h`` (batch, time, ·) and returns a scalar (add any L2 term
    there). The model runs its plain autograd loop (``fused=False``, twice differentiable) with the default rule,
    BPTT: the full, untruncated graph, so the result is the true Hessian of the loss even for a network trained by
    a truncated rule (e-prop, RFLO, MDGL, tBPTT), as in Liu et al. (2022).
    """

    def closure() -> torch.Tensor:
        y, h = model(x, fused=False)
        return loss_fn(y, h)

    return closure
