"""Oracle and invariance tests of CKA, CCA, the normalised-with-data distance, dynamics measures and the
variance decomposition."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ortho_group
from sklearn.cross_decomposition import CCA

from biocredit.dynamics import (
    dynamics_similarity,
    eigenvalue_matching_distance,
    fit_linear_dynamics,
    participation_ratio,
    recurrent_spectrum,
    spectral_radius,
)
from biocredit.similarity.baselines import cross_condition_average
from biocredit.similarity.cca import canonical_correlations, cca_distance
from biocredit.similarity.cka import angular_cka_distance, cka_distance, linear_cka
from biocredit.similarity.normalized import normalized_with_data
from biocredit.similarity.procrustes import as_samples, procrustes_distance
from biocredit.variance import variance_shares


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# ------------------------------------------------------------------------------------------------------ CKA


def _hsic_cka(X: np.ndarray, Y: np.ndarray) -> float:
    """Independent Gram-form computation: tr(KHLH) / sqrt(tr(KHKH) tr(LHLH))."""
    n = X.shape[0]
    H = np.eye(n) - np.ones((n, n)) / n
    K = X @ X.T
    L = Y @ Y.T
    return float(np.trace(K @ H @ L @ H) / np.sqrt(np.trace(K @ H @ K @ H) * np.trace(L @ H @ L @ H)))


def test_cka_one_under_rotation_isotropic_scale_and_translation():
    rng = _rng(1)
    X = rng.normal(size=(120, 15))
    Q = ortho_group.rvs(15, random_state=2)
    Y = 3.7 * X @ Q + rng.normal(size=(1, 15)) * 10
    assert linear_cka(X, Y) == pytest.approx(1.0, abs=1e-12)
    assert linear_cka(X, 1e-3 * X) == pytest.approx(1.0, abs=1e-12)
    assert cka_distance(X, Y) == pytest.approx(0.0, abs=1e-12)
    assert angular_cka_distance(X, Y) == pytest.approx(0.0, abs=1e-5)


def test_cka_not_invariant_to_anisotropic_scaling():
    rng = _rng(3)
    X = rng.normal(size=(200, 10))
    D = np.diag(np.geomspace(0.1, 10.0, 10))
    assert linear_cka(X, X @ D) < 0.9


@pytest.mark.parametrize(("n", "p", "q"), [(80, 6, 9), (20, 50, 70), (30, 5, 60)])
def test_cka_matches_gram_form_and_is_symmetric(n, p, q):
    rng = _rng(n + p + q)
    Z = rng.normal(size=(n, 4))
    X = Z @ rng.normal(size=(4, p)) + 0.5 * rng.normal(size=(n, p)) + 2.0
    Y = Z @ rng.normal(size=(4, q)) + 0.5 * rng.normal(size=(n, q)) - 1.0
    ref = _hsic_cka(X, Y)
    assert linear_cka(X, Y) == pytest.approx(ref, rel=1e-10)
    assert linear_cka(Y, X) == pytest.approx(ref, rel=1e-10)
    assert cka_distance(X, Y) == pytest.approx(1 - ref, abs=1e-10)
    assert angular_cka_distance(X, Y) == pytest.approx(np.arccos(ref) / (np.pi / 2), abs=1e-10)
    assert 0.0 < ref < 1.0


def test_angular_cka_triangle_inequality():
    rng = _rng(4)
    mats = [rng.normal(size=(40, 5)) @ rng.normal(size=(5, 8)) + rng.normal(size=(40, 8)) for _ in range(4)]
    for A, B, C in itertools.permutations(mats, 3):
        assert angular_cka_distance(A, C) <= angular_cka_distance(A, B) + angular_cka_distance(B, C) + 1e-12


def test_cka_rejects_bad_input():
    rng = _rng(5)
    with pytest.raises(ValueError, match="same number of samples"):
        linear_cka(rng.normal(size=(10, 3)), rng.normal(size=(11, 3)))
    with pytest.raises(ValueError, match="zero variance"):
        linear_cka(np.ones((10, 3)), rng.normal(size=(10, 3)))


# ------------------------------------------------------------------------------------------------------ CCA


def test_cca_invertible_linear_map_gives_all_ones():
    rng = _rng(6)
    X = rng.normal(size=(300, 12))
    M = rng.normal(size=(12, 12)) + 3 * np.eye(12)
    Y = X @ M + 5.0
    rho = canonical_correlations(X, Y, n_components=20)
    assert rho.shape == (12,)
    np.testing.assert_allclose(rho, 1.0, atol=1e-10)
    assert cca_distance(X, Y) == pytest.approx(0.0, abs=1e-10)


def test_cca_low_rank_keeps_only_rank_components():
    rng = _rng(7)
    Z = rng.normal(size=(200, 5))
    X = Z @ rng.normal(size=(5, 40))
    Y = Z @ rng.normal(size=(5, 30)) + 1.0
    rho = canonical_correlations(X, Y, n_components=20)
    assert rho.shape == (5,)
    np.testing.assert_allclose(rho, 1.0, atol=1e-8)


def test_cca_independent_data_is_far_and_sorted():
    rng = _rng(8)
    X = rng.normal(size=(2000, 20))
    Y = rng.normal(size=(2000, 20))
    rho = canonical_correlations(X, Y)
    assert np.all(np.diff(rho) <= 1e-12)
    assert rho.max() < 0.25
    assert cca_distance(X, Y) > 0.85


def test_cca_first_correlation_matches_sklearn():
    rng = _rng(9)
    Z = rng.normal(size=(200, 1))
    X = Z @ rng.normal(size=(1, 3)) + rng.normal(size=(200, 3))
    Y = Z @ rng.normal(size=(1, 4)) + rng.normal(size=(200, 4))
    cca = CCA(n_components=1, scale=False, max_iter=10000, tol=1e-12).fit(X, Y)
    u, v = cca.transform(X, Y)
    ref = abs(np.corrcoef(u[:, 0], v[:, 0])[0, 1])
    assert canonical_correlations(X, Y)[0] == pytest.approx(ref, abs=1e-6)


def test_cca_regularisation_shrinks_correlations():
    rng = _rng(10)
    Z = rng.normal(size=(150, 3))
    X = Z @ rng.normal(size=(3, 8)) + 0.3 * rng.normal(size=(150, 8))
    Y = Z @ rng.normal(size=(3, 6)) + 0.3 * rng.normal(size=(150, 6))
    r0 = canonical_correlations(X, Y)
    r1 = canonical_correlations(X, Y, reg=1.0)
    r2 = canonical_correlations(X, Y, reg=100.0)
    assert np.all(r1 <= r0 + 1e-12) and np.all(r2 <= r1 + 1e-12)
    np.testing.assert_allclose(canonical_correlations(X, Y, reg=1e-12), r0, atol=1e-8)
    with pytest.raises(ValueError):
        canonical_correlations(X, Y, reg=-1.0)


# ------------------------------------------------------------------------------------- normalised-with-data


def _toy_data(n_unit: int = 40, n_time: int = 12, n_cond: int = 4, seed: int = 11) -> np.ndarray:
    rng = _rng(seed)
    latent = rng.normal(size=(3, n_time, n_cond)).cumsum(axis=1)
    return np.einsum("uk,ktc->utc", rng.normal(size=(n_unit, 3)), latent) + rng.normal(size=(n_unit, n_time, n_cond))


def test_normalized_with_data_matches_hand_computation():
    data = _toy_data()
    Q = ortho_group.rvs(data.shape[0], random_state=12)
    model = np.einsum("uv,vtc->utc", Q, data)
    n_iter, seed = 6, 3
    out = normalized_with_data(model, data, n_iter=n_iter, seed=seed)

    rng = np.random.default_rng(seed)
    avg = cross_condition_average(data)
    half = data.shape[0] // 2
    vals, base = [], []
    for _ in range(n_iter):
        perm = rng.permutation(data.shape[0])
        idx1, idx2 = perm[:half], perm[half : 2 * half]
        midx = rng.choice(model.shape[0], size=half, replace=False)
        d1 = procrustes_distance(as_samples(data[idx1]), as_samples(data[idx2]))
        d2 = procrustes_distance(as_samples(data[idx1]), as_samples(model[midx]))
        d3 = procrustes_distance(as_samples(data[idx1]), as_samples(avg[idx2]))
        vals.append((d2 - d1) / (1 - d1))
        base.append((d3 - d1) / (1 - d1))
    np.testing.assert_allclose(out["values"], vals, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out["baseline_values"], base, rtol=1e-12, atol=1e-12)
    assert out["mean"] == pytest.approx(np.mean(vals))
    assert out["std"] == pytest.approx(np.std(vals))
    assert out["baseline_mean"] == pytest.approx(np.mean(base))
    assert out["baseline_std"] == pytest.approx(np.std(base))
    assert out["values"].shape == (n_iter,)


def test_normalized_with_data_reproducible_and_small_model():
    data = _toy_data(n_unit=21)
    model = _toy_data(n_unit=30, seed=13)
    a = normalized_with_data(model, data, n_iter=4, seed=5)
    b = normalized_with_data(model, data, n_iter=4, seed=5)
    c = normalized_with_data(model, data, n_iter=4, seed=6)
    np.testing.assert_array_equal(a["values"], b["values"])
    assert not np.array_equal(a["values"], c["values"])
    # Fewer model units (4) than n_sample (10): all model units are used, and no model draw is made.
    small = model[:4]
    out = normalized_with_data(small, data, n_iter=2, seed=0)
    rng = np.random.default_rng(0)
    for i in range(2):
        perm = rng.permutation(21)
        idx1, idx2 = perm[:10], perm[10:20]
        d1 = procrustes_distance(as_samples(data[idx1]), as_samples(data[idx2]))
        d2 = procrustes_distance(as_samples(data[idx1]), as_samples(small))
        assert out["values"][i] == pytest.approx((d2 - d1) / (1 - d1), abs=1e-12)
    # Any sample-matrix metric can be plugged in.
    assert np.isfinite(normalized_with_data(model, data, n_iter=2, metric=cka_distance)["mean"])
    with pytest.raises(ValueError, match="agree"):
        normalized_with_data(model[:, :5], data, n_iter=2)


# ------------------------------------------------------------------------------------------------ dynamics


def test_participation_ratio_oracles():
    rng = _rng(14)
    iso = rng.normal(size=(5, 2000, 5))
    assert participation_ratio(iso) == pytest.approx(5.0, abs=0.1)
    rank1 = np.einsum("u,tc->utc", rng.normal(size=12), rng.normal(size=(30, 4))) + 3.0
    assert participation_ratio(rank1) == pytest.approx(1.0, abs=1e-9)
    rate = _toy_data()
    Q = ortho_group.rvs(rate.shape[0], random_state=15)
    assert participation_ratio(np.einsum("uv,vtc->utc", Q, rate)) == pytest.approx(participation_ratio(rate))
    with pytest.raises(ValueError, match="zero variance"):
        participation_ratio(np.ones((3, 4, 2)))


def test_recurrent_spectrum_and_radius():
    theta = 0.4
    R = 0.9 * np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    W = np.zeros((3, 3))
    W[:2, :2] = R
    W[2, 2] = 0.5
    ev = recurrent_spectrum(W)
    np.testing.assert_allclose(np.abs(ev), [0.9, 0.9, 0.5], atol=1e-12)
    np.testing.assert_allclose(sorted(ev[:2].imag), [-0.9 * np.sin(theta), 0.9 * np.sin(theta)], atol=1e-12)
    assert spectral_radius(W) == pytest.approx(0.9)
    with pytest.raises(ValueError):
        recurrent_spectrum(np.ones((2, 3)))


def _linear_system(eigs: list[complex], n_unit: int = 30, n_time: int = 40, n_cond: int = 6, seed: int = 16):
    """Noise-free trajectories of x(t+1) = M x(t) + u, observed as rate = E x + o; returns (rate, M)."""
    rng = _rng(seed)
    blocks = []
    for lam in eigs:
        if abs(np.imag(lam)) > 0:
            r, th = abs(lam), np.angle(lam)
            blocks.append(r * np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]]))
        else:
            blocks.append(np.array([[np.real(lam)]]))
    d = sum(b.shape[0] for b in blocks)
    J = np.zeros((d, d))
    i = 0
    for b in blocks:
        J[i : i + b.shape[0], i : i + b.shape[0]] = b
        i += b.shape[0]
    S = rng.normal(size=(d, d)) + 2 * np.eye(d)
    M = S @ J @ np.linalg.inv(S)
    u = rng.normal(size=d)
    x = np.empty((d, n_time, n_cond))
    x[:, 0, :] = rng.normal(size=(d, n_cond)) * 3
    for t in range(1, n_time):
        x[:, t, :] = M @ x[:, t - 1, :] + u[:, None]
    E = rng.normal(size=(n_unit, d))
    rate = np.einsum("ud,dtc->utc", E, x) + rng.normal(size=(n_unit, 1, 1))
    return rate, M


EIGS_A = [0.95 * np.exp(0.3j), 0.8 * np.exp(0.9j), 0.6]
EIGS_B = [0.7 * np.exp(0.1j), 0.9 * np.exp(1.4j), -0.3]


def test_fit_linear_dynamics_recovers_eigenvalues():
    rate, M = _linear_system(EIGS_A)
    A = fit_linear_dynamics(rate, rank=5)
    assert A.shape == (5, 5)
    true = np.linalg.eigvals(M)
    assert eigenvalue_matching_distance(np.linalg.eigvals(A), true) < 1e-8
    # A larger rank than the data's is capped at the numerical rank.
    assert fit_linear_dynamics(rate, rank=12).shape == (5, 5)
    # Delay embedding followed by rank reduction gives the same spectrum.
    for n_delays in (2, 4):
        A_d = fit_linear_dynamics(rate, rank=5, n_delays=n_delays)
        assert A_d.shape == (5, 5)
        assert eigenvalue_matching_distance(np.linalg.eigvals(A_d), true) < 1e-7
    with pytest.raises(ValueError, match="time steps"):
        fit_linear_dynamics(rate[:, :2], rank=5, n_delays=2)


def test_dynamics_similarity_zero_for_conjugate_and_positive_for_different():
    rate_a, _ = _linear_system(EIGS_A)
    rate_a2, _ = _linear_system(EIGS_A, n_unit=25, n_cond=5, seed=17)  # same spectrum, other system/embedding
    rate_b, _ = _linear_system(EIGS_B)
    Q = ortho_group.rvs(rate_a.shape[0], random_state=18)
    rotated = 2.5 * np.einsum("uv,vtc->utc", Q, rate_a) + 1.0
    assert dynamics_similarity(rate_a, rate_a, rank=5) == pytest.approx(0.0, abs=1e-10)
    assert dynamics_similarity(rate_a, rotated, rank=5) < 1e-8
    assert dynamics_similarity(rate_a, rate_a2, rank=5) < 1e-8
    d_ab = dynamics_similarity(rate_a, rate_b, rank=5)
    assert 0.1 < d_ab <= 1.0
    assert dynamics_similarity(rate_b, rate_a, rank=5) == pytest.approx(d_ab)
    assert dynamics_similarity(rate_a, rotated, rank=5, n_delays=3) < 1e-7
    assert dynamics_similarity(rate_a, rate_b, rank=5, n_delays=3) > 0.1


def test_eigenvalue_matching_distance_values():
    assert eigenvalue_matching_distance([1.0, 0.5j], [0.5j, 1.0]) == 0.0
    assert eigenvalue_matching_distance([1.0], [0.5]) == pytest.approx(0.5 / 1.5)
    assert eigenvalue_matching_distance([1.0, 1.0j], [1.0]) == pytest.approx(1.0 / 3.0)  # padded with 0
    assert eigenvalue_matching_distance([1.0], [-1.0]) == pytest.approx(1.0)


# ------------------------------------------------------------------------------------------------ variance


def _design(reps: int = 2) -> pd.DataFrame:
    rows = itertools.product(["bptt", "eprop"], ["i0", "i1", "i2"], ["rnn", "gru"], range(reps))
    return pd.DataFrame(list(rows), columns=["rule", "init", "arch", "rep"])


def test_variance_shares_only_arch_matters():
    df = _design()
    df["distance"] = np.where(df["arch"] == "gru", 1.0, 0.0)
    for method in ("shapley", "sequential"):
        s = variance_shares(df, method=method)
        assert s["arch"] == pytest.approx(1.0, abs=1e-12)
        assert s["rule"] == pytest.approx(0.0, abs=1e-12) and s["init"] == pytest.approx(0.0, abs=1e-12)
        assert s["residual"] == pytest.approx(0.0, abs=1e-12)
    df["distance"] += 0.01 * _rng(19).normal(size=len(df))
    assert variance_shares(df)["arch"] > 0.99


def test_variance_shares_balanced_matches_hand_sums_of_squares():
    df = _design(reps=3)
    df["distance"] = _rng(20).normal(size=len(df)) + (df["rule"] == "eprop") * 0.8
    y = df["distance"].to_numpy()
    total = np.sum((y - y.mean()) ** 2)
    expected = {}
    for f in ("rule", "init", "arch"):
        g = df.groupby(f)["distance"]
        expected[f] = float(np.sum(g.size() * (g.mean() - y.mean()) ** 2) / total)
    for method in ("shapley", "sequential"):
        s = variance_shares(df, method=method)
        for f, e in expected.items():
            assert s[f] == pytest.approx(e, abs=1e-12)
        assert s["residual"] == pytest.approx(1 - sum(expected.values()), abs=1e-12)


def test_variance_shares_unbalanced():
    df = _design(reps=2)
    rng = _rng(21)
    df["distance"] = (
        (df["arch"] == "gru") * 1.0 + (df["rule"] == "eprop") * 0.5 + 0.3 * rng.normal(size=len(df))
    )
    df = df.drop(index=[0, 1, 2, 5, 8, 13]).reset_index(drop=True)  # unbalanced
    shap = variance_shares(df)
    seq = variance_shares(df, method="sequential")
    for s in (shap, seq):
        assert sum(s.values()) == pytest.approx(1.0, abs=1e-12)
        assert all(v >= 0 for k, v in s.items() if k != "residual")
        assert s["residual"] >= -1e-12
    # Shapley does not depend on the order of the factors; sequential does (its first factor gets its marginal SS).
    shap2 = variance_shares(df, factors=("arch", "init", "rule"))
    for f in ("rule", "init", "arch"):
        assert shap2[f] == pytest.approx(shap[f], abs=1e-12)
    y = df["distance"].to_numpy()
    g = df.groupby("rule")["distance"]
    marginal = np.sum(g.size() * (g.mean() - y.mean()) ** 2) / np.sum((y - y.mean()) ** 2)
    assert seq["rule"] == pytest.approx(marginal, abs=1e-12)
    # Residual agrees between methods (same full model).
    assert seq["residual"] == pytest.approx(shap["residual"], abs=1e-12)


def test_variance_shares_errors():
    df = _design()
    df["distance"] = 1.0
    with pytest.raises(ValueError, match="constant"):
        variance_shares(df)
    with pytest.raises(ValueError, match="columns"):
        variance_shares(df, factors=("rule", "nope"))
    with pytest.raises(ValueError, match="method"):
        variance_shares(df.assign(distance=np.arange(len(df))), method="typeIII")  # type: ignore[arg-type]
