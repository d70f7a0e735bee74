"""The rule zoo (tBPTT, random e-prop, RFLO, MDGL, BPTT with random feedback, ModProp) against independent NumPy
oracles and against each other.

For every rule: fused backward == reference autograd loop == explicit-trace oracle (tests/reference_rnn.py,
written from the equations, float64); forward values do not depend on the rule; special cases that pin the rule
down (tBPTT window 1 = e-prop, window > T = BPTT; RFLO with λ = 0 = random e-prop; random feedback leaves the
readout gradients exact; MDGL sits between e-prop and BPTT).
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

from biocredit.learning import (
    BPTT,
    MDGL,
    RFLO,
    RULES,
    BPTTRandomFeedback,
    EProp,
    EPropRandom,
    ModProp,
    TruncatedBPTT,
    check_rule_arch,
    make_rule,
)
from biocredit.learning.modprop import cell_types, type_average
from biocredit.model import ModelConfig, RateRNN
from tests import reference_rnn as ref

LAM = 0.3
STEPS = 9
FEEDBACK_SEED = 11


def _tiny(seed=0, n=6, n_in=3, n_out=2, tau=3.0, batch=3, steps=STEPS, gain=1.3):
    gen = torch.Generator().manual_seed(seed)
    model = RateRNN(ModelConfig(n_in, n, n_out, tau=tau, gain=gain), generator=gen).double()
    with torch.no_grad():  # non-zero biases and initial state so every path is exercised
        model.b.normal_(0, 0.3, generator=gen)
        model.a0.normal_(0, 0.5, generator=gen)
        model.b_out.normal_(0, 0.3, generator=gen)
    x = torch.randn(batch, steps, n_in, generator=gen, dtype=torch.float64)
    target = torch.randn(batch, steps, n_out, generator=gen, dtype=torch.float64)
    mask = (torch.rand(batch, steps, generator=gen) > 0.3).double()
    return model, x, target, mask


def _loss(model, x, target, mask, rule=None, fused=True, lam=LAM):
    y, h = model(x, rule, fused=fused)
    m = mask.unsqueeze(-1)
    return ((y - target) ** 2 * m).sum() / (m.sum() * y.shape[-1]) + lam * (h**2).mean()


def _grads(model, x, target, mask, rule, fused=True, lam=LAM):
    model.zero_grad()
    _loss(model, x, target, mask, rule, fused, lam).backward()
    return {k: p.grad.detach().numpy().copy() for k, p in model.named_parameters()}


def _np_params(model):
    p = {k: v.detach().numpy().copy() for k, v in model.named_parameters()}
    p["alpha"] = model.alpha
    return p


def _flat(g, names=None):
    return np.concatenate([g[k].ravel() for k in (names or sorted(g))])


def _cos(u, v):
    return float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))


# every rule, built fresh each time (random-feedback rules from the same seed, hence the same B)
RULE_CASES = {
    "bptt": lambda: BPTT(),
    "eprop": lambda: EProp(),
    "tbptt3": lambda: TruncatedBPTT(window=3),  # 9 steps: cuts at t = 0, 3, 6
    "tbptt4": lambda: TruncatedBPTT(window=4),  # 9 steps: cuts at t = 1, 5 (a0 keeps its W_rec path)
    "eprop_random": lambda: EPropRandom(seed=FEEDBACK_SEED),
    "rflo": lambda: RFLO(seed=FEEDBACK_SEED),
    "mdgl": lambda: MDGL(),
    "bptt_random": lambda: BPTTRandomFeedback(seed=FEEDBACK_SEED),
}


def _oracle(case, model, x, target, mask, lam=LAM):
    p, xs, ts, ms = _np_params(model), x.numpy(), target.numpy(), mask.numpy()
    n_out, n = model.w_out.shape
    if case == "bptt":
        return ref.factorised_bptt_gradients(p, xs, ts, ms, lam)
    if case == "eprop":
        return ref.eprop_gradients(p, xs, ts, ms, lam)
    if case.startswith("tbptt"):
        return ref.tbptt_gradients(p, xs, ts, ms, lam, int(case[5:]))
    if case == "eprop_random":
        return ref.eprop_random_gradients(p, xs, ts, ms, lam, EPropRandom(FEEDBACK_SEED).feedback_matrix(n, n_out)
                                          .numpy())
    if case == "rflo":
        return ref.rflo_gradients(p, xs, ts, ms, RFLO(FEEDBACK_SEED).feedback_matrix(n, n_out).numpy())
    if case == "mdgl":
        return ref.mdgl_gradients(p, xs, ts, ms, lam)
    if case == "bptt_random":
        return ref.bptt_random_gradients(p, xs, ts, ms, lam, BPTTRandomFeedback(FEEDBACK_SEED)
                                         .feedback_matrix(n, n_out).numpy())
    raise AssertionError(case)


def _assert_grads_equal(got, want, rtol=1e-9, atol=1e-12):
    assert set(got) == set(want)
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=rtol, atol=atol, err_msg=name)


@pytest.mark.parametrize("case", sorted(RULE_CASES))
@pytest.mark.parametrize("fused", [True, False])
def test_rule_matches_explicit_trace_oracle(case, fused):
    model, x, target, mask = _tiny(seed=10)
    got = _grads(model, x, target, mask, RULE_CASES[case](), fused)
    _assert_grads_equal(got, _oracle(case, model, x, target, mask))


@pytest.mark.parametrize("activation", ["retanh", "tanh", "relu"])
@pytest.mark.parametrize("case", sorted(RULE_CASES))
def test_fused_and_reference_paths_agree(case, activation):
    gen = torch.Generator().manual_seed(4)
    model = RateRNN(ModelConfig(3, 20, 2, tau=5.0, activation=activation), generator=gen).double()
    with torch.no_grad():
        model.a0.normal_(0, 0.5, generator=gen)
        model.b.normal_(0, 0.3, generator=gen)
    x = torch.randn(4, 25, 3, generator=gen, dtype=torch.float64)
    target = torch.randn(4, 25, 2, generator=gen, dtype=torch.float64)
    mask = torch.ones(4, 25, dtype=torch.float64)
    fused = _grads(model, x, target, mask, RULE_CASES[case](), fused=True)
    loop = _grads(model, x, target, mask, RULE_CASES[case](), fused=False)
    _assert_grads_equal(fused, loop, rtol=1e-10, atol=1e-13)


def test_forward_values_do_not_depend_on_rule():
    """Bitwise equal across rules on each path (the two paths round differently: equal to 1e-12 there)."""
    model, x, _, _ = _tiny(seed=5)
    for fused in (True, False):
        with torch.no_grad():
            y_ref, h_ref = model(x, BPTT(), fused=fused)
        for case, build in RULE_CASES.items():
            with torch.no_grad():
                y, h = model(x, build(), fused=fused)
            assert torch.equal(y, y_ref) and torch.equal(h, h_ref), (case, fused)
            # with the graph built too (the reference loop's MDGL shadow term must add exactly zero)
            y, h = model(x, build(), fused=fused)
            assert torch.equal(y.detach(), y_ref) and torch.equal(h.detach(), h_ref), (case, fused)
    with torch.no_grad():
        np.testing.assert_allclose(model(x, fused=True)[0].numpy(), model(x, fused=False)[0].numpy(), rtol=1e-12)


@pytest.mark.parametrize("fused", [True, False])
def test_every_parameter_gets_a_finite_update(fused):
    """What train.py's cosine logging needs: model(x, rule), loss.backward(), the update in every .grad."""
    model, x, target, mask = _tiny(seed=6)
    relu_dale, *_ = _tiny_relu_dale(seed=6)
    for name in RULES:
        net = relu_dale if name == "modprop" else model  # ModProp trains ReLU units with Dale's law only
        net.zero_grad(set_to_none=True)
        _loss(net, x, target, mask, make_rule(name), fused).backward()
        for pname, p in net.named_parameters():
            assert p.grad is not None and torch.isfinite(p.grad).all(), (name, pname)


# --- truncated BPTT ---------------------------------------------------------------------------------------------


def test_tbptt_cuts_counted_from_trial_end():
    rule = TruncatedBPTT(window=4)
    assert [t for t in range(10) if rule.cuts_recurrence(t, 10)] == [2, 6]
    assert [t for t in range(8) if rule.cuts_recurrence(t, 8)] == [0, 4]
    assert TruncatedBPTT().window == 10


@pytest.mark.parametrize("steps", [STEPS, 10])
def test_tbptt_window_one_is_eprop(steps):
    model, x, target, mask = _tiny(seed=7, steps=steps)
    for fused in (True, False):
        t = _grads(model, x, target, mask, TruncatedBPTT(window=1), fused)
        e = _grads(model, x, target, mask, EProp(), fused)
        _assert_grads_equal(t, e, rtol=0, atol=0)


@pytest.mark.parametrize("window", [STEPS + 1, 3 * STEPS, 1000])
def test_tbptt_window_longer_than_trial_is_bptt(window):
    model, x, target, mask = _tiny(seed=8)
    for fused in (True, False):
        _assert_grads_equal(_grads(model, x, target, mask, TruncatedBPTT(window), fused),
                            _grads(model, x, target, mask, BPTT(), fused), rtol=1e-12, atol=1e-15)


def test_tbptt_window_equal_to_trial_differs_from_bptt_only_in_a0():
    """window = T puts the one window boundary on the initial state: only a0's path through W_rec is cut."""
    model, x, target, mask = _tiny(seed=8)
    t = _grads(model, x, target, mask, TruncatedBPTT(STEPS))
    b = _grads(model, x, target, mask, BPTT())
    for name in b:
        if name != "a0":
            np.testing.assert_allclose(t[name], b[name], rtol=1e-12, atol=1e-15, err_msg=name)
    assert not np.allclose(t["a0"], b["a0"], rtol=1e-6)


def test_tbptt_interpolates_between_eprop_and_bptt():
    model, x, target, mask = _tiny(seed=9, steps=24, tau=2.0)
    b = _flat(_grads(model, x, target, mask, BPTT()), ["w_rec", "w_in", "b"])
    cos = [_cos(_flat(_grads(model, x, target, mask, TruncatedBPTT(k)), ["w_rec", "w_in", "b"]), b)
           for k in (1, 25)]
    assert cos[0] < 1 - 1e-6 and cos[1] == pytest.approx(1.0, abs=1e-12)


# --- random feedback: e-prop and RFLO ---------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [EPropRandom, RFLO])
def test_random_feedback_readout_gradients_are_exact(cls):
    model, x, target, mask = _tiny(seed=12)
    r = _grads(model, x, target, mask, cls(seed=3))
    b = _grads(model, x, target, mask, BPTT())
    np.testing.assert_allclose(r["w_out"], b["w_out"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(r["b_out"], b["b_out"], rtol=1e-12, atol=1e-15)
    e = _grads(model, x, target, mask, EProp())
    assert not np.allclose(r["w_rec"], e["w_rec"], rtol=1e-3)  # the feedback matrix is not W_out


def test_feedback_matrix_is_seeded_fixed_and_shaped_like_w_out():
    n, n_out = 50, 3
    b1 = EPropRandom(seed=1).feedback_matrix(n, n_out)
    assert b1.shape == (n_out, n) and b1.dtype == torch.float64
    assert b1.abs().max() <= 1 / np.sqrt(n) and b1.std() > 0.3 / np.sqrt(n)
    assert torch.equal(b1, EPropRandom(seed=1, n_hidden=n, n_out=n_out).feedback_matrix(n, n_out))  # eager = lazy
    assert torch.equal(b1, RFLO(seed=1).feedback_matrix(n, n_out))
    assert not torch.equal(b1, EPropRandom(seed=2).feedback_matrix(n, n_out))
    gen = torch.Generator().manual_seed(1)
    assert torch.equal(b1, EPropRandom(generator=gen).feedback_matrix(n, n_out))
    rule = EPropRandom(seed=1)
    assert rule.feedback_matrix(n, n_out) is rule.feedback_matrix(n, n_out)  # drawn once, kept
    with pytest.raises(ValueError, match="shape"):
        rule.feedback_matrix(n + 1, n_out)
    with pytest.raises(ValueError, match="both"):
        EPropRandom(n_hidden=n)


def test_random_feedback_stays_fixed_across_calls_and_dtypes():
    model, x, target, mask = _tiny(seed=13)
    rule = EPropRandom(seed=5)
    g1 = _grads(model, x, target, mask, rule)
    model32 = RateRNN(model.config)
    model32.load_state_dict({k: v.float() for k, v in model.state_dict().items()})
    model32(x.float(), rule)[0].sum().backward()  # a float32 pass in between uses the same B, cast
    g2 = _grads(model, x, target, mask, rule)
    _assert_grads_equal(g1, g2, rtol=0, atol=0)


def test_feedback_equal_to_w_out_recovers_eprop():
    """The custom readout backward is the only change: with B = W_out random e-prop is e-prop."""
    model, x, target, mask = _tiny(seed=14)
    rule = EPropRandom()
    rule._feedback = model.w_out.detach().clone()
    _assert_grads_equal(_grads(model, x, target, mask, rule), _grads(model, x, target, mask, EProp()),
                        rtol=1e-12, atol=1e-15)


def test_rflo_learning_signal_is_the_output_error_only():
    """RFLO = random e-prop without the activity-penalty credit: equal at λ = 0, independent of λ otherwise."""
    model, x, target, mask = _tiny(seed=15)
    r0 = _grads(model, x, target, mask, RFLO(seed=2), lam=0.0)
    e0 = _grads(model, x, target, mask, EPropRandom(seed=2), lam=0.0)
    _assert_grads_equal(r0, e0, rtol=1e-12, atol=1e-15)
    r1 = _grads(model, x, target, mask, RFLO(seed=2), lam=5.0)
    e1 = _grads(model, x, target, mask, EPropRandom(seed=2), lam=5.0)
    _assert_grads_equal(r1, r0, rtol=1e-12, atol=1e-15)
    assert not np.allclose(e1["w_rec"], r1["w_rec"], rtol=1e-3)
    _, h = model(x, RFLO())
    assert not h.requires_grad


# --- MDGL -------------------------------------------------------------------------------------------------------


def test_mdgl_differs_from_eprop_and_bptt_and_is_closer_to_bptt():
    names = ["w_rec", "w_in", "b", "a0"]
    cos_mdgl, cos_eprop, cos_mdgl_all, cos_eprop_all = [], [], [], []
    for seed in range(12):
        model, x, target, mask = _tiny(seed=100 + seed, n=12, steps=15, tau=2.0, gain=1.0)
        b = _grads(model, x, target, mask, BPTT())
        m = _grads(model, x, target, mask, MDGL())
        e = _grads(model, x, target, mask, EProp())
        assert not np.allclose(m["w_rec"], e["w_rec"], rtol=1e-4)
        assert not np.allclose(m["w_rec"], b["w_rec"], rtol=1e-4)
        np.testing.assert_allclose(m["w_out"], b["w_out"], rtol=1e-12)
        cos_mdgl.append(_cos(_flat(m, names), _flat(b, names)))
        cos_eprop.append(_cos(_flat(e, names), _flat(b, names)))
        cos_mdgl_all.append(_cos(_flat(m), _flat(b)))  # the full update, as train.py logs it
        cos_eprop_all.append(_cos(_flat(e), _flat(b)))
    assert np.mean(cos_mdgl) > np.mean(cos_eprop)
    assert np.mean(cos_mdgl_all) > np.mean(cos_eprop_all)


def test_mdgl_is_exact_when_credit_needs_one_step():
    """With a loss only at the last step and two steps, one step of non-local credit is the whole story: MDGL = BPTT
    for W_rec, W_in and b (only a0's path, two synapses deep, is missed)."""
    model, x, target, mask = _tiny(seed=16, steps=2)
    mask = torch.zeros_like(mask)
    mask[:, -1] = 1.0
    m = _grads(model, x, target, mask, MDGL(), lam=0.0)
    b = _grads(model, x, target, mask, BPTT(), lam=0.0)
    for name in ("w_rec", "w_in", "b", "w_out", "b_out"):
        np.testing.assert_allclose(m[name], b[name], rtol=1e-12, atol=1e-15, err_msg=name)


# --- construction -----------------------------------------------------------------------------------------------


def test_make_rule_builds_every_rule_with_options():
    assert set(RULES) == {"bptt", "tbptt", "eprop", "eprop_random", "rflo", "mdgl", "bptt_random", "modprop"}
    for name, cls in RULES.items():
        rule = make_rule(name)
        assert type(rule) is cls and rule.name == name
    assert make_rule("tbptt", window=7).window == 7
    assert make_rule("eprop_random", seed=4).seed == 4
    assert make_rule("rflo", seed=4, n_hidden=5, n_out=2).feedback_matrix(5, 2).shape == (2, 5)
    assert repr(make_rule("tbptt", window=7)) == "TruncatedBPTT(window=7)"
    for name, cls in RULES.items():  # every option is a keyword with a default: config names alone suffice
        params = [p for k, p in inspect.signature(cls.__init__).parameters.items() if k != "self"]
        assert all(p.default is not p.empty for p in params), name


@pytest.mark.parametrize(("name", "options", "match"), [
    ("tbptt", {"windw": 3}, r"unknown option.*'windw'.*'tbptt'.*window"),
    ("eprop", {"window": 3}, r"unknown option.*'window'.*'eprop'.*none"),
    ("mdgl", {"seed": 1}, r"unknown option.*'seed'.*'mdgl'"),
    ("rflo", {"sede": 1}, r"unknown option.*'sede'.*seed"),
    ("tbptt", {"window": 0}, r"positive integer"),
    ("tbptt", {"window": 2.5}, r"positive integer"),
    ("eprop_random", {"seed": "a"}, r"seed must be an integer"),
    ("bptt_x", {}, r"unknown learning rule 'bptt_x'"),
    ("modprop", {"mu": 0}, r"mu must be a positive number"),
    ("modprop", {"n_types_inh": 0}, r"n_types_inh must be a positive integer"),
    ("bptt_random", {"window": 2}, r"unknown option.*'window'.*'bptt_random'"),
])
def test_make_rule_rejects_bad_names_and_options(name, options, match):
    with pytest.raises(ValueError, match=match):
        make_rule(name, **options)


# --- the reference loop stays twice differentiable for BPTT -----------------------------------------------------


def test_reference_loop_hessian_vector_product_matches_finite_differences():
    model, x, target, mask = _tiny(seed=17)
    params = list(model.parameters())
    gen = torch.Generator().manual_seed(0)
    v = [torch.randn(p.shape, generator=gen, dtype=torch.float64) for p in params]
    grads = torch.autograd.grad(_loss(model, x, target, mask, BPTT(), fused=False), params, create_graph=True)
    hv = torch.autograd.grad(sum((g * d).sum() for g, d in zip(grads, v, strict=True)), params)
    eps = 1e-5

    def grad_at(sign):
        with torch.no_grad():
            for p, d in zip(params, v, strict=True):
                p.add_(sign * eps * d)
        g = torch.autograd.grad(_loss(model, x, target, mask, BPTT(), fused=False), params)
        with torch.no_grad():
            for p, d in zip(params, v, strict=True):
                p.sub_(sign * eps * d)
        return g

    up, down = grad_at(1.0), grad_at(-1.0)
    for h, u, d in zip(hv, up, down, strict=True):
        np.testing.assert_allclose(h.numpy(), ((u - d) / (2 * eps)).numpy(), rtol=1e-5, atol=1e-8)


# --- BPTT with random readout feedback (the authors' learning_mode -2) ------------------------------------------


def test_bptt_random_is_bptt_with_only_the_readout_feedback_changed():
    model, x, target, mask = _tiny(seed=18)
    r = _grads(model, x, target, mask, BPTTRandomFeedback(seed=3))
    b = _grads(model, x, target, mask, BPTT())
    for name in ("w_out", "b_out"):
        np.testing.assert_allclose(r[name], b[name], rtol=1e-12, atol=1e-15, err_msg=name)
    assert not np.allclose(r["w_rec"], b["w_rec"], rtol=1e-3)
    rule = BPTTRandomFeedback()
    rule._feedback = model.w_out.detach().clone()  # B = W_out: exactly BPTT
    _assert_grads_equal(_grads(model, x, target, mask, rule), b, rtol=1e-12, atol=1e-15)
    assert not any(rule.cuts_recurrence(t, STEPS) for t in range(STEPS))


# --- ModProp (the authors' learning_mode 2) ---------------------------------------------------------------------

MU = 0.2


def _tiny_relu_dale(seed=0, n=10, n_in=3, n_out=2, tau=3.0, batch=3, steps=STEPS, density=1.0):
    gen = torch.Generator().manual_seed(seed)
    cfg = ModelConfig(n_in, n, n_out, tau=tau, activation="relu", dale=True, gain=1.5, density=density, conn_seed=3)
    model = RateRNN(cfg, generator=gen).double()
    with torch.no_grad():  # positive drive so that most units are active (ReLU), plus an initial state
        model.b.normal_(0.3, 0.3, generator=gen)
        model.a0.normal_(0.2, 0.5, generator=gen)
        model.b_out.normal_(0, 0.3, generator=gen)
    x = torch.randn(batch, steps, n_in, generator=gen, dtype=torch.float64)
    target = torch.randn(batch, steps, n_out, generator=gen, dtype=torch.float64)
    mask = (torch.rand(batch, steps, generator=gen) > 0.3).double()
    return model, x, target, mask


def _modprop_oracle(model, x, target, mask, rule, lam=LAM):
    types = cell_types(model.dale_signs, rule.n_types_exc, rule.n_types_inh).numpy()
    p = _np_params(model)
    return ref.modprop_gradients(p, x.numpy(), target.numpy(), mask.numpy(), lam, rule.mu, types,
                                 model.dale_signs.double().numpy())


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize(("types", "mu"), [((3, 2), MU), ((1, 1), 0.5), ((100, 100), MU)])
def test_modprop_matches_explicit_oracle(fused, types, mu):
    """10 units = 8 E + 2 I: 3+2 types (blocks of 3,3,2 | 1,1), one E and one I type, and one type per unit."""
    model, x, target, mask = _tiny_relu_dale(seed=20)
    rule = ModProp(mu=mu, n_types_exc=types[0], n_types_inh=types[1])
    got = _grads(model, x, target, mask, rule, fused)
    _assert_grads_equal(got, _modprop_oracle(model, x, target, mask, rule))


def test_modprop_oracle_is_not_bptt():
    """The oracle test can fail: ModProp's gradient differs from BPTT's except on the readout."""
    model, x, target, mask = _tiny_relu_dale(seed=20)
    m = _grads(model, x, target, mask, ModProp())
    b = _grads(model, x, target, mask, BPTT())
    np.testing.assert_allclose(m["w_out"], b["w_out"], rtol=1e-12)
    for name in ("w_rec", "w_in", "b", "a0"):
        assert not np.allclose(m[name], b[name], rtol=1e-3), name


@pytest.mark.parametrize("density", [1.0, 0.6])
def test_modprop_fused_and_reference_paths_agree(density):
    model, x, target, mask = _tiny_relu_dale(seed=21, n=30, steps=25, tau=5.0, batch=4, density=density)
    for rule in (ModProp(), ModProp(mu=0.7, n_types_exc=4, n_types_inh=3)):
        fused = _grads(model, x, target, mask, rule, fused=True)
        loop = _grads(model, x, target, mask, rule, fused=False)
        _assert_grads_equal(fused, loop, rtol=1e-10, atol=1e-13)


def test_modprop_leak_free_paths_agree():
    model, x, target, mask = _tiny_relu_dale(seed=22, n=12, tau=1.0)
    _assert_grads_equal(_grads(model, x, target, mask, ModProp(), fused=True),
                        _grads(model, x, target, mask, ModProp(), fused=False), rtol=1e-10, atol=1e-13)


def test_modprop_forward_values_equal_bptt():
    model, x, _, _ = _tiny_relu_dale(seed=23)
    for fused in (True, False):
        y_b, h_b = model(x, BPTT(), fused=fused)
        y_m, h_m = model(x, ModProp(), fused=fused)
        assert torch.equal(y_b.detach(), y_m.detach()) and torch.equal(h_b.detach(), h_m.detach())


def test_cell_types_and_type_average():
    signs = torch.tensor([1.0] * 8 + [-1.0] * 2)
    assert cell_types(signs, 3, 2).tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 3, 4]
    assert cell_types(signs, 1, 1).tolist() == [0] * 8 + [1] * 2
    assert cell_types(signs, 100, 100).tolist() == list(range(10))
    with pytest.raises(ValueError, match="excitatory units first"):
        cell_types(torch.tensor([-1.0, 1.0]), 1, 1)
    w = torch.randn(10, 10, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    types = cell_types(signs, 3, 2)
    np.testing.assert_allclose(type_average(w, types).numpy(), ref.type_averaged(w.numpy(), types.numpy()),
                               rtol=1e-12)
    assert torch.equal(type_average(w, torch.arange(10)), w)  # one type per unit: W itself


@pytest.mark.parametrize(("row", "match"), [
    ({"activation": "retanh", "dale": True}, r"'modprop' cannot train arch 'x'.*ReLU.*'retanh'"),
    ({"activation": "relu"}, r"'modprop' cannot train arch 'x'.*Dale"),
    ({}, r"ReLU.*Dale"),
])
def test_modprop_refuses_architectures_that_break_its_constraints(row, match):
    with pytest.raises(ValueError, match=match):
        check_rule_arch("modprop", "x", row)
    model = RateRNN(ModelConfig(3, 10, 2, activation=row.get("activation", "retanh"), dale=row.get("dale", False)))
    with pytest.raises(ValueError, match=match.split("'x'.*")[-1]):
        model(torch.zeros(1, 3, 3), ModProp())


def test_check_rule_arch_accepts_what_rules_can_train():
    check_rule_arch("modprop", "relu_dale", {"activation": "relu", "dale": True, "n_hidden": 5})
    for name in RULES:
        if name != "modprop":
            check_rule_arch(name, "base", {})
    with pytest.raises(ValueError, match="unknown learning rule"):
        check_rule_arch("modprob", "base", {})


def test_config_check_refuses_modprop_on_archs_it_cannot_train():
    import copy

    import yaml

    from biocredit.learning import check_config_rules
    from tests.conftest import REPO

    base = yaml.safe_load((REPO / "config.yaml").read_text())
    check_config_rules(base)  # the default preset passes
    bad = copy.deepcopy(base)
    bad["similarity"]["rules"] = ["bptt", "modprop"]
    with pytest.raises(ValueError, match=r"similarity\.rules.*'modprop' cannot train arch '\w+'.*ReLU"):
        check_config_rules(bad)
    bad = copy.deepcopy(base)
    bad["generalization"]["rules"] = ["bptt", "modprop"]  # b_relu: ReLU but no Dale's law; b_leaky: neither
    with pytest.raises(ValueError, match=r"generalization.*'modprop' cannot train arch 'b_\w+'.*Dale"):
        check_config_rules(bad)
    ok = copy.deepcopy(base)
    ok["archs"]["relu_dale"] = {"n_hidden": 20, "activation": "relu", "dale": True}
    ok["similarity"]["archs"] = ["relu_dale"]
    ok["similarity"]["task_archs"] = {}
    ok["similarity"]["rules"] = ["bptt", "modprop"]
    check_config_rules(ok)
