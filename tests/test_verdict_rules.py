"""The three-valued verdict rules of biocredit.claims, against their definitions written out case by case."""

import math

import pytest

from biocredit.claims import (
    FAILS,
    HOLDS,
    INCONCLUSIVE,
    NOT_TESTABLE,
    UNTESTABLE,
    claim_row,
    combine,
    directional_verdict,
    equivalence_verdict,
)


@pytest.mark.parametrize(
    ("ci", "verdict"),
    [
        ((-0.01, 0.02), HOLDS),
        ((-0.05, 0.05), HOLDS),  # on the margin is inside
        ((-0.050000000000000155, 0.0), HOLDS),  # float rounding does not decide
        ((0.051, 0.2), FAILS),
        ((-0.3, -0.06), FAILS),
        ((0.04, 0.06), INCONCLUSIVE),
        ((-0.2, 0.2), INCONCLUSIVE),  # crosses both margins
        ((math.nan, 0.01), INCONCLUSIVE),
        ((None, 0.01), INCONCLUSIVE),
    ],
)
def test_equivalence_verdict(ci, verdict):
    assert equivalence_verdict(ci, 0.05) == verdict


@pytest.mark.parametrize(
    ("ci", "sesoi", "direction", "verdict"),
    [
        ((0.1, 0.4), 0.05, 1, HOLDS),
        ((-0.1, 0.4), 0.05, 1, INCONCLUSIVE),
        ((-0.4, 0.01), 0.05, 1, FAILS),  # excludes the smallest effect of interest
        ((0.01, 0.02), 0.05, 1, FAILS),  # significant but too small to matter
        ((-0.4, -0.1), 0.0, 1, FAILS),  # significant the other way
        ((-0.4, 0.1), 0.0, 1, INCONCLUSIVE),
        ((-0.4, -0.1), 0.05, -1, HOLDS),  # predicted negative
        ((0.1, 0.4), 0.0, -1, FAILS),
        ((math.inf, 1.0), 0.0, 1, INCONCLUSIVE),
    ],
)
def test_directional_verdict(ci, sesoi, direction, verdict):
    assert directional_verdict(ci, sesoi=sesoi, direction=direction) == verdict


def test_directional_verdict_refuses_bad_thresholds():
    with pytest.raises(ValueError, match="sesoi"):
        directional_verdict((0, 1), sesoi=-0.1)
    with pytest.raises(ValueError, match="direction"):
        directional_verdict((0, 1), direction=0)


def test_combine():
    assert combine([HOLDS, HOLDS]) == HOLDS
    assert combine([HOLDS, INCONCLUSIVE]) == INCONCLUSIVE
    assert combine([INCONCLUSIVE, FAILS, HOLDS]) == FAILS
    assert combine([NOT_TESTABLE, NOT_TESTABLE]) == NOT_TESTABLE
    assert combine([HOLDS, NOT_TESTABLE]) == INCONCLUSIVE
    with pytest.raises(ValueError, match="unknown"):
        combine(["maybe"])


def test_claim_row_stores_verdict_and_holds():
    base = dict(id="X1", figure="X1", study="A", claim="c", statistic="s", value=1.0, n=3, preset="t")
    assert claim_row(**base, verdict=INCONCLUSIVE)["holds"] is None
    assert claim_row(**base, verdict=FAILS)["holds"] is False
    assert claim_row(**base, holds=True)["verdict"] == HOLDS
    with pytest.raises(ValueError, match="not one of"):
        claim_row(**base, verdict="maybe")
    with pytest.raises(ValueError, match="note"):
        claim_row(**base, verdict=NOT_TESTABLE)
    assert claim_row(**base, verdict=NOT_TESTABLE, note=UNTESTABLE + "why")["verdict"] == NOT_TESTABLE
