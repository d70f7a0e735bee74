"""biocredit._memory.keep_freed_memory keeps training-step-sized blocks on the heap but must not let the heap grow
with every larger block (1000-trial evaluations, growing resume states): the process's memory stays bounded."""

from __future__ import annotations

import subprocess
import sys

import pytest

# An evaluation-like pattern: two large blocks (one growing), a smaller one, and small blocks that stay alive (like
# the checkpoints a run keeps) allocated among them. On a never-trimmed heap the holes the large blocks leave under
# the kept ones cannot be returned and do not fit the next, larger blocks, so resident memory grows with every
# round (~800 MB here); blocks above the limit are mmap'ed and returned on free.
_SCRIPT = """
import sys
import numpy as np
from biocredit._memory import keep_freed_memory
assert keep_freed_memory(*[int(a) for a in sys.argv[1:]])
keep = []
for i in range(30):
    a = np.ones((100 << 20) // 8)
    b = np.ones(((100 + 3 * i) << 20) // 8)
    keep.append(np.ones(((1 << 20) + i * (100 << 10)) // 8))
    del a
    c = np.ones(((50 + 2 * i) << 20) // 8)
    keep.append(np.ones((1 << 20) // 8))
    del b, c
print(int(next(line for line in open("/proc/self/status") if line.startswith("VmRSS")).split()[1]) // 1024)
"""


def _rss_mb(*args: int) -> int:
    out = subprocess.run([sys.executable, "-c", _SCRIPT, *map(str, args)], capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt; elsewhere it does nothing")
def test_kept_heap_does_not_grow_with_ever_larger_blocks():
    bounded = _rss_mb()  # the default limit, as train() applies it
    grown = _rss_mb(1 << 30)  # a 1 GB limit keeps every block on the heap: the growth this guards against
    assert bounded < 400, bounded
    assert grown > bounded + 400, (grown, bounded)
