"""DSA from the ``dsa-metric`` package (biocredit.dynamics.dsa_distance) on trajectories of our own rate RNN.

Invariance oracle: trajectories under an invertible linear change of unit coordinates have conjugate HAVOK
operators when the rank keeps every dimension (the Hankel singular vectors are whitened coordinates), so DSA must
be ≈ 0 there and clearly larger for a network with other weights. "≈ 0" is up to the package's search for the
orthogonal change of basis (gradient descent over rotations from the identity and one permutation: a local search
that does not reach reflections), hence a tolerance rather than 1e-6.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from biocredit.dynamics import dsa_distance
from biocredit.model import ModelConfig, RateRNN

N = 8
FULL = {"n_delays": 2, "rank": 2 * N, "iters": 300}  # rank = units x delays: nothing truncated


def _rates(seed, n=N, conditions=6, steps=40):
    """(unit, time, condition) rates of a random tanh RNN driven by a brief input pulse per condition."""
    gen = torch.Generator().manual_seed(seed)
    model = RateRNN(ModelConfig(3, n, 2, tau=4.0, activation="tanh", gain=1.2), generator=gen).double()
    pulse = (torch.arange(steps) < 10).double()[None, :, None]
    x = torch.randn(conditions, steps, 3, generator=gen, dtype=torch.float64) * pulse
    with torch.no_grad():
        _, h = model(x)
    return h.numpy().transpose(2, 1, 0)


def test_dsa_is_near_zero_under_a_linear_change_of_coordinates_and_larger_for_another_network():
    a, b = _rates(1), _rates(2)
    m = np.random.default_rng(0).normal(size=(N, N))  # invertible (almost surely), not orthogonal
    assert abs(np.linalg.det(m)) > 1e-3
    mapped = np.einsum("ij,jtc->itc", m, a)
    same = dsa_distance(a, mapped, **FULL)
    other = dsa_distance(a, b, **FULL)
    # the package scores in float32: arccos of a cosine one rounding below 1 is ~4.9e-4, its floor for equal inputs
    assert dsa_distance(a, a, **FULL) <= float(np.arccos(np.float32(1) - 2 * np.finfo(np.float32).eps))
    assert same < 0.06
    assert other > 0.2
    assert other > 5 * same


def test_dsa_is_reproducible_and_leaves_the_global_generator_alone():
    a, b = _rates(1), _rates(2)
    torch.manual_seed(123)
    before = torch.rand(3)
    torch.manual_seed(123)
    d1 = dsa_distance(a, b, **FULL)
    after = torch.rand(3)
    assert torch.equal(before, after)
    assert dsa_distance(a, b, **FULL) == d1


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"n_delays": 0}, r"n_delays must be a positive integer"),
    ({"rank": 2.5}, r"rank must be a positive integer"),
    ({"lr": 0.0}, r"lr must be positive"),
    ({"n_delays": 40}, r"rate_a has 40 time steps.*n_delays=40"),
])
def test_dsa_rejects_bad_settings(kwargs, match):
    a = _rates(1)
    with pytest.raises(ValueError, match=match):
        dsa_distance(a, a, **kwargs)
    with pytest.raises(ValueError, match="shape"):
        dsa_distance(a[0], a)
