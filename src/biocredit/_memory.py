"""Keep freed heap memory in the process instead of handing it back to the kernel after every training step.

One training update at faithful size allocates and frees several (time, batch, N) tensors of tens of MB (the
rates, their gradient, the input drive and its gradient). glibc serves blocks that large with fresh ``mmap`` pages
(and trims the heap top on ``free``), so every update pays for thousands of page faults and for zeroing pages the
kernel hands out again (measured: 2 000–12 000 minor faults per reach-size update, 10–50 MB). Raising glibc's
mmap and trim thresholds keeps those blocks on the heap, where the next update reuses them: 0 faults per update.

Only blocks up to 64 MB are kept (a reach-size training step's are 24 MB). A never-trimmed heap cannot return the
holes that freed blocks leave under later, longer-lived ones, so with larger blocks on it (1000-trial evaluations
of 240 MB, resume states that grow with every checkpoint) it grew with every evaluation: a paper-scale reach run
peaked at 1.1–11.4 GB depending on the run with a 1 GB limit, against 1.0 GB with this one (300 updates: 3.8 GB
vs 1.0 GB; ``benchmarks/bench_memory.py``). Larger blocks keep glibc's own policy (mmap, returned on free).

This changes where memory comes from, never a number computed with it. On other C libraries it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_done = False


def keep_freed_memory(limit_bytes: int = 64 << 20) -> bool:
    """Serve allocations up to ``limit_bytes`` from the heap and never trim it (glibc only); True if applied."""
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    limit = int(limit_bytes)
    _done = bool(mallopt(_M_MMAP_THRESHOLD, limit)) and bool(mallopt(_M_TRIM_THRESHOLD, 2 * limit))
    return _done
