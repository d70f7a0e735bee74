"""Loss-landscape curvature of RNNs from Hessian-vector products (Liu et al., NeurIPS 2022, §5 of the spec).

- :class:`HessianOperator`: matrix-free Hessian of a loss closure w.r.t. chosen parameters (double backward).
- :func:`rnn_loss_closure`: a loss closure over a :class:`~biocredit.model.RateRNN` on the full, twice
  differentiable graph (``fused=False``, no rule), i.e. the true Hessian whatever rule trained the net.
- :func:`top_eigenvalue_lanczos`, :func:`lanczos`: top eigenvalue by Lanczos / ARPACK.
- :func:`top_eigenvalue_power`: the authors' power iteration (magnitude of the dominant eigenvalue).
- :func:`hutchinson_trace`, :func:`spectral_density`: trace and stochastic-Lanczos-quadrature spectrum.
- :func:`checkpoint_curvature`: all of these for one trained network on a fixed batch (study B's measurement).

Every estimator reports ``n_hvp``, the Hessian-vector products it used.
"""

from biocredit.curvature.checkpoint import checkpoint_curvature, hessian_loss_closure
from biocredit.curvature.eigen import (
    hutchinson_trace,
    lanczos,
    spectral_density,
    top_eigenvalue_lanczos,
    top_eigenvalue_power,
)
from biocredit.curvature.hvp import HessianOperator, rnn_loss_closure

__all__ = [
    "checkpoint_curvature",
    "hessian_loss_closure",
    "HessianOperator",
    "rnn_loss_closure",
    "lanczos",
    "top_eigenvalue_lanczos",
    "top_eigenvalue_power",
    "hutchinson_trace",
    "spectral_density",
]
