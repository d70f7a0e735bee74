"""Learning rules for the rate RNN, behind one small interface.

A rule changes only the *backward* pass of :meth:`biocredit.model.RateRNN.forward`:

- :meth:`LearningRule.cuts_recurrence` says at which steps the recurrent drive ``W_rec h_{t-1}`` sees a detached
  ``h_{t-1}``. Never cutting keeps every path (BPTT); cutting everywhere removes the non-local recurrent Jacobian and
  leaves exactly e-prop's factorisation (learning signal × eligibility trace, Bellec et al. 2020) because the
  leak path ``a_{t-1} -> a_t`` and the local ``f'`` stay in the graph.
- :meth:`LearningRule.readout` computes ``y = W_out h + b_out``; a rule may replace the feedback matrix that
  carries output errors back to the units (random feedback).

Every rule then gets its parameter update from ``loss.backward()``; the weight gradients it produces are the
rule's update direction. The model runs the recurrence either as a plain autograd loop (the reference, which
also supports double backward for Hessians) or as one fused autograd function with a hand-written backward that
honours the same cut schedule (the fast path for training); tests hold the two equal, and compare each rule to
an independent explicit-trace implementation.
"""

from __future__ import annotations

from biocredit.rules.base import LearningRule
from biocredit.rules.bptt import BPTT
from biocredit.rules.eprop import EProp

RULES: dict[str, type[LearningRule]] = {"bptt": BPTT, "eprop": EProp}

__all__ = ["LearningRule", "BPTT", "EProp", "RULES", "make_rule"]


def make_rule(name: str, **options) -> LearningRule:
    """Build a rule by its config name (``bptt``, ``eprop``)."""
    try:
        cls = RULES[name]
    except KeyError:
        raise ValueError(f"unknown learning rule {name!r}; known rules: {sorted(RULES)}") from None
    return cls(**options)
