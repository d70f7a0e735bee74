"""A task whose batch sampler dies after ``n`` batches, like a job killed mid-run (resume and stop tests)."""

from __future__ import annotations


class Killed(Exception):
    """Raised in place of the ``n+1``-th training batch."""


def die_after(task, n: int | None):
    """Make ``task.sample_batch`` raise :class:`Killed` after ``n`` calls (``None``: leave it); returns ``task``."""
    if n is None:
        return task
    calls = {"n": 0}
    original = task.sample_batch

    def dying(batch_size, rng):
        calls["n"] += 1
        if calls["n"] > n:
            raise Killed
        return original(batch_size, rng)

    task.sample_batch = dying
    return task
