"""The fast training step's layout choices do not change a number.

The fused core stores the rates time-major and :meth:`RateRNN.forward` runs the readout on that layout, and the
activity penalty is computed by :func:`biocredit.model.mean_square`, so that the gradient reaching the core is
contiguous. These tests check, against the reference autograd loop (``fused=False``) with the plain
``(h**2).mean()`` penalty, that the gradients are the same for every rule, activation, leak and connectivity
constraint, whichever layout the incoming gradient has; and that ``mean_square`` equals ``(h**2).mean()``.
"""

from __future__ import annotations

import pytest
import torch

from biocredit.learning import RULES, check_rule_arch, make_rule
from biocredit.model import ModelConfig, RateRNN, mean_square

LAM = 0.7


def _net(activation="retanh", tau=4.0, dale=False, density=1.0, seed=0):
    gen = torch.Generator().manual_seed(seed)
    cfg = ModelConfig(3, 7, 2, tau=tau, activation=activation, gain=1.2, dale=dale, density=density, conn_seed=seed)
    model = RateRNN(cfg, generator=gen).double()
    with torch.no_grad():
        model.b.normal_(0, 0.3, generator=gen)
        model.a0.normal_(0, 0.5, generator=gen)
    x = torch.randn(4, 10, 3, generator=gen, dtype=torch.float64)
    target = torch.randn(4, 10, 2, generator=gen, dtype=torch.float64)
    return model, x, target


def _grads(model, x, target, rule, fused, penalty):
    model.zero_grad()
    y, h = model(x, rule, fused=fused)
    loss = ((y - target) ** 2).mean() + LAM * penalty(h)
    loss.backward()
    return {k: p.grad.clone() for k, p in model.named_parameters() if p.grad is not None}


def _plain(h):
    return (h**2).mean()


def _trainable(rule, activation, dale):
    """Whether ``rule`` can train such a net (ModProp: ReLU with Dale's law only; its refusals are tested in
    test_rule_zoo)."""
    try:
        check_rule_arch(rule, "test", {"activation": activation, "dale": dale})
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("rule", sorted(RULES))
@pytest.mark.parametrize("activation,tau", [("retanh", 4.0), ("tanh", 4.0), ("relu", 1.0), ("retanh", 1.0)])
def test_fused_with_mean_square_equals_reference(rule, activation, tau):
    dale = not _trainable(rule, activation, False)
    if dale and not _trainable(rule, activation, True):
        pytest.skip(f"{rule} cannot train {activation} units")
    model, x, target = _net(activation, tau, dale=dale)
    opts = {"seed": 3} if "seed" in getattr(make_rule(rule), "__dict__", {}) else {}
    ref = _grads(model, x, target, make_rule(rule, **opts), False, _plain)
    for penalty in (mean_square, _plain):  # contiguous (time-major) and strided incoming gradient
        got = _grads(model, x, target, make_rule(rule, **opts), True, penalty)
        assert got.keys() == ref.keys()
        for k in ref:
            torch.testing.assert_close(got[k], ref[k], rtol=1e-10, atol=1e-13, msg=f"{rule} {k} {penalty.__name__}")


@pytest.mark.parametrize("dale,density", [(True, 1.0), (False, 0.5), (True, 0.5)])
@pytest.mark.parametrize("rule", ["bptt", "tbptt", "eprop", "mdgl", "modprop"])
def test_fused_with_mean_square_under_constraints(rule, dale, density):
    activation = "relu" if dale else "retanh"
    if not _trainable(rule, activation, dale):
        pytest.skip(f"{rule} cannot train {activation} units with dale={dale}")
    model, x, target = _net(activation, 3.0, dale, density, seed=2)
    ref = _grads(model, x, target, make_rule(rule), False, _plain)
    got = _grads(model, x, target, make_rule(rule), True, mean_square)
    for k in ref:
        torch.testing.assert_close(got[k], ref[k], rtol=1e-10, atol=1e-13, msg=k)
    if model.rec_mask is not None:
        assert (got["w_rec"][model.rec_mask == 0] == 0).all()


@pytest.mark.parametrize("layout", ["contiguous", "time_major_view", "strided_slice"])
def test_mean_square_equals_plain_mean_of_squares(layout):
    gen = torch.Generator().manual_seed(5)
    base = torch.randn(6, 5, 4, generator=gen, dtype=torch.float64)
    if layout == "time_major_view":
        base = base.transpose(0, 1).contiguous().transpose(0, 1)
    elif layout == "strided_slice":
        base = torch.randn(6, 10, 4, generator=gen, dtype=torch.float64)[:, ::2]
    a = base.clone().requires_grad_(True)
    b = base.clone().requires_grad_(True)
    va, vb = mean_square(a), _plain(b)
    torch.testing.assert_close(va, vb, rtol=1e-14, atol=0)
    va.backward(torch.tensor(1.7, dtype=torch.float64))
    vb.backward(torch.tensor(1.7, dtype=torch.float64))
    torch.testing.assert_close(a.grad, b.grad, rtol=1e-14, atol=0)
    assert torch.autograd.gradcheck(mean_square, (base.clone().requires_grad_(True),))
