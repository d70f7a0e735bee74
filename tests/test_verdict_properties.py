"""Properties of the verdict rules over any interval (hypothesis): a verdict never says holds when the interval
crosses a margin, never says fails when the interval reaches inside, and a narrower interval never reverses a
decided verdict."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from biocredit.claims import FAILS, HOLDS, INCONCLUSIVE, ROUNDING, combine, directional_verdict, equivalence_verdict

finite = st.floats(min_value=-10.0, max_value=10.0, allow_nan=False, allow_infinity=False)
margins = st.floats(min_value=1e-6, max_value=5.0, allow_nan=False)


@st.composite
def intervals(draw):
    a, b = draw(finite), draw(finite)
    return (min(a, b), max(a, b))


@st.composite
def nested(draw):
    """An interval and one inside it."""
    lo, hi = draw(intervals())
    u, v = sorted((draw(st.floats(0, 1)), draw(st.floats(0, 1))))
    return (lo, hi), (lo + u * (hi - lo), lo + v * (hi - lo))


@settings(max_examples=400, deadline=None)
@given(ci=intervals(), margin=margins)
def test_equivalence_holds_only_inside_the_margins(ci, margin):
    lo, hi = ci
    v = equivalence_verdict(ci, margin)
    if v == HOLDS:
        assert -margin - ROUNDING <= lo and hi <= margin + ROUNDING
    if lo < -margin - ROUNDING or hi > margin + ROUNDING:  # the interval crosses or leaves a margin
        assert v != HOLDS
    if v == FAILS:  # entirely outside: no value of the interval is equivalent
        assert lo > margin or hi < -margin
    if lo <= margin and hi >= -margin and v != HOLDS:  # some value inside, some outside
        assert v == INCONCLUSIVE
    assert equivalence_verdict(ci, margin, enough=False) == INCONCLUSIVE


@settings(max_examples=400, deadline=None)
@given(pair=nested(), margin=margins)
def test_a_narrower_interval_never_reverses_an_equivalence_verdict(pair, margin):
    wide, narrow = pair
    v_wide = equivalence_verdict(wide, margin)
    if v_wide in (HOLDS, FAILS):
        assert equivalence_verdict(narrow, margin) == v_wide


@settings(max_examples=400, deadline=None)
@given(ci=intervals(), sesoi=st.floats(0.0, 3.0), direction=st.sampled_from([1, -1]))
def test_directional_holds_only_when_significant_in_the_predicted_direction(ci, sesoi, direction):
    v = directional_verdict(ci, sesoi=sesoi, direction=direction)
    lo, hi = sorted((direction * ci[0], direction * ci[1]))
    if v == HOLDS:  # significant in the predicted direction, and every effect allowed is large enough
        assert lo > 0 and lo > sesoi
    if lo <= 0 or lo <= sesoi:  # the interval holds 0, lies on the other side, or allows a trivial effect
        assert v != HOLDS
    if v == FAILS:  # the interval excludes every effect at least as large as the smallest of interest
        assert hi < sesoi
    assert directional_verdict(ci, sesoi=sesoi, direction=direction, enough=False) == INCONCLUSIVE


@settings(max_examples=400, deadline=None)
@given(pair=nested(), sesoi=st.floats(0.0, 3.0), direction=st.sampled_from([1, -1]))
def test_a_narrower_interval_never_reverses_a_directional_verdict(pair, sesoi, direction):
    wide, narrow = pair
    v_wide = directional_verdict(wide, sesoi=sesoi, direction=direction)
    if v_wide in (HOLDS, FAILS):
        assert directional_verdict(narrow, sesoi=sesoi, direction=direction) == v_wide


@settings(max_examples=400, deadline=None)
@given(truth=finite, reach=st.lists(st.floats(0.0, 5.0), min_size=4, max_size=4), sesoi=st.floats(0.0, 3.0),
       margin=margins)
def test_two_intervals_covering_the_truth_never_contradict(truth, reach, sesoi, margin):
    """Two seed sets whose intervals both cover the true effect: never holds on one and fails on the other."""
    a, b = (truth - reach[0], truth + reach[1]), (truth - reach[2], truth + reach[3])
    for rule in (lambda ci: equivalence_verdict(ci, margin), lambda ci: directional_verdict(ci, sesoi=sesoi)):
        assert {rule(a), rule(b)} != {HOLDS, FAILS}


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.sampled_from([HOLDS, FAILS, INCONCLUSIVE]), min_size=1, max_size=6))
def test_composite_holds_only_when_every_part_holds(parts):
    v = combine(parts)
    assert (v == HOLDS) == all(p == HOLDS for p in parts)
    assert (v == FAILS) == (FAILS in parts)
