"""The compiled recurrence step: :class:`biocredit.model._FusedRecurrence`'s time loops in C++.

The C++ source (``kernel_recurrence.cpp``, next to this file) is built on first use with
:func:`torch.utils.cpp_extension.load` and cached in torch's extension directory (``TORCH_EXTENSIONS_DIR``, by
default ``~/.cache/torch_extensions``); a lock there makes two processes that build at once wait for one build
(see :func:`_build`). The products are ATen's, in the same form as the Python step; each step's elementwise work (leak
term, activation, ``f'`` from ``h``, its products, MDGL's partial rows) is one pass in C++, and the Python loop
is gone. The semantics are those of ``_FusedRecurrence`` for every argument; it stays the reference, and runs
instead where this one cannot. Numbers: the compiled step rounds as the Python step (same products, ATen's tanh,
FMA where ATen's kernels use it): bit for bit on the development machine, so checkpoints, and batched seed groups
(:mod:`biocredit.batched`, which mirror the Python step), do not change.

``BIOCREDIT_KERNEL_TANH=own`` (default ``aten``) puts the kernel's own vectorisable tanh (within 3 ulp of the exact
value; ATen's is within 1) into the step's single pass instead of a separate ATen call: faster for tanh and retanh
nets, but their rates then differ from the Python step's in the last bits (and batched groups no longer equal
separate runs bit for bit). For measurements (``benchmarks/bench_train.py``); not for the workflow.

``BIOCREDIT_KERNEL`` (environment variable, read at each call):

- ``auto`` (default): the compiled step for float32/float64 CPU tensors when the extension builds, the Python
  step otherwise (another device or dtype, no compiler, a failed build);
- ``cpp``: the compiled step, and a :class:`KernelUnavailable` error if it cannot build (tensors it does not
  handle still take the Python step);
- ``eager``: always the Python step.

One log line per process (logger ``biocredit.kernel``) says which path runs.
"""

from __future__ import annotations

import hashlib
import logging
import os
import platform
import sys
import threading
import time
from pathlib import Path

import torch

__all__ = ["KernelUnavailable", "CompiledRecurrence", "keep_for_backward", "kernel_mode", "load", "use_compiled",
           "MODES"]

log = logging.getLogger(__name__)

MODES = ("auto", "cpp", "eager")
SOURCE = Path(__file__).with_name("kernel_recurrence.cpp")
ACTIVATION_CODES = {"retanh": 0, "tanh": 1, "relu": 2}

_lock = threading.Lock()
_state: dict = {}  # "ops": the loaded op namespace, or "error": why it could not be built; "seconds"
_logged: set = set()


class KernelUnavailable(RuntimeError):
    """``BIOCREDIT_KERNEL=cpp`` was asked for and the extension cannot be built or loaded."""


def kernel_mode() -> str:
    """The ``BIOCREDIT_KERNEL`` setting (``auto`` when unset)."""
    mode = os.environ.get("BIOCREDIT_KERNEL", "auto").strip().lower() or "auto"
    if mode not in MODES:
        raise ValueError(f"BIOCREDIT_KERNEL={mode!r}; choose one of {list(MODES)}")
    return mode


def own_tanh() -> bool:
    """Whether ``BIOCREDIT_KERNEL_TANH=own`` asks for the kernel's own tanh (see the module docstring)."""
    value = os.environ.get("BIOCREDIT_KERNEL_TANH", "aten").strip().lower() or "aten"
    if value not in ("aten", "own"):
        raise ValueError(f"BIOCREDIT_KERNEL_TANH={value!r}; choose 'aten' or 'own'")
    return value == "own"


def _log_once(key: str, message: str, *args) -> None:
    if key not in _logged:
        _logged.add(key)
        log.info(message, *args)


def load():
    """The compiled ops (``torch.ops.biocredit_kernel``), built on first use; raises :class:`KernelUnavailable`
    with the reason when no compiler is found or the build fails (the failure is remembered for the process)."""
    with _lock:
        if "ops" in _state:
            return _state["ops"]
        if "error" in _state:
            raise KernelUnavailable(_state["error"])
        t0 = time.perf_counter()
        try:
            flags = _compiler_flags()
            # the name carries the hash of the source, the flags and the CPU's features: an edited source builds
            # anew, and machines of different kinds sharing one cache directory (a cluster's home) never load a
            # library built for another instruction set
            key = hashlib.sha256(SOURCE.read_bytes() + repr(flags).encode() + _cpu_features().encode())
            name = "biocredit_recurrence_" + key.hexdigest()[:12]
            if not _load_built(name):
                from torch.utils import cpp_extension  # 0.3 s to import: only when there is something to build

                _build(cpp_extension, name, flags)
            ops = torch.ops.biocredit_kernel
            ops.recurrence_forward  # noqa: B018 (fails here, not at the first step, if registration went wrong)
        except Exception as exc:  # no compiler, no ninja, a failed build or load: all mean "use the Python step"
            _state["error"] = f"the C++ recurrence could not be built ({type(exc).__name__}: {exc})"
            raise KernelUnavailable(_state["error"]) from exc
        _state["ops"] = ops
        _state["seconds"] = time.perf_counter() - t0
        return ops


def _default_build_root() -> Path:
    """Where :mod:`torch.utils.cpp_extension` builds by default (its ``_get_build_directory`` without the import)."""
    root = os.environ.get("TORCH_EXTENSIONS_DIR")
    if root:
        return Path(root)
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    device = "cpu" if torch.version.cuda is None else "cu" + torch.version.cuda.replace(".", "")
    return Path(cache) / "torch_extensions" / f"py{sys.version_info.major}{sys.version_info.minor}_{device}"


def _load_built(name: str) -> bool:
    """Load the library ``name`` if a finished build of it is in the cache (its name fixes source, flags and CPU,
    so there is nothing to check); False if there is none or it does not load (a link cut short), in which case
    it is removed for :func:`_build` to make anew."""
    build_dir = _default_build_root() / name
    library = build_dir / f"{name}.so"
    if not library.is_file():
        return False
    try:
        import fcntl
    except ImportError:
        return False
    with open(build_dir / "biocredit.flock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_SH)  # not while another process builds it
        try:
            torch.ops.load_library(str(library))
        except OSError:
            library.unlink(missing_ok=True)
            return False
    return True


def _build(cpp_extension, name: str, flags: list[str]) -> None:
    """Build (or load the cached) library ``name``, one process at a time per build directory.

    torch's own lock is a file that a process killed while holding it (a cancelled job) leaves behind, and every
    later process would then wait for it forever. So the call runs under an ``flock`` of our own, which the system
    drops with its holder: whoever holds it is the only process inside torch's build, and a torch lock file found
    then is stale and removed."""
    build_dir = Path(cpp_extension._get_build_directory(name, False))
    try:
        import fcntl
    except ImportError:  # no flock (Windows): torch's lock alone
        fcntl = None
    build_dir.mkdir(parents=True, exist_ok=True)
    with open(build_dir / "biocredit.flock", "a") as handle:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
            (build_dir / "lock").unlink(missing_ok=True)
        cpp_extension.load(name=name, sources=[str(SOURCE)], extra_cflags=flags, is_python_module=False,
                           verbose=False)


def _compiler_flags() -> list[str]:
    """``-O3``, and on x86-64 the build machine's instruction set (``std::fma`` then compiles to vector FMA
    instructions, as ATen's own kernels use, instead of a library call per element)."""
    return ["-O3", "-march=native"] if platform.machine() in ("x86_64", "AMD64") else ["-O3"]


def _cpu_features() -> str:
    """What tells one kind of CPU from another: the ``flags`` line of ``/proc/cpuinfo`` where there is one."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                return line
    except OSError:
        pass
    return platform.machine() + platform.processor()


def build_seconds() -> float | None:
    """Seconds the first :func:`load` of this process took (build or cache hit); None before it."""
    return _state.get("seconds")


def use_compiled(drive: torch.Tensor, w_rec: torch.Tensor) -> bool:
    """Whether :func:`biocredit.model.recurrence` takes the compiled step for these tensors (and logs, once per
    process, which path runs)."""
    mode = kernel_mode()
    if mode == "eager":
        _log_once("eager", "recurrence: the Python step (BIOCREDIT_KERNEL=eager)")
        return False
    if drive.device.type != "cpu" or w_rec.device.type != "cpu":
        _log_once("device", "recurrence: the Python step (tensors on %s; the C++ step is CPU only)", drive.device)
        return False
    if drive.dtype not in (torch.float32, torch.float64) or w_rec.dtype != drive.dtype:
        _log_once("dtype", "recurrence: the Python step (dtype %s; the C++ step takes float32/float64)", drive.dtype)
        return False
    try:
        load()
    except KernelUnavailable as exc:
        if mode == "cpp":
            raise KernelUnavailable(f"BIOCREDIT_KERNEL=cpp, but {exc}") from exc
        _log_once("failed", "recurrence: the Python step (%s)", exc)
        return False
    _log_once("cpp", "recurrence: the compiled C++ step (loaded in %.1f s)", _state["seconds"])
    return True


def keep_for_backward(ctx, a0, w_rec, h_all, w_credit, alpha, activation, cut, one_step, credit_gain):
    """What both recurrence cores (the compiled one and :class:`biocredit.model._FusedRecurrence`) keep for their
    backward; returns the rates as the caller sees them, a (batch, time, N) view of the time-major ``h_all``."""
    ctx.save_for_backward(a0, w_rec, h_all, w_credit)
    ctx.alpha, ctx.activation, ctx.cut, ctx.one_step = alpha, activation, cut, one_step
    ctx.credit_gain = credit_gain
    return h_all.transpose(0, 1)


class CompiledRecurrence(torch.autograd.Function):
    """The same function as :class:`biocredit.model._FusedRecurrence`, same arguments and outputs, with its forward
    and backward time loops in C++. The few once-per-call terms (the initial state's gradient, the weight gradient
    as one product) are formed here exactly as there."""

    @staticmethod
    def forward(ctx, drive, a0, w_rec, alpha, activation, cut, one_step=False, w_credit=None, credit_gain=None):
        ops = load()
        act = ACTIVATION_CODES[activation]
        batch, n_steps, n = drive.shape
        drive_tm = drive.transpose(0, 1)
        if not drive_tm.is_contiguous():
            drive_tm = drive_tm.contiguous()
        leak = alpha != 1
        w_t = (w_rec.t() * alpha) if leak else w_rec.t()
        a = a0.expand(batch, n).contiguous()
        h = _activate(a, activation)
        h_all = ops.recurrence_forward(drive_tm, a, h, w_t, float(alpha), act, own_tanh())
        return keep_for_backward(ctx, a0, w_rec, h_all, w_credit, alpha, activation, cut, one_step, credit_gain)

    @staticmethod
    def backward(ctx, grad_h):
        ops = load()
        a0, w_rec, h_all, w_credit = ctx.saved_tensors
        alpha, cut, mu = ctx.alpha, ctx.cut, ctx.credit_gain
        act = ACTIVATION_CODES[ctx.activation]
        leak = alpha != 1
        n = h_all.shape[2]
        grad_h = grad_h.transpose(0, 1)
        if not grad_h.is_contiguous():
            grad_h = grad_h.contiguous()
        w_back = w_rec if w_credit is None else w_credit
        w_back = w_back * alpha if leak else w_back
        if mu is not None:
            w_back = w_back * mu
        # dL/d drive_t = α dL/da_t for all steps, and dL/da_0
        grad_drive, grad_a = ops.recurrence_backward(grad_h, h_all, w_back, list(cut), bool(ctx.one_step),
                                                     mu is not None, float(alpha), act)
        # the initial state a0 (the step before t = 0): through the leak, and through W_rec and f'(a0)
        h0 = _activate(a0, ctx.activation)
        grad_a0 = grad_a.sum(0) * (1 - alpha) if leak else torch.zeros_like(h0)
        if not cut[0]:
            rows = grad_a
        elif ctx.one_step:
            rows = grad_h[0] * ops.activation_grad(h_all[0], act)
        else:
            rows = None
        if rows is not None:
            back = (rows @ w_back).sum(0)
            grad_a0 = grad_a0 + (back * ops.activation_grad(h0, act) if mu is None else back)
        grad_w_rec = grad_drive[1:].reshape(-1, n).t() @ h_all[:-1].reshape(-1, n)
        grad_w_rec.addmm_(grad_drive[0].sum(0, keepdim=True).t(), h0.unsqueeze(0))
        return grad_drive.transpose(0, 1), grad_a0, grad_w_rec, None, None, None, None, None, None


def _activate(a: torch.Tensor, activation: str) -> torch.Tensor:
    """``f(a)`` with the same torch calls as :data:`biocredit.model.ACTIVATIONS` (this module cannot import it)."""
    if activation == "retanh":
        return torch.relu(torch.tanh(a))
    if activation == "tanh":
        return torch.tanh(a)
    return torch.relu(a)
