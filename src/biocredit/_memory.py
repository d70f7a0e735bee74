"""Keep freed heap memory in the process instead of handing it back to the kernel after every training step.

One training update at faithful size allocates and frees several (time, batch, N) tensors of tens of MB (the
rates, their gradient, the input drive and its gradient). glibc serves blocks that large with fresh ``mmap`` pages
(and trims the heap top on ``free``), so every update pays for thousands of page faults and for zeroing pages the
kernel hands out again (measured: 2 000–12 000 minor faults per reach-size update, 10–50 MB). Raising glibc's
mmap and trim thresholds keeps those blocks on the heap, where the next update reuses them: 0 faults per update.
The process's peak memory does not change (the blocks are live at the peak anyway); it is only not returned early.

This changes where memory comes from, never a number computed with it. On other C libraries it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_done = False


def keep_freed_memory(limit_bytes: int = 1 << 30) -> bool:
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
