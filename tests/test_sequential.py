"""Group-sequential critical values (biocredit.sequential) against published values and a simulation of the looks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from biocredit.sequential import critical_values, look_levels, look_sizes, spent


def test_spending_functions():
    assert spent(1.0, 0.05, "obrien-fleming") == pytest.approx(0.05)
    assert spent(1.0, 0.05, "pocock") == pytest.approx(0.05)
    assert spent(0.0, 0.05) == 0.0
    t = np.linspace(0.05, 1, 20)
    assert np.all(np.diff(spent(t)) > 0) and np.all(np.diff(spent(t, kind="pocock")) > 0)
    # O'Brien-Fleming spends far less early than Pocock
    assert spent(0.25) < spent(0.25, kind="pocock") / 10
    # each side spends 0.025 by 2 - 2Φ(z_{1-0.0125}/√t)
    assert spent(0.5) == pytest.approx(2 * (2 - 2 * sps.norm.cdf(sps.norm.ppf(1 - 0.0125) / math.sqrt(0.5))))
    with pytest.raises(ValueError):
        spent(0.5, kind="haybittle")


def test_one_look_is_the_plain_interval():
    assert critical_values([1.0])[0] == pytest.approx(1.959963984540054)
    assert look_levels([1.0])[0] == pytest.approx(0.95)


def test_obrien_fleming_values_as_published():
    """Lan-DeMets O'Brien-Fleming-type bounds, five equally spaced looks, two-sided α = 0.05 (Jennison & Turnbull
    2000, table 7.6; gsDesign/ldbounds give the same): 4.877, 3.357, 2.680, 2.290, 2.031."""
    c = critical_values([0.2, 0.4, 0.6, 0.8, 1.0])
    np.testing.assert_allclose(c, [4.877, 3.357, 2.680, 2.290, 2.031], atol=3e-3)


@pytest.mark.parametrize("kind", ["obrien-fleming", "pocock"])
def test_looks_spend_what_the_function_says(kind):
    """Simulated look statistics (cumulative sums of independent normal batches): the share of experiments whose
    first crossing is at look k is α(t_k) − α(t_{k−1}), and the overall share is α."""
    fractions = np.array([0.25, 0.5, 0.75, 1.0])
    c = critical_values(fractions, 0.05, kind)
    rng = np.random.default_rng(0)
    n_sim = 200_000
    increments = rng.normal(size=(n_sim, 4)) * np.sqrt(np.diff(fractions, prepend=0.0))
    z = np.cumsum(increments, axis=1) / np.sqrt(fractions)
    crossed = np.abs(z) >= c
    first = np.where(crossed.any(axis=1), crossed.argmax(axis=1), -1)
    expected = np.diff(spent(fractions, 0.05, kind), prepend=0.0)
    for k in range(4):
        share = np.mean(first == k)
        assert share == pytest.approx(expected[k], abs=4 * math.sqrt(expected[k] / n_sim) + 1e-4)
    assert np.mean(first >= 0) == pytest.approx(0.05, abs=0.002)


def test_pocock_levels_are_nearly_flat_and_obrien_fleming_ends_near_nominal():
    t = [0.25, 0.5, 0.75, 1.0]
    p = look_levels(t, kind="pocock")
    assert np.ptp(p) < 0.01 and np.all(p > 0.95)
    of = look_levels(t)
    assert np.all(np.diff(of) < 0) and 0.95 < of[-1] < 0.96 and of[0] > 0.9999


def test_look_sizes_and_bad_fractions():
    assert look_sizes(5, 5, 20) == [5, 10, 15, 20]
    assert look_sizes(5, 5, 12) == [5, 10, 12]
    assert look_sizes(5, 5, 5) == [5]
    with pytest.raises(ValueError):
        look_sizes(5, 5, 4)
    with pytest.raises(ValueError, match="increase"):
        critical_values([0.5, 0.5, 1.0])
    with pytest.raises(ValueError, match="increase"):
        critical_values([0.5, 1.2])
