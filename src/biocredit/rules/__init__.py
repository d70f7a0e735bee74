"""Learning rules for the rate RNN, behind one small interface.

A rule changes only the *backward* pass of :meth:`biocredit.model.RateRNN.forward`:

- :meth:`LearningRule.cuts_recurrence` says at which steps the recurrent drive ``W_rec h_{t-1}`` sees a detached
  ``h_{t-1}``. Never cutting keeps every path (BPTT); cutting everywhere removes the non-local recurrent Jacobian and
  leaves exactly e-prop's factorisation (learning signal × eligibility trace, Bellec et al. 2020) because the
  leak path ``a_{t-1} -> a_t`` and the local ``f'`` stay in the graph; cutting every ``k`` steps from the trial
  end is truncated BPTT (Williams & Zipser 1990).
- :attr:`LearningRule.one_step_credit`: a cut step still passes the partial learning signal one recurrent step
  back (MDGL, Liu et al. 2021).
- :meth:`LearningRule.readout` computes ``y = W_out h + b_out``; a rule may replace the feedback matrix that
  carries output errors back to the units (random feedback: ``eprop_random``, ``rflo``).
- :attr:`LearningRule.activity_credit`: whether loss terms on the rates (activity penalty) send credit (RFLO,
  Murray 2019: no).

Every rule then gets its parameter update from ``loss.backward()``; the weight gradients it produces are the
rule's update direction. The model runs the recurrence either as a plain autograd loop (the reference, which
also supports double backward for Hessians) or as one fused autograd function with a hand-written backward that
honours the same schedule (the fast path for training); tests hold the two equal, and compare each rule to
an independent explicit-trace implementation.

Config names: ``bptt``, ``tbptt`` (option ``window``), ``eprop``, ``eprop_random`` (options ``seed``,
``n_hidden``, ``n_out``, ``generator``), ``rflo`` (same options), ``mdgl``.
"""

from __future__ import annotations

import inspect

from biocredit.rules.base import LearningRule
from biocredit.rules.bptt import BPTT
from biocredit.rules.eprop import EProp
from biocredit.rules.eprop_random import EPropRandom
from biocredit.rules.feedback import RandomFeedbackRule
from biocredit.rules.mdgl import MDGL
from biocredit.rules.rflo import RFLO
from biocredit.rules.tbptt import TruncatedBPTT

RULES: dict[str, type[LearningRule]] = {
    "bptt": BPTT,
    "tbptt": TruncatedBPTT,
    "eprop": EProp,
    "eprop_random": EPropRandom,
    "rflo": RFLO,
    "mdgl": MDGL,
}

__all__ = ["LearningRule", "BPTT", "TruncatedBPTT", "EProp", "EPropRandom", "RFLO", "MDGL", "RandomFeedbackRule",
           "RULES", "make_rule", "rule_options"]


def rule_options(name: str) -> dict[str, object]:
    """The options rule ``name`` accepts, with their defaults (``inspect.Parameter.empty`` where required)."""
    cls = _rule_class(name)
    params = inspect.signature(cls.__init__).parameters
    return {k: p.default for k, p in params.items() if k != "self" and p.kind is not p.VAR_KEYWORD}


def make_rule(name: str, **options) -> LearningRule:
    """Build a rule by its config name (see the module docstring), with its options as keywords.

    An unknown rule, or an option the rule does not take, raises ``ValueError`` naming it and what is accepted.
    """
    cls = _rule_class(name)
    accepted = rule_options(name)
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        choices = ", ".join(sorted(accepted)) or "none"
        raise ValueError(f"unknown option(s) {unknown} for learning rule {name!r}; it accepts: {choices}")
    return cls(**options)


def _rule_class(name: str) -> type[LearningRule]:
    try:
        return RULES[name]
    except KeyError:
        raise ValueError(f"unknown learning rule {name!r}; known rules: {sorted(RULES)}") from None
