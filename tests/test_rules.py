"""Learning rules against independent oracles: finite differences, explicit eligibility traces, eq. 1 of e-prop."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from biocredit.learning import BPTT, EProp, make_rule
from biocredit.model import ModelConfig, RateRNN
from tests import reference_rnn as ref

LAM = 0.3


def _tiny(seed=0, n=6, n_in=3, n_out=2, tau=3.0, batch=3, steps=9):
    gen = torch.Generator().manual_seed(seed)
    model = RateRNN(ModelConfig(n_in, n, n_out, tau=tau, gain=1.3), generator=gen).double()
    with torch.no_grad():  # non-zero biases and initial state so every path is exercised
        model.b.normal_(0, 0.3, generator=gen)
        model.a0.normal_(0, 0.5, generator=gen)
        model.b_out.normal_(0, 0.3, generator=gen)
    x = torch.randn(batch, steps, n_in, generator=gen, dtype=torch.float64)
    target = torch.randn(batch, steps, n_out, generator=gen, dtype=torch.float64)
    mask = (torch.rand(batch, steps, generator=gen) > 0.3).double()
    return model, x, target, mask


def _loss(model, x, target, mask, rule=None, fused=True):
    y, h = model(x, rule, fused=fused)
    m = mask.unsqueeze(-1)
    return ((y - target) ** 2 * m).sum() / (m.sum() * y.shape[-1]) + LAM * (h**2).mean()


def _torch_grads(model, x, target, mask, rule, fused=True):
    model.zero_grad()
    _loss(model, x, target, mask, rule, fused).backward()
    return {k: p.grad.detach().numpy().copy() for k, p in model.named_parameters()}


def _numpy_params(model):
    p = {k: v.detach().numpy().copy() for k, v in model.named_parameters()}
    p["alpha"] = model.alpha
    return p


@pytest.mark.parametrize("fused", [True, False])
def test_bptt_matches_finite_differences(fused):
    model, x, target, mask = _tiny()
    grads = _torch_grads(model, x, target, mask, BPTT(), fused)
    rng = np.random.default_rng(0)
    eps = 1e-6
    for name, param in model.named_parameters():
        flat = param.data.view(-1)
        for idx in rng.choice(flat.numel(), size=min(6, flat.numel()), replace=False):
            old = flat[idx].item()
            with torch.no_grad():
                flat[idx] = old + eps
                up = _loss(model, x, target, mask).item()
                flat[idx] = old - eps
                down = _loss(model, x, target, mask).item()
                flat[idx] = old
            fd = (up - down) / (2 * eps)
            assert grads[name].reshape(-1)[idx] == pytest.approx(fd, rel=1e-5, abs=1e-9), (name, idx)


@pytest.mark.parametrize("fused", [True, False])
def test_eprop_matches_explicit_eligibility_traces(fused):
    model, x, target, mask = _tiny(seed=1)
    got = _torch_grads(model, x, target, mask, EProp(), fused)
    want = ref.eprop_gradients(_numpy_params(model), x.numpy(), target.numpy(), mask.numpy(), LAM)
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-9, atol=1e-12, err_msg=name)


def test_trace_factorisation_with_total_learning_signal_is_bptt():
    """Bellec et al. 2020 eq. 1: Σ_t (dE/dh_t total) · e_t equals the exact gradient."""
    model, x, target, mask = _tiny(seed=2)
    exact = _torch_grads(model, x, target, mask, BPTT())
    factorised = ref.factorised_bptt_gradients(_numpy_params(model), x.numpy(), target.numpy(), mask.numpy(), LAM)
    for name in exact:
        np.testing.assert_allclose(factorised[name], exact[name], rtol=1e-9, atol=1e-12, err_msg=name)


def test_eprop_differs_from_bptt_only_in_recurrent_credit():
    """Sanity of the oracle pair: readout gradients agree, recurrent ones do not."""
    model, x, target, mask = _tiny(seed=3)
    e = _torch_grads(model, x, target, mask, EProp())
    b = _torch_grads(model, x, target, mask, BPTT())
    np.testing.assert_allclose(e["w_out"], b["w_out"], rtol=1e-12)
    assert not np.allclose(e["w_rec"], b["w_rec"], rtol=1e-3)


@pytest.mark.parametrize("tau", [5.0, 1.0])  # leaky, and leak-free (the fused core's alpha = 1 branch)
@pytest.mark.parametrize("activation", ["retanh", "tanh", "relu"])
@pytest.mark.parametrize("rule", ["bptt", "eprop", "mdgl"])
def test_fused_and_reference_paths_agree(activation, rule, tau):
    gen = torch.Generator().manual_seed(4)
    model = RateRNN(ModelConfig(3, 20, 2, tau=tau, activation=activation), generator=gen).double()
    with torch.no_grad():
        model.a0.normal_(0, 0.5, generator=gen)
    x = torch.randn(4, 25, 3, generator=gen, dtype=torch.float64)
    target = torch.randn(4, 25, 2, generator=gen, dtype=torch.float64)
    mask = torch.ones(4, 25, dtype=torch.float64)
    fused = _torch_grads(model, x, target, mask, make_rule(rule), fused=True)
    loop = _torch_grads(model, x, target, mask, make_rule(rule), fused=False)
    for name in loop:
        np.testing.assert_allclose(fused[name], loop[name], rtol=1e-10, atol=1e-13, err_msg=name)
    with torch.no_grad():
        np.testing.assert_allclose(model(x, fused=True)[1].numpy(), model(x, fused=False)[1].numpy(), rtol=1e-12)


def test_forward_values_do_not_depend_on_rule():
    model, x, _, _ = _tiny(seed=5)
    with torch.no_grad():
        yb, hb = model(x, BPTT())
        ye, he = model(x, EProp())
    assert torch.equal(yb, ye) and torch.equal(hb, he)


def test_unknown_rule_is_named():
    with pytest.raises(ValueError, match="'hebb'"):
        make_rule("hebb")
