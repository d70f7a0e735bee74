"""The decision of the context-dependent integration task (Mante et al. 2013), shared by the task that generates
its trials (:mod:`biocredit.tasks.mante`) and the preprocessing that groups the monkeys' trials into its
conditions (:mod:`biocredit.data.mante`).

Vocabulary (docs/architecture.md, glossary): the *context* (motion or colour) says which coherence is relevant;
the *choice* (1 or 2) is what that coherence asks for. "Rule" is kept for learning rules.
"""

from __future__ import annotations

import numpy as np

__all__ = ["context_choice"]


def context_choice(context_code, motion, colour) -> np.ndarray:
    """The correct choice per trial: 2 when the coherence the context makes relevant is positive, else 1.

    ``context_code`` is 1 for the motion context and anything else (−1) for the colour context; ``motion`` and
    ``colour`` are signed coherences or their signed ranks (only the sign matters). Arrays broadcast together.
    """
    relevant = np.where(np.asarray(context_code) == 1, motion, colour)
    return np.where(relevant > 0, 2, 1).astype(np.int64)
