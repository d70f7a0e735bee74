"""The leaky rate RNN shared by both studies.

Shapes, once for the whole library: inputs ``x`` are ``(batch, time, n_in)``, rates ``h`` are
``(batch, time, n_hidden)``, outputs ``y`` are ``(batch, time, n_out)``. Weight matrices act on column vectors
(``W_rec`` is ``(post, pre)``), as in the equations below.

Dynamics (Euler step dt = 1 in units of the task's time step, ``alpha = 1 / tau``)::

    a_t = a_{t-1} + alpha * (-a_{t-1} + W_rec h_{t-1} + W_in x_t + b)        t = 0 .. T-1
    h_t = f(a_t)
    y_t = W_out h_t + b_out
    a_{-1} = a0 (learned),  h_{-1} = f(a0)

With ``tau = 1`` this is the leak-free RNN ``h_t = f(W_rec h_{t-1} + W_in x_t + b)`` used for sequential MNIST.

Initialisation (``init``):

- ``"sussillo"`` (default; Liu, Yang & Cueva 2025 code): ``W_in ~ N(0, 1/n_in)``, ``W_rec = g0 * 1.5 * N(0, 1/N)``
  (spectral radius about 1.5 g0), ``W_out ~ U(-1/sqrt(N), 1/sqrt(N))`` (PyTorch's Linear default);
- ``"he"`` (Liu et al. 2022's sequential-MNIST code): He-normal ``W_in ~ N(0, 2/n_in)`` and
  ``W_rec = g0 * N(0, 2/N)`` (the authors' ``randn / sqrt(N/2)``; g0 = 1 there), Glorot-uniform
  ``W_out ~ U(±sqrt(6/(N + n_out)))`` (TensorFlow's ``get_variable`` default);

and ``b = b_out = a0 = 0`` in both. The random draws come in the order ``W_in, W_rec, W_out`` from one generator.

Options of the sMNIST net (Liu et al. 2022): ``no_autapses`` keeps the diagonal of ``W_rec`` at zero (the authors'
``recurrent_disconnect_mask``): the diagonal is zeroed at initialisation and the recurrence uses ``W_rec ⊙ M``
(``M`` = 1 off the diagonal, 0 on it) in both the fused and the reference path, so every gradient — of any rule,
and of any L2 term on ``W_rec``, whose diagonal is then 0 — is zero on the diagonal and no optimiser step moves it.
``learn_bias = False`` fixes the recurrent bias ``b`` at 0 (the authors' cell has none).

Connectivity constraints (Liu, Yang & Cueva 2025's ``--dale_constraint`` and ``--conn_density``; see
:mod:`biocredit.connectivity`): ``dale`` makes a fraction ``frac_exc`` (80 %) of the units excitatory and the rest
inhibitory through ``W_eff = |W_rec| · diag(signs)`` (no autapses), and ``density < 1`` keeps a fixed Bernoulli mask
of connections, drawn from its own generator seeded by ``conn_seed`` (the workflow sets it to the run's seed) so
that the constraint follows from the config alone. The recurrence, every rule and every Hessian use ``W_eff``.

How credit flows backwards is not the model's business: a credit path (:class:`CreditPath`, implemented by every
:class:`~biocredit.learning.LearningRule`; the model imports nothing from :mod:`biocredit.learning`) decides what
the recurrent drive sees of ``h_{t-1}`` (all of it for BPTT, a detached copy for e-prop, …), whether a cut step
still passes the *partial* learning signal one recurrent step back (MDGL), how the readout sends errors back
(random feedback) and whether loss terms on the rates themselves (the activity penalty) send credit (RFLO: no).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Protocol

import torch
from torch import nn

from biocredit import kernel
from biocredit.connectivity import constrain_initial_weights, dale_signs, effective_weights, sparsity_mask

__all__ = [
    "ModelConfig",
    "RateRNN",
    "CreditPath",
    "ExactCredit",
    "ACTIVATIONS",
    "ACTIVATIONS_INTO",
    "INITS",
    "retanh",
    "recurrence",
    "mean_square",
    "model_config",
]


def retanh(x: torch.Tensor) -> torch.Tensor:
    """Rectified tanh, ``max(tanh(x), 0)``: bounded, non-negative rates."""
    return torch.relu(torch.tanh(x))


def _one_minus_square(h: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    return torch.addcmul(h.new_ones(()), h, h, value=-1, out=out)


def _retanh_grad(h: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    # (1 - h²)·[h > 0]; for h >= 0 the indicator is sign(h) (a float op: comparisons to bool are slow on the CPU)
    return _one_minus_square(h, out).mul_(torch.sign(h))


def _tanh_grad(h: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    return _one_minus_square(h, out)


def _relu_grad(h: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    return torch.sign(h, out=out)  # h >= 0: 1 where h > 0, else 0


def _retanh_into(a: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    return torch.tanh(a, out=out).clamp_(min=0)


def _tanh_into(a: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    return torch.tanh(a, out=out)


def _relu_into(a: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    return torch.clamp(a, min=0, out=out)


CONN_SEED_OFFSET = 7_919  # the sparse mask's generator: seeded apart from the weight draws of the same run

ACTIVATIONS = {"retanh": retanh, "tanh": torch.tanh, "relu": torch.relu}
# f'(a) written with h = f(a) alone: for all three, a > 0 exactly when f(a) > 0 (tanh keeps the sign of tiny a), so
# the fused core need not keep the pre-activations. Called on one step's (batch, N) block at a time (optionally into
# ``out``): the block is still in cache, and no whole-(time, batch, N) temporary is made
ACTIVATION_GRADS = {"retanh": _retanh_grad, "tanh": _tanh_grad, "relu": _relu_grad}
# f(a) written into a given tensor (the fused forward fills its time-major output in place)
ACTIVATIONS_INTO = {"retanh": _retanh_into, "tanh": _tanh_into, "relu": _relu_into}


class _FusedRecurrence(torch.autograd.Function):
    """The recurrence ``a_t = (1-α) a_{t-1} + α (W_rec h_{t-1} + drive_t)`` with a hand-written backward.

    Forward runs without building a graph; backward runs the adjoint recursion once, step by step, and forms the
    weight gradient as one matrix product over all (trial, step) pairs. ``cut[t]`` removes the path from
    ``h_{t-1}`` through ``W_rec`` (what a learning rule detaches). With ``one_step`` a cut step still sends
    ``α W_recᵀ (g_t ⊙ f'(a_t))`` to ``h_{t-1}``, where ``g_t`` is the *partial* gradient arriving at ``h_t`` from
    outside the recurrence (readout, activity penalty) — one step of non-local credit that goes no further (MDGL).
    Equal to autograd through :func:`recurrence` with ``fused=False`` (tested), but several times faster; not
    twice differentiable.

    Work per step is kept to the minimum, and no whole-tensor temporary is made: the rates are stored time-major
    (each step one contiguous block, written in place) and returned as a (batch, time, N) view of that storage, so
    that a caller who keeps the time-major layout downstream (:meth:`RateRNN.forward` does) hands back a
    contiguous time-major gradient; only ``h`` is kept and ``f'(a_t)`` is formed from it one step at a time, in
    cache; ``α`` is folded into the weights once; a backward step is ``f'(a_t)`` from ``h_t``, one product with it,
    the leak term and one ``addmm`` (the gradient reaching ``h_{t-1}``: readout/penalty + recurrence); a leak-free
    net (``α = 1``, the sMNIST RNN) skips the leak terms. ``f'`` enters the backward in one place (``f_grad``), and
    so does the matrix that carries credit back through the recurrence (``w_back``).
    """

    @staticmethod
    def forward(ctx, drive, a0, w_rec, alpha, activation, cut, one_step=False, w_credit=None, credit_gain=None):
        f_into = ACTIVATIONS_INTO[activation]
        batch, n_steps, n = drive.shape
        drive_tm = drive.transpose(0, 1)  # (T, B, N); free when the caller built the drive time-major
        if not drive_tm.is_contiguous():
            drive_tm = drive_tm.contiguous()
        leak = alpha != 1
        h_all = drive.new_empty(n_steps, batch, n)
        w_t = (w_rec.t() * alpha) if leak else w_rec.t()
        a = a0.expand(batch, n).contiguous()
        h = ACTIVATIONS[activation](a)
        # per-step views made once (one C call each) instead of two indexing calls per step
        for drive_t, h_t in zip(drive_tm.unbind(0), h_all.unbind(0), strict=True):
            if leak:  # a_t = (1-α) a_{t-1} + α drive_t + h_{t-1} (α W)ᵀ
                a = torch.addmm(drive_t, h, w_t, alpha=1.0, beta=alpha).add_(a, alpha=1 - alpha)
            else:
                a = torch.addmm(drive_t, h, w_t)
            h = f_into(a, h_t)
        return kernel.keep_for_backward(ctx, a0, w_rec, h_all, w_credit, alpha, activation, cut, one_step,
                                        credit_gain)

    @staticmethod
    def backward(ctx, grad_h):
        a0, w_rec, h_all, w_credit = ctx.saved_tensors
        alpha, cut, mu = ctx.alpha, ctx.cut, ctx.credit_gain
        leak = alpha != 1
        n_steps, batch, n = h_all.shape
        grad_h = grad_h.transpose(0, 1)  # (T, B, N); contiguous when the caller kept the time-major layout
        if not grad_h.is_contiguous():
            grad_h = grad_h.contiguous()
        f_grad = ACTIVATION_GRADS[ctx.activation]  # f'(a_t) from h_t, one step at a time
        # what carries credit from a_t back to h_{t-1}: α W_recᵀ. Rule hooks (ModProp): another matrix carries the
        # recurrent credit back, and a constant μ replaces f' on that path (folded into the matrix); the partial
        # signal from outside the recurrence keeps the exact f'(a_t)
        w_back = w_rec if w_credit is None else w_credit
        w_back = w_back * alpha if leak else w_back
        if mu is not None:
            w_back = w_back * mu
        grad_a_all = torch.empty_like(h_all)  # dL/da_t
        gain = torch.empty_like(h_all[0])  # f'(a_t) of the current step
        # per-step views made once (one C call each) instead of several indexing calls per step
        grad_h_t, h_t, grad_a_t = grad_h.unbind(0), h_all.unbind(0), grad_a_all.unbind(0)

        def sent_back(t, grad_a):
            """What step t sends to h_{t-1} through W_rec, as the rows that multiply α W_rec (None: nothing)."""
            if not cut[t]:
                return grad_a
            if ctx.one_step:  # MDGL: only the partial signal at h_t, through f'(a_t) and one step of W_rec
                return grad_h_t[t] * gain
            return None

        def into_a(t, total_h):
            """dL/da_t before the leak term. Exact: f'(a_t)·(g_t + recurrent credit), with total_h the sum; under a
            constant gain total_h is the recurrent credit alone (already times μ) and only g_t meets f'(a_t)."""
            if mu is None:
                return torch.mul(total_h, gain, out=grad_a_t[t])
            return torch.addcmul(total_h, grad_h_t[t], gain, out=grad_a_t[t])

        def into_h(t, rows):
            """total_h of step t-1 (see into_a) from the rows that step t sends back through W_rec."""
            if mu is None:
                return grad_h_t[t - 1] if rows is None else torch.addmm(grad_h_t[t - 1], rows, w_back)
            return torch.zeros_like(grad_h_t[t - 1]) if rows is None else rows @ w_back

        # dL/dh_t: from outside the recurrence, plus through W_rec from a_{t+1}
        total_h = grad_h_t[-1] if mu is None else torch.zeros_like(grad_h_t[-1])
        for t in range(n_steps - 1, -1, -1):
            f_grad(h_t[t], out=gain)
            grad_a = into_a(t, total_h)
            if leak and t < n_steps - 1:
                grad_a.add_(grad_a_t[t + 1], alpha=1 - alpha)
            if t > 0:
                total_h = into_h(t, sent_back(t, grad_a))
        # what reaches the initial state a0 (the step before t = 0): through the leak and through W_rec and f'(a0)
        h0 = ACTIVATIONS[ctx.activation](a0)
        grad_a0 = grad_a.sum(0) * (1 - alpha) if leak else torch.zeros_like(h0)
        rows = sent_back(0, grad_a)
        if rows is not None:
            back = (rows @ w_back).sum(0)
            grad_a0 = grad_a0 + (back * f_grad(h0) if mu is None else back)
        grad_drive = grad_a_all.mul_(alpha) if leak else grad_a_all  # dL/d drive_t = α dL/da_t
        # dL/dW = Σ_t (dL/d drive_t)ᵀ h_{t-1}: one product over the contiguous steps 1..T-1, plus step 0 with h0
        grad_w_rec = grad_drive[1:].reshape(-1, n).t() @ h_all[:-1].reshape(-1, n)
        grad_w_rec.addmm_(grad_drive[0].sum(0, keepdim=True).t(), h0.unsqueeze(0))
        return grad_drive.transpose(0, 1), grad_a0, grad_w_rec, None, None, None, None, None, None


class _MeanSquare(torch.autograd.Function):
    """``mean(h²)`` without a whole-tensor temporary in the forward, and a gradient ``2 h / numel`` laid out like
    ``h`` (for the fused core's time-major rates: time-major, so the core's backward reads it contiguously)."""

    @staticmethod
    def forward(ctx, h):
        ctx.save_for_backward(h)
        flat = h.transpose(0, 1) if h.dim() > 1 and h.transpose(0, 1).is_contiguous() else h.contiguous()
        flat = flat.view(-1)
        return torch.dot(flat, flat) / h.numel()

    @staticmethod
    def backward(ctx, grad):
        (h,) = ctx.saved_tensors
        return h * (grad * (2.0 / h.numel()))


def mean_square(h: torch.Tensor) -> torch.Tensor:
    """``(h**2).mean()`` (the activity penalty's form), computed without copies of ``h``; same value and gradient."""
    return _MeanSquare.apply(h)


def recurrence(drive, a0, w_rec, alpha, activation, cut, fused=True, one_step=False, w_credit=None,
               credit_gain=None):
    """Rates ``h`` (batch, time, N) of the leaky recurrence driven by ``drive`` (batch, time, N).

    ``cut`` is a sequence of bools, one per step: where true, ``h_{t-1}`` enters the recurrent drive detached.
    ``one_step`` (MDGL): a cut step still sends the partial gradient ``g_t`` that reaches ``h_t`` from outside the
    recurrence back to ``h_{t-1}`` as ``α W_recᵀ (g_t ⊙ f'(a_t))``, and no further. ``fused=True`` uses the fast
    hand-written backward (its time loops compiled, :mod:`biocredit.kernel`, where a C++ compiler is present and
    ``BIOCREDIT_KERNEL`` allows; else :class:`_FusedRecurrence`); ``fused=False`` the plain autograd loop
    (reference; supports double backward, needed for Hessian-vector products).

    Backward-only hooks of a rule (ModProp): ``w_credit`` (N, N), if given, carries the recurrent credit back in
    place of ``W_rec`` (``α w_creditᵀ δ_t`` reaches ``h_{t-1}``; the gradient of ``W_rec`` itself stays
    ``Σ_t α δ_t h_{t-1}ᵀ``), and ``credit_gain`` (a number μ), if given, replaces ``f'(a_{t-1})`` on that path only:
    ``δ_{t-1} = f'(a_{t-1}) ⊙ g_{t-1} + μ α w_creditᵀ δ_t + (1-α) δ_t`` (also for ``a0``: ``μ`` in place of
    ``f'(a0)``). Not combined with ``one_step``.
    """
    if credit_gain is not None and one_step:
        raise ValueError("a constant recurrent credit gain (ModProp) is not defined together with one-step credit")
    if w_credit is not None:
        w_credit = w_credit.detach().to(dtype=w_rec.dtype, device=w_rec.device)
    if fused:
        # the compiled step (biocredit.kernel) where it builds and handles the tensors; this Python one otherwise
        core = kernel.CompiledRecurrence if kernel.use_compiled(drive, w_rec) else _FusedRecurrence
        return core.apply(drive, a0, w_rec, alpha, activation, tuple(bool(c) for c in cut), bool(one_step),
                          w_credit, None if credit_gain is None else float(credit_gain))
    f = ACTIVATIONS[activation]
    batch, n_steps, n = drive.shape
    a = a0.expand(batch, n)
    h = f(a)
    w_rec_t = w_rec.t()
    w_credit_t = None if w_credit is None else w_credit.t()
    rates = []
    for t in range(n_steps):
        h_prev = h
        if cut[t]:
            h_seen = h_prev.detach()
        elif credit_gain is not None:  # value h_{t-1}; its only gradient path: μ times dL/dh_{t-1} into a_{t-1}
            h_seen = h_prev.detach() + credit_gain * (a - a.detach())
        else:
            h_seen = h_prev
        if w_credit_t is None:
            rec = h_seen @ w_rec_t
        else:  # value W_rec h_{t-1}; W_rec's gradient from the value, h_{t-1}'s through w_credit
            rec = h_seen.detach() @ w_rec_t + (h_seen - h_seen.detach()) @ w_credit_t
        a = (1 - alpha) * a + alpha * (rec + drive[:, t])
        h = f(a)
        if cut[t] and one_step:
            # A shadow of h_t whose value is exactly zero and whose only gradient path is g_t -> f'(a_t) -> α W_rec
            # -> h_{t-1}. It is added to the *returned* rate only, so g_t is the partial signal (the one-step credit
            # that h_t itself receives enters h, not the returned copy, and is not passed on again).
            a_shadow = a.detach() + alpha * ((h_prev - h_prev.detach()) @ w_rec_t.detach())
            shadow = f(a_shadow)
            rates.append(h + (shadow - shadow.detach()))
        else:
            rates.append(h)
    return torch.stack(rates, dim=1)


#: weight initialisations (see the module docstring)
INITS = ("sussillo", "he")



class CreditPath(Protocol):
    """What :meth:`RateRNN.forward` asks of a learning rule: where the recurrent drive sees a detached ``h_{t-1}``
    (:meth:`cuts_recurrence`), whether a cut step still passes one recurrent step of the partial learning signal
    (``one_step_credit``), the matrix that carries recurrent credit back (:meth:`credit_matrix`, None: ``W_rec``), a
    constant in place of ``f'`` on that path (``recurrent_credit_gain``), the readout (:meth:`readout`) and whether
    loss terms on the rates send credit (``activity_credit``). :class:`biocredit.learning.LearningRule` implements
    it; the model needs nothing else from a rule."""

    one_step_credit: bool
    activity_credit: bool
    recurrent_credit_gain: float | None

    def cuts_recurrence(self, t: int, n_steps: int) -> bool: ...

    def credit_matrix(self, model: RateRNN) -> torch.Tensor | None: ...

    def readout(self, h: torch.Tensor, w_out: torch.Tensor, b_out: torch.Tensor) -> torch.Tensor: ...


class ExactCredit:
    """The exact gradient (the credit path of BPTT): the default of :meth:`RateRNN.forward`."""

    one_step_credit = False
    activity_credit = True
    recurrent_credit_gain = None

    def cuts_recurrence(self, t: int, n_steps: int) -> bool:
        return False

    def credit_matrix(self, model: RateRNN) -> torch.Tensor | None:
        return None

    def readout(self, h: torch.Tensor, w_out: torch.Tensor, b_out: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.linear(h, w_out, b_out)


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of a :class:`RateRNN` (one row of the config's ``archs`` table)."""

    n_in: int
    n_hidden: int
    n_out: int
    tau: float = 10.0
    activation: str = "retanh"
    gain: float = 1.0
    learn_init_state: bool = True
    init: str = "sussillo"
    no_autapses: bool = False
    learn_bias: bool = True
    dale: bool = False
    frac_exc: float = 0.8
    density: float = 1.0
    conn_seed: int = 0


    def __post_init__(self) -> None:
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}; choose one of {sorted(ACTIVATIONS)}")
        if self.init not in INITS:
            raise ValueError(f"unknown init {self.init!r}; choose one of {list(INITS)}")
        if self.tau < 1:
            raise ValueError(f"tau must be >= 1 time step, got {self.tau}")
        for name in ("n_in", "n_hidden", "n_out"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if not 0 < self.density <= 1:
            raise ValueError(f"density must lie in (0, 1], got {self.density}")
        if self.dale and not 0 < self.frac_exc < 1:
            raise ValueError(f"frac_exc must lie in (0, 1), got {self.frac_exc}")

    def to_dict(self) -> dict:
        return asdict(self)


class RateRNN(nn.Module):
    """Leaky rate RNN; see the module docstring for the equations."""

    def __init__(self, config: ModelConfig, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.config = config
        n, n_in, n_out = config.n_hidden, config.n_in, config.n_out
        self.alpha = 1.0 / config.tau
        self.f = ACTIVATIONS[config.activation]
        g = generator
        if config.init == "he":
            w_in = torch.randn(n, n_in, generator=g) * math.sqrt(2.0 / n_in)
            w_rec = config.gain * torch.randn(n, n, generator=g) * math.sqrt(2.0 / n)
            bound = math.sqrt(6.0 / (n + n_out))
        else:
            w_in = torch.randn(n, n_in, generator=g) / math.sqrt(n_in)
            w_rec = config.gain * 1.5 * torch.randn(n, n, generator=g) / math.sqrt(n)
            bound = 1.0 / math.sqrt(n)
        w_out = (torch.rand(n_out, n, generator=g) * 2 - 1) * bound
        # Structural constraints (biocredit.connectivity): one fixed 0/1 mask (no autapses, sparse connections)
        # and, under Dale's law, fixed presynaptic signs. Neither is persistent: checkpoints hold parameters only,
        # and both follow from the config (the sparse mask from its own generator seeded by ``conn_seed``), so a
        # model rebuilt from a checkpoint's config has the same constraints.
        signs = dale_signs(n, config.frac_exc) if config.dale else None
        mask = None
        if config.density < 1:
            mask = sparsity_mask(n, config.density, torch.Generator().manual_seed(CONN_SEED_OFFSET + config.conn_seed))
        if config.no_autapses or config.dale:
            mask = (1.0 - torch.eye(n)) * (mask if mask is not None else 1.0)
        w_rec = constrain_initial_weights(w_rec, signs, mask, config.density)
        if mask is not None:
            self.register_buffer("rec_mask", mask, persistent=False)
        else:
            self.rec_mask = None
        if signs is not None:
            self.register_buffer("dale_signs", signs, persistent=False)
        else:
            self.dale_signs = None
        self.w_in = nn.Parameter(w_in)
        self.w_rec = nn.Parameter(w_rec)
        self.b = nn.Parameter(torch.zeros(n), requires_grad=config.learn_bias)
        self.w_out = nn.Parameter(w_out)
        self.b_out = nn.Parameter(torch.zeros(n_out))
        self.a0 = nn.Parameter(torch.zeros(n), requires_grad=config.learn_init_state)

    def effective_w_rec(self) -> torch.Tensor:
        """``W_rec`` as the recurrence uses it: ``|W_rec| · diag(signs)`` under Dale's law, times the fixed mask
        (zero diagonal, sparse connections) if any. Every rule and every Hessian goes through this map."""
        if self.rec_mask is None and self.dale_signs is None:
            return self.w_rec
        return effective_weights(self.w_rec, self.dale_signs, self.rec_mask)

    def forward(self, x: torch.Tensor, rule: CreditPath | None = None, fused: bool = True
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """Run the network on ``x`` (batch, time, n_in); return ``(y, h)``.

        ``rule`` (a :class:`CreditPath`, e.g. a :class:`~biocredit.learning.LearningRule`; default the exact
        gradient, :class:`ExactCredit`) shapes the backward pass only; the
        forward values are the same for every rule. ``fused=False`` runs the reference autograd loop (twice
        differentiable for BPTT); the default fused path is faster and gives the same gradients. A rule with
        ``activity_credit = False`` (RFLO) gets ``h`` back detached: loss terms on the rates send it no credit.
        """
        rule = rule or ExactCredit()
        batch, n_steps, n_in = x.shape
        # (B, T, N): the input drive W_in x_t + b, all steps at once, laid out time-major so that each step is one
        # contiguous block. One product [x_t, 1] [W_in, b]ᵀ with a row-major right factor: the bias needs no pass of
        # its own over the (T, B, N) result, and the weight (and bias) gradient is the product [x, 1]ᵀ δ of shape
        # (n_in + 1, TB) by (TB, N), several times faster for thin inputs than δᵀ x.
        x_aug = torch.cat([x.transpose(0, 1), x.new_ones(n_steps, batch, 1)], dim=2).view(n_steps * batch, n_in + 1)
        w_aug = torch.cat([self.w_in, self.b.unsqueeze(1)], dim=1).t().contiguous()
        drive = torch.mm(x_aug, w_aug).view(n_steps, batch, -1).transpose(0, 1)
        cut = [rule.cuts_recurrence(t, n_steps) for t in range(n_steps)]
        h = recurrence(drive, self.a0, self.effective_w_rec(), self.alpha, self.config.activation, cut, fused=fused,
                       one_step=rule.one_step_credit, w_credit=rule.credit_matrix(self),
                       credit_gain=rule.recurrent_credit_gain)
        # the readout runs on the time-major layout when the recurrence stored it so (the fused core does): its
        # backward then hands the core a contiguous time-major gradient instead of a strided one
        h_tm = h.transpose(0, 1)
        if h_tm.is_contiguous():
            y = rule.readout(h_tm, self.w_out, self.b_out).transpose(0, 1)
        else:
            y = rule.readout(h, self.w_out, self.b_out)
        return y, (h if rule.activity_credit else h.detach())

    @torch.no_grad()
    def recurrent_eigenvalues(self) -> torch.Tensor:
        """Complex eigenvalues of ``W_rec``."""
        return torch.linalg.eigvals(self.effective_w_rec().detach().double().cpu())


def model_config(task, arch_cfg: dict, seed: int = 0) -> ModelConfig:
    """The model of one run: its ``archs`` row, sized for ``task`` (``n_in``, ``n_out``); a sparse mask (if any) is
    drawn from the run's seed (``conn_seed``) unless the row sets one."""
    return ModelConfig(n_in=task.n_in, n_out=task.n_out, **{"conn_seed": int(seed), **arch_cfg})
