"""The curvature of one trained network's loss (study B): the Hessian of ``task loss + ½·wd·(‖W_in‖² + ‖W_rec‖² +
‖W_out‖²)`` on a fixed batch, on the full untruncated graph (``fused=False``, no rule: the true Hessian whatever
rule trained the net), w.r.t. ``W_rec`` as the authors (or all trainable parameters): the top eigenvalue by
Lanczos, the trace by Hutchinson's estimator, and optionally the spectral density by stochastic Lanczos quadrature.
"""

from __future__ import annotations

import math

import torch

from biocredit.curvature.eigen import hutchinson_trace, spectral_density, top_eigenvalue_lanczos
from biocredit.curvature.hvp import HessianOperator, rnn_loss_closure
from biocredit.train import weight_decay_term

__all__ = ["checkpoint_curvature", "hessian_loss_closure"]


def hessian_loss_closure(model, task, batch, weight_decay: float):
    """``() -> task.loss(model(x, fused=False)) + ½·wd·(‖W_in‖² + ‖W_rec‖² + ‖W_out‖²)`` on the full graph."""

    def loss(y: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        return task.loss(y, batch) + weight_decay_term(model, weight_decay)

    return rnn_loss_closure(model, batch.x, loss)


def checkpoint_curvature(
    model,
    task,
    batch,
    *,
    weight_decay: float = 0.0,
    params: str = "w_rec",
    tol: float = 1e-3,
    max_hvp: int = 100,
    trace_samples: int = 20,
    density: bool = False,
    density_iter: int = 30,
    density_vectors: int = 5,
    seed: int = 0,
) -> dict:
    """Curvature of one network's loss on ``batch`` (see the module docstring).

    ``params``: ``"w_rec"`` (the authors' block), ``"all"`` (every trainable parameter) or ``"both"`` (the W_rec
    block for everything, plus the top eigenvalue of the full Hessian as ``lambda_max_all``). Returns
    ``lambda_max``, ``lambda_converged``, ``trace``, ``trace_stderr``, ``loss`` (the value on the batch), ``n_hvp``,
    ``dim``, and with ``density`` the SLQ ``nodes`` and ``weights``.
    """
    if params not in ("w_rec", "all", "both"):
        raise ValueError(f"params must be 'w_rec', 'all' or 'both', got {params!r}")
    closure = hessian_loss_closure(model, task, batch, weight_decay)
    trainable = [p for p in model.parameters() if p.requires_grad]
    op = HessianOperator(closure, trainable if params == "all" else [model.w_rec])
    top = top_eigenvalue_lanczos(op, tol=tol, max_hvp=max_hvp, seed=seed)
    out = {"lambda_max": top["value"], "lambda_converged": bool(top["converged"]), "loss": op.loss, "dim": op.dim}
    if trace_samples:
        tr = hutchinson_trace(op, n_samples=trace_samples, seed=seed + 1)
        out.update(trace=tr["value"], trace_stderr=tr["stderr"])
    else:
        out.update(trace=math.nan, trace_stderr=math.nan)
    if density:
        sd = spectral_density(op, n_iter=min(density_iter, op.dim), n_vectors=density_vectors, seed=seed + 2)
        out.update(nodes=sd["nodes"], weights=sd["weights"])
    if params == "both":
        full = HessianOperator(closure, trainable)
        top_all = top_eigenvalue_lanczos(full, tol=tol, max_hvp=max_hvp, seed=seed)
        out["lambda_max_all"] = top_all["value"]
        out["n_hvp"] = op.n_hvp + full.n_hvp
    else:
        out["n_hvp"] = op.n_hvp
    return out
