"""The compiled recurrence step (biocredit.kernel) against the Python fused step and the autograd loop.

Oracles: :class:`biocredit.model._FusedRecurrence` (the eager step the compiled one replaces: same function, so
equal to rounding in float64 and to a stated tolerance in float32) and, independently, autograd through
``recurrence(..., fused=False)`` in float64. Every activation × leak / leak-free × cut pattern × one-step credit ×
credit matrix / gain. The tests that need the extension skip, saying so, where no C++ compiler is found; the
dispatch and fallback tests run everywhere. The extension is built once per session (its build time is printed
by the fixture: about 25 s on the 2-core VM; a cache hit takes well under a second).
"""

from __future__ import annotations

import itertools
import logging
import shutil
from pathlib import Path

import pytest
import torch

from biocredit import kernel
from biocredit import model as model_mod
from biocredit.learning import RULES, check_rule_arch, make_rule
from biocredit.model import ModelConfig, RateRNN, _FusedRecurrence, recurrence
from biocredit.train import TrainConfig, train
from tests.conftest import assert_same_run

# float32 against the eager step: equal bit for bit on the development machine (same products, ATen's tanh, FMA
# where ATen's kernels use it); a machine whose ATen kernels contract differently differs in the last bits, grown
# over the steps; in a sum over trials and steps (the weight gradient) an entry near zero can lose all its relative
# digits, hence the absolute part, relative to the tensor's largest entry. The kernel's own tanh
# (BIOCREDIT_KERNEL_TANH=own, within 3 ulp) is held to the same bound
F32_TOL = dict(rtol=1e-4, atol_of_max=2e-5)
# float64 against the eager step: rounding only
F64_TOL = dict(rtol=1e-12, atol=1e-14)
# float64 with the kernel's own tanh: a few ulp per step, grown over the steps
F64_OWN_TANH_TOL = dict(rtol=1e-11, atol_of_max=1e-13)
# float64 against the autograd loop (another order of operations)
ORACLE_TOL = dict(rtol=1e-10, atol=1e-12)

N_STEPS = 9
CUTS = {
    "none": [False] * N_STEPS,
    "all": [True] * N_STEPS,
    "every-3": [t % 3 == 0 for t in range(N_STEPS)],
    "bptt-windows": [(N_STEPS - t) % 4 == 0 for t in range(N_STEPS)],  # tBPTT's cuts, window 4
    "first-only": [t == 0 for t in range(N_STEPS)],
}
CREDITS = {"exact": (False, None), "w_credit": (True, None), "gain": (False, 0.7), "w_credit+gain": (True, 0.7)}
CASES = [c for c in itertools.product(["retanh", "tanh", "relu"], [1.0, 0.25], list(CUTS), [False, True],
                                      list(CREDITS))
         if not (c[3] and CREDITS[c[4]][1] is not None)]  # one-step credit with a gain is refused by recurrence()


@pytest.fixture(scope="session")
def compiled():
    """The built extension (once per session), or a skip saying why there is none."""
    if shutil.which("c++") is None and shutil.which("g++") is None:
        pytest.skip("no C++ compiler on PATH: the compiled recurrence cannot be built here (the Python step runs)")
    try:
        ops = kernel.load()
    except kernel.KernelUnavailable as exc:
        pytest.skip(f"the C++ recurrence does not build here: {exc}")
    print(f"\ncompiled recurrence loaded in {kernel.build_seconds():.1f} s")
    return ops


@pytest.fixture(autouse=True)
def one_thread():
    """One intra-op thread, as the workflow's jobs run (and the bit-for-bit comparisons need)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def mode(monkeypatch):
    def set_mode(value):
        monkeypatch.setenv("BIOCREDIT_KERNEL", value)

    return set_mode


def _inputs(dtype, credit, batch=3, n=7, seed=0):
    g = torch.Generator().manual_seed(seed)
    drive = torch.randn(batch, N_STEPS, n, generator=g, dtype=dtype)
    a0 = 0.5 * torch.randn(n, generator=g, dtype=dtype)
    w_rec = 1.3 * torch.randn(n, n, generator=g, dtype=dtype) / n**0.5
    with_matrix, gain = CREDITS[credit]
    w_credit = torch.randn(n, n, generator=g, dtype=dtype) / n**0.5 if with_matrix else None
    upstream = torch.randn(batch, N_STEPS, n, generator=g, dtype=dtype)
    return drive, a0, w_rec, w_credit, gain, upstream


def _run(dtype, activation, alpha, cut, one_step, credit, fused=True, core=None, time_major_grad=False, **size):
    """Rates and the gradients of drive, a0 and W_rec for the loss Σ h·u (u random)."""
    drive, a0, w_rec, w_credit, gain, upstream = _inputs(dtype, credit, **size)
    leaves = [t.clone().requires_grad_() for t in (drive, a0, w_rec)]
    if core is None:
        h = recurrence(*leaves, alpha, activation, CUTS[cut], fused=fused, one_step=one_step, w_credit=w_credit,
                       credit_gain=gain)
    else:
        h = core.apply(*leaves, alpha, activation, tuple(CUTS[cut]), one_step, w_credit, gain)
    if time_major_grad:  # the incoming gradient laid out time-major (as RateRNN.forward's readout hands it back)
        upstream = upstream.transpose(0, 1).contiguous().transpose(0, 1)
    h.backward(upstream)
    return [h.detach()] + [t.grad for t in leaves]


def _close(a, b, rtol, atol=0.0, atol_of_max=0.0, msg=None):
    atol = max(atol, atol_of_max * float(b.abs().max()))
    torch.testing.assert_close(a, b, rtol=rtol, atol=atol, msg=msg)


def _assert_all_close(got, ref, tol, what):
    for name, a, b in zip(("h", "drive", "a0", "w_rec"), got, ref, strict=True):
        _close(a, b, **tol, msg=lambda m, name=name: f"{what} {name}: {m}")


@pytest.mark.parametrize("activation,alpha,cut,one_step,credit", CASES)
def test_compiled_equals_eager_float64(compiled, mode, activation, alpha, cut, one_step, credit):
    mode("cpp")
    case = (activation, alpha, cut, one_step, credit)
    for size in (dict(batch=3, n=7), dict(batch=5, n=41)):  # a block below and one above the vector width
        ref = _run(torch.float64, *case, core=_FusedRecurrence, **size)
        got = _run(torch.float64, *case, **size)
        _assert_all_close(got, ref, F64_TOL, f"{case} {size}")


@pytest.mark.parametrize("activation,alpha,cut,one_step,credit", CASES)
def test_compiled_equals_eager_float32(compiled, mode, activation, alpha, cut, one_step, credit):
    mode("cpp")
    case = (activation, alpha, cut, one_step, credit)
    ref = _run(torch.float32, *case, core=_FusedRecurrence, batch=5, n=41)
    got = _run(torch.float32, *case, batch=5, n=41, time_major_grad=True)
    _assert_all_close(got, ref, F32_TOL, str(case))


@pytest.mark.parametrize("activation,alpha,cut,one_step,credit", CASES)
def test_compiled_equals_autograd_loop_float64(compiled, mode, activation, alpha, cut, one_step, credit):
    """The independent oracle: autograd through the plain loop (fused=False)."""
    if one_step and CREDITS[credit][0]:
        pytest.skip("one-step credit with a credit matrix (no rule uses both): the two reference paths already "
                    "differ there (the fused step sends MDGL's partial rows through w_credit, the loop's shadow "
                    "through W_rec); the compiled step follows the fused one (tested above)")
    mode("cpp")
    case = (activation, alpha, cut, one_step, credit)
    ref = _run(torch.float64, *case, fused=False)
    got = _run(torch.float64, *case, core=kernel.CompiledRecurrence)
    _assert_all_close(got, ref, ORACLE_TOL, str(case))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("activation,alpha,cut,one_step,credit", [
    c for c in CASES if c[0] != "relu" and c[2] in ("none", "every-3") and c[4] in ("exact", "gain")])
def test_own_tanh_equals_eager(compiled, mode, monkeypatch, dtype, activation, alpha, cut, one_step, credit):
    """BIOCREDIT_KERNEL_TANH=own: the kernel's tanh in the step's pass; equal to the eager step within a few ulp."""
    mode("cpp")
    monkeypatch.setenv("BIOCREDIT_KERNEL_TANH", "own")
    case = (activation, alpha, cut, one_step, credit)
    ref = _run(dtype, *case, core=_FusedRecurrence, batch=5, n=41)
    got = _run(dtype, *case, batch=5, n=41)
    _assert_all_close(got, ref, F32_TOL if dtype == torch.float32 else F64_OWN_TANH_TOL, str(case))


@pytest.mark.parametrize("tanh", ["aten", "own"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_non_finite_drive_as_eager(compiled, mode, monkeypatch, tanh, dtype):
    """±inf and NaN in the drive: the same rates (NaN where eager has NaN) as the eager step, every activation."""
    mode("cpp")
    monkeypatch.setenv("BIOCREDIT_KERNEL_TANH", tanh)
    drive = torch.randn(4, 3, 5, dtype=dtype)
    drive[0, 0, 1], drive[1, 1, 2], drive[2, 0, 3] = float("inf"), float("-inf"), float("nan")
    drive[3] = torch.linspace(-30, 30, 15, dtype=dtype).view(3, 5)  # through tanh's cap and both tails
    w_rec = torch.zeros(5, 5, dtype=dtype)  # no mixing: each non-finite entry stays in its own unit
    for activation in ("retanh", "tanh", "relu"):
        for alpha in (1.0, 0.5):
            args = (drive, torch.zeros(5, dtype=dtype), w_rec, alpha, activation, (False,) * 3, False, None, None)
            ref = _FusedRecurrence.apply(*args)
            got = kernel.CompiledRecurrence.apply(*args)
            torch.testing.assert_close(got, ref, equal_nan=True, rtol=4e-7 if dtype == torch.float32 else 1e-15,
                                       atol=0)


def test_tanh_knob_is_checked(mode, monkeypatch):
    monkeypatch.setenv("BIOCREDIT_KERNEL_TANH", "fast")
    with pytest.raises(ValueError, match="BIOCREDIT_KERNEL_TANH"):
        kernel.own_tanh()


def test_the_comparison_can_fail(compiled, mode):
    """A different cut pattern gives different gradients: the equality tests above compare something."""
    mode("cpp")
    exact = _run(torch.float64, "retanh", 0.25, "none", False, "exact")
    cut = _run(torch.float64, "retanh", 0.25, "every-3", False, "exact")
    assert torch.equal(exact[0], cut[0])  # the forward does not depend on the cuts
    with pytest.raises(AssertionError):
        _assert_all_close(cut, exact, F64_TOL, "cut vs exact")


def _trainable(rule, activation):
    try:
        check_rule_arch(rule, "test", {"activation": activation, "dale": activation == "relu"})
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("rule", sorted(RULES))
@pytest.mark.parametrize("activation,tau", [("retanh", 4.0), ("tanh", 4.0), ("relu", 1.0), ("relu", 3.0)])
def test_every_rule_compiled_equals_eager_through_the_model(compiled, mode, rule, activation, tau):
    """Each learning rule's credit path (cuts, one-step credit, credit matrix and gain, readout), under Dale's law
    and a sparse mask for ReLU nets: the model's gradients with the compiled step equal the eager step's."""
    dale = activation == "relu"
    if not _trainable(rule, activation):
        pytest.skip(f"{rule} cannot train {activation} units")
    gen = torch.Generator().manual_seed(1)
    cfg = ModelConfig(3, 9, 2, tau=tau, activation=activation, gain=1.2, dale=dale, density=0.7 if dale else 1.0)
    net = RateRNN(cfg, generator=gen).double()
    with torch.no_grad():
        net.a0.normal_(0, 0.5, generator=gen)
    x = torch.randn(4, 11, 3, generator=gen, dtype=torch.float64)
    target = torch.randn(4, 11, 2, generator=gen, dtype=torch.float64)
    opts = {"seed": 3} if "seed" in getattr(make_rule(rule), "__dict__", {}) else {}
    grads = {}
    for which in ("eager", "cpp"):
        mode(which)
        net.zero_grad()
        y, h = net(x, make_rule(rule, **opts))
        (((y - target) ** 2).mean() + 0.3 * model_mod.mean_square(h)).backward()
        grads[which] = {k: p.grad.clone() for k, p in net.named_parameters() if p.grad is not None}
    assert grads["cpp"].keys() == grads["eager"].keys()
    for k in grads["eager"]:
        torch.testing.assert_close(grads["cpp"][k], grads["eager"][k], **F64_TOL, msg=f"{rule} {k}")


# --- dispatch and fallback: these run with or without a compiler ----------------------------------------------------


def _core_of(h):
    return type(h.grad_fn).__name__


def _tiny(dtype=torch.float32, device="cpu"):
    drive = torch.randn(2, 4, 3, dtype=dtype, device=device, requires_grad=True)
    a0 = torch.zeros(3, dtype=dtype, device=device, requires_grad=True)
    w = torch.randn(3, 3, dtype=dtype, device=device, requires_grad=True)
    return drive, a0, w


def test_eager_knob_runs_the_python_step(mode):
    mode("eager")
    h = recurrence(*_tiny(), 0.5, "tanh", [False] * 4)
    assert _core_of(h) == "_FusedRecurrenceBackward"


def test_cpp_knob_runs_the_compiled_step(compiled, mode):
    mode("cpp")
    h = recurrence(*_tiny(), 0.5, "tanh", [False] * 4)
    assert _core_of(h) == "CompiledRecurrenceBackward"


def test_auto_uses_what_is_there(mode):
    mode("auto")
    h = recurrence(*_tiny(), 0.5, "tanh", [False] * 4)
    try:
        kernel.load()
        expected = "CompiledRecurrenceBackward"
    except kernel.KernelUnavailable:
        expected = "_FusedRecurrenceBackward"
    assert _core_of(h) == expected


def test_unknown_knob_is_refused(mode):
    mode("fast")
    with pytest.raises(ValueError, match="BIOCREDIT_KERNEL"):
        recurrence(*_tiny(), 0.5, "tanh", [False] * 4)


def test_failed_build_falls_back_under_auto_and_raises_under_cpp(mode, monkeypatch, caplog):
    """A failed build (simulated: the remembered failure of this process) means the Python step under auto, a
    clear error under cpp; the log says which path runs, once."""
    monkeypatch.setattr(kernel, "_state", {"error": "the C++ recurrence could not be built (simulated)"})
    monkeypatch.setattr(kernel, "_logged", set())
    mode("auto")
    with caplog.at_level(logging.INFO, logger="biocredit.kernel"):
        for _ in range(3):
            h = recurrence(*_tiny(), 0.5, "retanh", [False] * 4)
            assert _core_of(h) == "_FusedRecurrenceBackward"
    lines = [r.getMessage() for r in caplog.records if r.name == "biocredit.kernel"]
    assert len(lines) == 1 and "Python step" in lines[0] and "simulated" in lines[0]
    mode("cpp")
    with pytest.raises(kernel.KernelUnavailable, match="BIOCREDIT_KERNEL=cpp.*simulated"):
        recurrence(*_tiny(), 0.5, "retanh", [False] * 4)


def test_build_clears_a_stale_torch_lock_and_serialises(monkeypatch, tmp_path):
    """A torch lock file left by a killed build is removed (torch would wait on it forever), under our own flock
    (held during the build: a second process blocks on it). The build itself is replaced by a probe."""
    from torch.utils import cpp_extension

    fcntl = pytest.importorskip("fcntl")
    monkeypatch.setenv("TORCH_EXTENSIONS_DIR", str(tmp_path))
    build_dir = tmp_path / "probe"
    build_dir.mkdir()
    (build_dir / "lock").write_text("")  # as a process killed inside torch's build leaves it
    seen = {}

    def probe(name, **kwargs):
        seen["stale lock"] = (build_dir / "lock").exists()
        with open(build_dir / "biocredit.flock") as other:  # another process's attempt would block here
            try:
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
                seen["lock free"] = True
            except BlockingIOError:
                seen["lock free"] = False

    monkeypatch.setattr(cpp_extension, "load", probe)
    kernel._build(cpp_extension, "probe", ["-O3"])
    assert seen == {"stale lock": False, "lock free": False}


@pytest.mark.parametrize("explicit", [True, False])
def test_cache_path_is_torchs(monkeypatch, tmp_path, explicit):
    """The cached library is looked for where torch's build puts it (TORCH_EXTENSIONS_DIR, else the user cache)."""
    from torch.utils import cpp_extension

    if explicit:
        monkeypatch.setenv("TORCH_EXTENSIONS_DIR", str(tmp_path / "ext"))
    else:
        monkeypatch.delenv("TORCH_EXTENSIONS_DIR", raising=False)
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert Path(cpp_extension._get_build_directory("probe", False)) == kernel._default_build_root() / "probe"


def test_a_cut_short_library_is_removed_not_loaded(monkeypatch, tmp_path):
    pytest.importorskip("fcntl")
    monkeypatch.setenv("TORCH_EXTENSIONS_DIR", str(tmp_path))
    (tmp_path / "probe").mkdir()
    (tmp_path / "probe" / "probe.so").write_bytes(b"\x7fELF cut short")
    assert not kernel._load_built("probe")
    assert not (tmp_path / "probe" / "probe.so").exists()
    assert not kernel._load_built("absent")


def test_tensors_the_kernel_does_not_take_run_the_python_step(mode, monkeypatch):
    """Another device or dtype takes the Python step, also under cpp (meta tensors stand in for a GPU here)."""
    monkeypatch.setattr(kernel, "_state", {"error": "must not be asked"})
    mode("cpp")
    drive, a0, w = _tiny(device="meta")
    assert not kernel.use_compiled(drive, w)
    drive, a0, w = _tiny(dtype=torch.bfloat16)
    assert not kernel.use_compiled(drive, w)
    h = recurrence(drive, a0, w, 0.5, "relu", [False] * 4)
    assert _core_of(h) == "_FusedRecurrenceBackward"


def _pre_kernel_recurrence(drive, a0, w_rec, alpha, activation, cut, fused=True, one_step=False, w_credit=None,
                           credit_gain=None):
    """``recurrence`` as it was before the compiled step: the fused branch straight to ``_FusedRecurrence``."""
    assert fused
    if w_credit is not None:
        w_credit = w_credit.detach().to(dtype=w_rec.dtype, device=w_rec.device)
    return _FusedRecurrence.apply(drive, a0, w_rec, alpha, activation, tuple(bool(c) for c in cut), bool(one_step),
                                  w_credit, None if credit_gain is None else float(credit_gain))


def _short_train(reach_task, rule):
    cfg = TrainConfig(n_updates=4, lr=1e-2, batch_size=8, n_test_trials=8, checkpoints=(0, 2, 4),
                      activity_penalty=1.0)
    return train(reach_task, ModelConfig(3, 12, 2), make_rule(rule), cfg, seed=5, device="cpu", progress=False)


@pytest.mark.parametrize("rule", ["bptt", "eprop", "mdgl"])
def test_forced_fallback_trains_as_before(reach_task, mode, monkeypatch, rule):
    """BIOCREDIT_KERNEL=eager: a short train() run gives bit-identical checkpoints and metrics to the code before
    the compiled step (recurrence's fused branch straight to _FusedRecurrence)."""
    mode("eager")
    forced = _short_train(reach_task, rule)
    with monkeypatch.context() as m:
        m.setattr(model_mod, "recurrence", _pre_kernel_recurrence)
        before = _short_train(reach_task, rule)
    assert_same_run(forced, before, exact=True)


@pytest.mark.parametrize("rule", ["bptt", "eprop"])
def test_compiled_step_trains_as_the_eager_one(compiled, reach_task, mode, rule):
    """float32, a few Adam updates of a retanh net: equal within F32_TOL (the compiled tanh differs from ATen's in
    the last bits)."""
    mode("eager")
    eager = _short_train(reach_task, rule)
    mode("cpp")
    comp = _short_train(reach_task, rule)
    assert_same_run(comp, eager, exact=False, state_close=lambda x, y: _close(x, y, **F32_TOL))

