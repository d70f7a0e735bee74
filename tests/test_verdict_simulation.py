"""The verdict rules on simulated runs with a known truth (a fast, seeded version of benchmarks/bench_verdicts.py):
with the true difference on the margin, the equivalence verdict says holds in at most 5% of experiments; inside
the margin it mostly holds, outside it mostly fails; the Welch interval covers at its level; two independent seed
sets almost never contradict each other, while the two-valued rule of before flips often."""

from __future__ import annotations

import pytest

from biocredit.claims.simulation import composite_false_holds, equivalence_rates, two_set_contradictions


def test_false_holds_at_the_margin_and_coverage():
    r = equivalence_rates(delta=0.05, margin=0.05, sd=0.01, n=5, draws=3000, seed=1)
    assert r["holds"] <= 0.05  # nominal: 0.025 (one side of a 95% interval)
    assert 0.93 <= r["coverage"] <= 0.97  # Welch is exact for normal runs: 0.95 ± 0.004 (Monte Carlo sd)


@pytest.mark.parametrize(("delta", "expect"), [(0.0, "holds"), (0.1, "fails")])
def test_clear_effects_are_decided(delta, expect):
    r = equivalence_rates(delta=delta, margin=0.05, sd=0.01, n=5, draws=500, seed=2)
    assert r[expect] >= 0.9


def test_two_seed_sets_rarely_contradict_but_the_two_valued_rule_flips():
    three = two_set_contradictions(delta=0.05, draws=1000, seed=3)
    two = two_set_contradictions(delta=0.05, draws=1000, seed=3, three_valued=False)
    assert three <= 0.01 and two >= 0.03


def test_percentile_bootstrap_with_five_runs_is_too_narrow():
    """The old interval: at 5 runs a rule its coverage is well below 95%, and at the margin it holds more often."""
    pct = equivalence_rates(delta=0.05, sd=0.01, n=5, draws=400, method="percentile", seed=4)
    welch = equivalence_rates(delta=0.05, sd=0.01, n=5, draws=400, seed=4)
    assert pct["coverage"] < 0.92 < welch["coverage"] and pct["holds"] > welch["holds"]


def test_bonferroni_keeps_a_composite_false_holds_rate():
    adjusted = composite_false_holds(k=3, draws=1500, seed=5)
    assert adjusted["holds"] <= 0.05
