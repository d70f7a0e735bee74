"""Tests of the angular Procrustes shape distance and its baselines against oracles and invariances."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import orthogonal_procrustes
from scipy.stats import ortho_group

from biocredit.similarity import (
    as_samples,
    cross_condition_average,
    cross_condition_baseline,
    procrustes_distance,
    shape_distance,
    split_half_distances,
    split_half_indices,
)


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _reference_angle(X: np.ndarray, Y: np.ndarray) -> float:
    """Independent computation: zero-pad, centre, align with scipy's orthogonal_procrustes, take the angle."""
    width = max(X.shape[1], Y.shape[1])
    A = np.zeros((X.shape[0], width))
    B = np.zeros((Y.shape[0], width))
    A[:, : X.shape[1]] = X - X.mean(axis=0)
    B[:, : Y.shape[1]] = Y - Y.mean(axis=0)
    Q, _ = orthogonal_procrustes(A, B)
    cos = np.sum((A @ Q) * B) / (np.linalg.norm(A) * np.linalg.norm(B))
    return float(np.arccos(np.clip(cos, -1.0, 1.0)))


# ---------------------------------------------------------------------------------------------- as_samples


def test_as_samples_ordering_matches_index_formula():
    n_unit, n_time, n_cond = 3, 4, 5
    # Encode (u, t, c) in the value so every element is identifiable.
    u, t, c = np.meshgrid(np.arange(n_unit), np.arange(n_time), np.arange(n_cond), indexing="ij")
    rate = 100 * u + 10 * t + c
    X = as_samples(rate)
    assert X.shape == (n_time * n_cond, n_unit)
    for ui in range(n_unit):
        for ti in range(n_time):
            for ci in range(n_cond):
                assert X[ci * n_time + ti, ui] == 100 * ui + 10 * ti + ci
    # time varies fastest: the first rows are condition 0 at successive times
    np.testing.assert_array_equal(X[:n_time, 0], 10 * np.arange(n_time))


def test_as_samples_rejects_wrong_ndim():
    with pytest.raises(ValueError, match="unit, time, condition"):
        as_samples(np.zeros((3, 4)))


# ------------------------------------------------------------------------------------------- invariances


def test_zero_for_rotated_reflected_scaled_translated_copy():
    rng = _rng(1)
    X = rng.standard_normal((60, 7))
    Q = ortho_group.rvs(7, random_state=2)
    R = np.diag([-1.0] + [1.0] * 6)  # a reflection
    Y = 3.7 * X @ Q @ R + rng.standard_normal(7)  # rotation, reflection, scale, translation
    assert procrustes_distance(X, Y) <= 1e-6
    assert procrustes_distance(Y, X) <= 1e-6
    assert procrustes_distance(X, Y, normalize=False) <= 1e-6


def test_zero_when_other_has_more_features():
    rng = _rng(3)
    X = rng.standard_normal((80, 5))
    Q_small = ortho_group.rvs(5, random_state=4)
    padded = np.hstack([X @ Q_small, np.zeros((80, 4))])
    Q_big = ortho_group.rvs(9, random_state=5)
    Y = 0.2 * padded @ Q_big - 4.0
    assert Y.shape == (80, 9)
    assert procrustes_distance(X, Y) <= 1e-6
    assert procrustes_distance(Y, X) <= 1e-6


def test_not_invariant_to_anisotropic_scaling():
    rng = _rng(6)
    X = rng.standard_normal((100, 5))
    Y = X @ np.diag([1.0, 1.0, 1.0, 1.0, 6.0])
    assert procrustes_distance(X, Y) > 0.05


# ------------------------------------------------------------------------------------- metric properties


def test_symmetric_and_in_unit_interval():
    rng = _rng(7)
    for _ in range(50):
        n = int(rng.integers(5, 40))
        X = rng.standard_normal((n, int(rng.integers(1, 10))))
        Y = rng.standard_normal((n, int(rng.integers(1, 10))))
        d_xy = procrustes_distance(X, Y)
        assert d_xy == pytest.approx(procrustes_distance(Y, X), abs=1e-12)
        assert 0.0 <= d_xy <= 1.0
        assert procrustes_distance(X, Y, normalize=False) == pytest.approx(d_xy * np.pi / 2, abs=1e-12)


@pytest.mark.parametrize("normalize", [False, True])
def test_triangle_inequality(normalize):
    rng = _rng(8)
    for _ in range(200):
        n = int(rng.integers(4, 30))
        X, Y, Z = (rng.standard_normal((n, int(rng.integers(1, 8)))) for _ in range(3))
        # mix in shared structure so that some triples are close and the inequality is nearly tight
        if rng.random() < 0.5:
            Y = np.hstack([X[:, :1], Y]) + 0.1 * rng.standard_normal((n, Y.shape[1] + 1))
        d = {
            "xy": procrustes_distance(X, Y, normalize=normalize),
            "yz": procrustes_distance(Y, Z, normalize=normalize),
            "xz": procrustes_distance(X, Z, normalize=normalize),
        }
        assert d["xz"] <= d["xy"] + d["yz"] + 1e-9
        assert d["xy"] <= d["xz"] + d["yz"] + 1e-9
        assert d["yz"] <= d["xy"] + d["xz"] + 1e-9


def test_agrees_with_scipy_orthogonal_procrustes():
    rng = _rng(9)
    for _ in range(30):
        n = int(rng.integers(3, 50))
        X = rng.standard_normal((n, int(rng.integers(1, 12)))) * rng.uniform(0.1, 10)
        Y = rng.standard_normal((n, int(rng.integers(1, 12)))) + rng.uniform(-5, 5)
        if rng.random() < 0.5:  # partly related inputs, away from the generic value
            k = min(X.shape[1], Y.shape[1])
            Y[:, :k] += 2 * X[:, :k]
        expected = _reference_angle(X, Y)
        assert procrustes_distance(X, Y, normalize=False) == pytest.approx(expected, abs=1e-9)
        assert procrustes_distance(X, Y) == pytest.approx(expected / (np.pi / 2), abs=1e-9)


def test_fewer_samples_than_features_agrees_with_reference():
    """The n < min(p, q) branch (QR reduction) against the padded scipy reference."""
    rng = _rng(10)
    X = rng.standard_normal((6, 15))
    Y = rng.standard_normal((6, 20))
    assert procrustes_distance(X, Y, normalize=False) == pytest.approx(_reference_angle(X, Y), abs=1e-9)


def test_no_random_rotation_beats_the_optimum():
    rng = _rng(11)
    X = rng.standard_normal((40, 4))
    Y = rng.standard_normal((40, 6))
    A = np.hstack([X - X.mean(axis=0), np.zeros((40, 2))])
    B = Y - Y.mean(axis=0)
    best_angle = procrustes_distance(X, Y, normalize=False)
    denom = np.linalg.norm(A) * np.linalg.norm(B)
    Qs = ortho_group.rvs(6, size=2000, random_state=12)
    angles = np.arccos(np.clip(np.einsum("ij,kjl,il->k", A, Qs, B) / denom, -1, 1))
    assert angles.min() >= best_angle - 1e-12
    # and the optimum is actually attained by some alignment (the bound is not vacuous)
    Q, _ = orthogonal_procrustes(A, B)
    assert np.arccos(np.sum((A @ Q) * B) / denom) == pytest.approx(best_angle, abs=1e-9)


def test_realistic_size_matches_reference():
    rng = _rng(13)
    X = rng.standard_normal((3600, 40))
    Y = X @ rng.standard_normal((40, 73)) + rng.standard_normal((3600, 73))
    assert procrustes_distance(X, Y, normalize=False) == pytest.approx(_reference_angle(X, Y), abs=1e-9)


# --------------------------------------------------------------------------------------------------- errors


def test_mismatched_samples_error_names_shapes():
    with pytest.raises(ValueError, match=r"\(10, 3\).*\(11, 3\)"):
        procrustes_distance(np.ones((10, 3)), np.ones((11, 3)))


def test_zero_variance_error():
    rng = _rng(14)
    X = rng.standard_normal((10, 3))
    with pytest.raises(ValueError, match="zero variance"):
        procrustes_distance(X, np.full((10, 2), 5.0))
    with pytest.raises(ValueError, match="zero variance"):
        procrustes_distance(np.tile(rng.standard_normal(3), (10, 1)), X)


def test_non_2d_and_nonfinite_errors():
    with pytest.raises(ValueError):
        procrustes_distance(np.ones(10), np.ones((10, 2)))
    X = _rng(15).standard_normal((10, 2))
    Y = X.copy()
    Y[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        procrustes_distance(X, Y)


def test_shape_distance_equals_distance_of_sample_matrices():
    rng = _rng(16)
    a = rng.standard_normal((7, 12, 5))
    b = rng.standard_normal((9, 12, 5))
    assert shape_distance(a, b) == procrustes_distance(as_samples(a), as_samples(b))
    # permuting the conditions of only one array breaks the row correspondence
    assert shape_distance(a, a[:, :, ::-1]) > 0.1
    with pytest.raises(ValueError, match="time, condition"):
        shape_distance(a, rng.standard_normal((7, 5, 12)))


# ------------------------------------------------------------------------------------------------ baselines


def test_cross_condition_average_properties():
    rng = _rng(17)
    rate = rng.standard_normal((6, 10, 4))
    avg = cross_condition_average(rate)
    assert avg.shape == rate.shape
    np.testing.assert_allclose(avg.std(axis=2), 0.0, atol=1e-12)  # no condition dependence
    np.testing.assert_allclose(avg.mean(axis=2), rate.mean(axis=2), atol=1e-12)  # keeps the mean
    np.testing.assert_allclose(avg[:, :, 2], rate.mean(axis=2), atol=1e-12)


def test_cross_condition_baseline_by_hand():
    rng = _rng(18)
    rate = rng.standard_normal((6, 10, 4)) + np.linspace(0, 3, 10)[None, :, None]
    mean = rate.mean(axis=2)  # (unit, time)
    X = rate.transpose(2, 1, 0).reshape(-1, 6)
    Y = np.tile(mean.T, (4, 1))  # the same (time, unit) block for each condition
    assert cross_condition_baseline(rate) == pytest.approx(procrustes_distance(X, Y), abs=1e-12)
    # a rate without condition dependence has baseline 0
    flat = np.repeat(rate[:, :, :1], 4, axis=2)
    assert cross_condition_baseline(flat + 0.0) <= 1e-6


def test_split_half_indices_disjoint_equal_and_seeded():
    splits = split_half_indices(11, n_iter=50, seed=3)
    assert splits.shape == (50, 2, 5)
    for h1, h2 in splits:
        assert len(set(h1)) == 5 and len(set(h2)) == 5
        assert not set(h1) & set(h2)
        assert set(h1) | set(h2) <= set(range(11))
    np.testing.assert_array_equal(splits, split_half_indices(11, n_iter=50, seed=3))
    assert not np.array_equal(splits, split_half_indices(11, n_iter=50, seed=4))
    # different splits are drawn across iterations
    assert len({tuple(h1) for h1, _ in splits}) > 1


def test_split_half_distances_use_those_splits():
    rng = _rng(19)
    rate = rng.standard_normal((9, 8, 3))
    d = split_half_distances(rate, n_iter=12, seed=5)
    assert d.shape == (12,)
    expected = [shape_distance(rate[h1], rate[h2]) for h1, h2 in split_half_indices(9, n_iter=12, seed=5)]
    np.testing.assert_allclose(d, expected, atol=1e-12)
    np.testing.assert_array_equal(d, split_half_distances(rate, n_iter=12, seed=5))
    assert not np.array_equal(d, split_half_distances(rate, n_iter=12, seed=6))


def test_split_half_halves_are_disjoint_in_the_distance():
    """Units carry private signals: overlapping halves would share them and give a distance below 1."""
    n_units, n_time, n_cond = 8, 40, 3
    rng = _rng(20)
    # mutually orthogonal, centred unit time courses -> two disjoint halves are exactly orthogonal (d = 1)
    M = rng.standard_normal((n_time * n_cond, n_units))
    Z = np.linalg.qr(M - M.mean(axis=0))[0]
    rate = Z.T.reshape(n_units, n_cond, n_time).transpose(0, 2, 1)
    d = split_half_distances(rate, n_iter=20, seed=0)
    np.testing.assert_allclose(d, 1.0, atol=1e-6)


def test_split_half_zero_for_copies_of_one_latent():
    rng = _rng(21)
    latent = rng.standard_normal((1, 15, 4))
    gains = rng.uniform(-3, 3, size=(30, 1, 1))
    offsets = rng.standard_normal((30, 1, 1))
    rate = gains * latent + offsets
    assert np.all(split_half_distances(rate, n_iter=10, seed=1) <= 1e-6)


def test_split_half_small_for_many_units_of_two_latents():
    """Units = random rotations of 2 latent signals; halves of many such units have nearly the same shape."""
    rng = _rng(22)
    n_time, n_cond, n_units = 20, 4, 2000
    latent = np.linalg.qr(rng.standard_normal((n_time * n_cond, 2)))[0]
    theta = rng.uniform(0, 2 * np.pi, n_units)
    X = latent @ np.stack([np.cos(theta), np.sin(theta)])  # (samples, units)
    rate = X.T.reshape(n_units, n_cond, n_time).transpose(0, 2, 1)
    d = split_half_distances(rate, n_iter=5, seed=0)
    unrelated = shape_distance(rate[:1000], rng.standard_normal((1000, n_time, n_cond)))
    assert np.all(d < 0.05)
    assert unrelated > 0.5


def test_split_half_needs_two_units():
    with pytest.raises(ValueError, match="at least 2 units"):
        split_half_distances(np.ones((1, 5, 3)))
