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

Two more hooks act on the recurrent credit path itself (ModProp, Liu et al.): :meth:`LearningRule.credit_matrix`
replaces ``W_rec`` by another matrix there, and :attr:`LearningRule.recurrent_credit_gain` replaces ``f'`` by a
constant.

Config names: ``bptt``, ``tbptt`` (option ``window``), ``eprop``, ``eprop_random`` (options ``seed``,
``n_hidden``, ``n_out``, ``generator``), ``rflo`` (same options), ``mdgl``, ``bptt_random`` (BPTT with random
readout feedback; options as ``eprop_random``), ``modprop`` (options ``mu``, ``n_types_exc``, ``n_types_inh``;
ReLU units with Dale's law only, see :func:`check_rule_arch`).
"""

from __future__ import annotations

import inspect

from biocredit.learning.base import LearningRule
from biocredit.learning.bptt import BPTT
from biocredit.learning.bptt_random import BPTTRandomFeedback
from biocredit.learning.eprop import EProp
from biocredit.learning.eprop_random import EPropRandom
from biocredit.learning.feedback import RandomFeedbackRule
from biocredit.learning.mdgl import MDGL
from biocredit.learning.modprop import ModProp
from biocredit.learning.modprop import constraint_violations as _modprop_violations
from biocredit.learning.rflo import RFLO
from biocredit.learning.tbptt import TruncatedBPTT
from biocredit.runs import grid

RULES: dict[str, type[LearningRule]] = {
    "bptt": BPTT,
    "tbptt": TruncatedBPTT,
    "eprop": EProp,
    "eprop_random": EPropRandom,
    "rflo": RFLO,
    "mdgl": MDGL,
    "bptt_random": BPTTRandomFeedback,
    "modprop": ModProp,
}

#: per rule: why an architecture row (``activation``, ``dale``) cannot be trained with it (empty list: it can)
_ARCH_CONSTRAINTS = {"modprop": _modprop_violations}

__all__ = ["LearningRule", "BPTT", "TruncatedBPTT", "EProp", "EPropRandom", "RFLO", "MDGL", "RandomFeedbackRule",
           "BPTTRandomFeedback", "ModProp", "RULES", "make_rule", "rule_options", "check_rule_arch",
           "check_config_rules"]


def check_rule_arch(rule: str, arch: str, arch_row: dict) -> None:
    """Raise ``ValueError`` naming the rule, the arch row and why, if rule ``rule`` cannot train the architecture
    ``arch_row`` (a row of the config's ``archs`` table; missing keys take :class:`~biocredit.model.ModelConfig`'s
    defaults). Only ModProp has such constraints (ReLU units, Dale's law)."""
    _rule_class(rule)
    check = _ARCH_CONSTRAINTS.get(rule)
    if check is None:
        return
    why = check(arch_row.get("activation", "retanh"), bool(arch_row.get("dale", False)))
    if why:
        raise ValueError(f"learning rule {rule!r} cannot train arch {arch!r}: " + "; ".join(why))


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


def check_config_rules(config: dict) -> None:
    """Refuse a workflow config whose run grid pairs a rule with an ``archs`` row it cannot train (ModProp: ReLU
    units with Dale's law), naming the config key, the rule, the arch row and why (``ValueError``).

    Study A trains every rule of ``similarity.rules`` on every arch of every task (``task_archs`` or ``archs``);
    study B every run of :func:`biocredit.runs.grid` on its task's arch.
    """
    pairs = set()
    sim = config.get("similarity", {})
    for task in sim.get("tasks", []):
        for arch in sim.get("task_archs", {}).get(task, sim.get("archs", [])):
            pairs |= {("similarity.rules", rule, arch) for rule in sim.get("rules", [])}
    if "generalization" in config:
        for run in grid(config["generalization"]):
            pairs.add(("generalization (rules and remedies)", run["rule"].split("-")[0], run["arch"]))
    for where, rule, arch in sorted(pairs):
        if arch not in config.get("archs", {}):
            continue  # an unknown arch row is reported where the run is built
        try:
            check_rule_arch(rule, arch, config["archs"][arch])
        except ValueError as err:
            raise ValueError(f"config error in {where}: {err}") from None
