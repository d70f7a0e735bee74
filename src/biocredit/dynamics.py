"""Dynamics-level descriptions of trained networks: dimensionality, recurrent spectra, DSA and a cheaper spectral
comparison.

Spec section 6.4 lists, besides the representational metrics, three dynamics-level analyses:

- the participation ratio ``PR = (sum lambda)^2 / sum lambda^2`` of the PCA eigenvalues of the activity
  (Gao, Trautmann, Yu, Santhanam, Ryu, Shenoy & Ganguli 2017, "A theory of multineuronal dimensionality,
  dynamics and measurement", bioRxiv 214262): :func:`participation_ratio`;
- the eigenvalues of the recurrent weight matrix before/after training: :func:`recurrent_spectrum`,
  :func:`spectral_radius`;
- Dynamical Similarity Analysis (DSA; Ostrow, Eisen, Kozachkov & Fiete 2023, "Beyond geometry: comparing the
  temporal structure of computation in neural circuits with dynamical similarity analysis", NeurIPS), from the
  authors' own package ``dsa-metric`` (import name ``DSA``): :func:`dsa_distance`. Each network's trajectories are
  delay-embedded (``n_delays``), reduced to the top ``rank`` right singular vectors of the Hankel matrix (HAVOK
  DMD) and fitted with a linear operator; two operators are compared up to an orthogonal change of basis
  (``min_C`` angular distance between ``A`` and ``C B Cᵀ``, found by gradient descent). The study-A authors'
  DSA call and hyper-parameters are missing from their released code (spec 6.4): ``n_delays``, ``rank``,
  ``iters`` and ``lr`` are our choices, set in the config (``similarity.dynamics.dsa``).
- A cheaper second measure, :func:`dynamics_similarity`, kept beside DSA: it fits one linear (DMD-style,
  optionally delay-embedded, rank-reduced) operator per network with :func:`fit_linear_dynamics` and
  compares the two operators' eigenvalue spectra with an optimal-matching distance
  (:func:`eigenvalue_matching_distance`). DSA compares operators up to conjugacy (``min_C ||A - C B C^-1||``
  over orthogonal ``C``); the spectrum is a conjugacy invariant, so equal operators up to conjugacy have
  distance 0 here. Two operators with equal spectra but different (non-normal) structure are not
  distinguished, so this measure can only under-state DSA's dissimilarity.

All activity is ``rate(unit, time, condition)`` as in :mod:`biocredit.similarity`.
"""

from __future__ import annotations

import itertools

import numpy as np
import xarray as xr
from scipy.optimize import linear_sum_assignment

from biocredit.io import open_netcdf
from biocredit.similarity.dimensionality import _check_rate, participation_ratio
from biocredit.similarity.matched import matched_grid

__all__ = [
    "participation_ratio",
    "recurrent_spectrum",
    "spectral_radius",
    "fit_linear_dynamics",
    "eigenvalue_matching_distance",
    "dynamics_similarity",
    "dsa_distance",
    "level_accuracy",
    "activity_at_level",
    "pairwise_dynamics",
    "pair_matrix",
    "pair_rows",
]


def recurrent_spectrum(w_rec: np.ndarray) -> np.ndarray:
    """Complex eigenvalues of a square recurrent weight matrix, sorted by decreasing modulus.

    For the discrete-time rate network of spec section 4 the eigenvalues of ``W_rec`` (scaled by the leak)
    determine the linearised stability around the origin; the spec compares their complex-plane scatter before
    and after training.
    """
    W = np.asarray(w_rec, dtype=np.float64)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"w_rec must be a square matrix; got shape {W.shape}")
    ev = np.linalg.eigvals(W).astype(np.complex128)
    order = np.lexsort((ev.imag, ev.real, -np.abs(ev)))
    return ev[order]


def spectral_radius(w_rec: np.ndarray) -> float:
    """Largest eigenvalue modulus of a square matrix (see :func:`recurrent_spectrum`)."""
    return float(np.max(np.abs(recurrent_spectrum(w_rec))))


def _top_pc_scores(traj: np.ndarray, rank: int) -> np.ndarray:
    """Scores of ``traj(condition, time, feature)`` on its top ``rank`` principal components.

    PCs are computed on the column-centred ``(condition * time, feature)`` samples; components whose singular
    value is numerically zero (below ``max(n, p) * eps * sigma_max``) are dropped, so ``k <= rank``. Returns
    ``(condition, time, k)``.
    """
    n_cond, n_time, n_feat = traj.shape
    A = traj.reshape(n_cond * n_time, n_feat)
    A = A - A.mean(axis=0, keepdims=True)
    U, s, _ = np.linalg.svd(A, full_matrices=False)
    if s.size == 0 or s[0] <= 1e-12 * max(float(np.abs(traj).max()), 1e-300):
        raise ValueError("rate has zero variance; no dynamics can be fitted")
    keep = s > max(A.shape) * np.finfo(np.float64).eps * s[0]
    k = min(int(rank), int(np.sum(keep)))
    return (U[:, :k] * s[:k]).reshape(n_cond, n_time, k)


def fit_linear_dynamics(rate: np.ndarray, rank: int = 10, n_delays: int = 1, affine: bool = True) -> np.ndarray:
    """Least-squares linear dynamics operator of ``rate(unit, time, condition)`` in a reduced delay space.

    Steps (a DMD / HAVOK-style fit as in Ostrow et al. 2023, simplified):

    1. delay-embed each condition's trajectory: ``h_c(t) = [r_c(t), r_c(t-1), ..., r_c(t - n_delays + 1)]``
       (``n_delays = 1``: no embedding);
    2. project the embedded vectors on their top ``rank`` principal components (fewer if their numerical
       rank is lower), giving ``z_c(t)``; this is the reduced-rank SVD of the Hankel matrix used by DSA;
    3. fit ``z_c(t+1) ≈ A z_c(t) (+ b)`` by least squares over all consecutive time pairs within every
       condition (pairs never straddle two conditions); the minimum-norm solution is taken if the regressors
       are rank deficient.

    The intercept ``b`` (``affine=True``, default) absorbs the offset created by centring: for a linear system
    ``x(t+1) = M x(t)`` whose fixed point is not the data mean, centred coordinates follow
    ``x'(t+1) = M x'(t) + (M - I) mean``. Then, for noise-free trajectories of a ``d``-dimensional (affine)
    linear system observed through any injective linear map, and ``rank = d``, ``A`` is similar to ``M``
    (same eigenvalues) for any ``n_delays``. With noisy data and ``rank`` above the signal dimension the extra
    eigenvalues describe the fitted noise, so spectra should be compared at a fixed, modest ``rank``.

    Args:
        rate: activity ``(unit, time, condition)``; needs at least ``n_delays + 1`` time steps.
        rank: number of principal components of the (delay-embedded) activity kept.
        n_delays: number of delay copies in the embedding (1 = no delay embedding, plain DMD).
        affine: fit an intercept ``b`` as well.

    Returns:
        ``A``, a square array of size ``k <= rank`` (the number of components kept).
    """
    rate = _check_rate(rate)
    if int(rank) != rank or rank < 1:
        raise ValueError(f"rank must be a positive integer; got {rank!r}")
    if int(n_delays) != n_delays or n_delays < 1:
        raise ValueError(f"n_delays must be a positive integer; got {n_delays!r}")
    n_delays = int(n_delays)
    n_time = rate.shape[1]
    if n_time < n_delays + 1:
        raise ValueError(f"need at least n_delays + 1 = {n_delays + 1} time steps; got {n_time}")
    R = rate.transpose(2, 1, 0)  # (condition, time, unit)
    # H[c, t'] = [r(t), r(t-1), ..., r(t-d+1)] for t = t' + d - 1.
    H = np.concatenate([R[:, n_delays - 1 - j : n_time - j, :] for j in range(n_delays)], axis=2)
    Z = _top_pc_scores(H, int(rank))  # (C, T - d + 1, k)
    k = Z.shape[2]
    prev = Z[:, :-1, :].reshape(-1, k)
    nxt = Z[:, 1:, :].reshape(-1, k)
    if affine:
        prev = np.hstack([prev, np.ones((prev.shape[0], 1))])
    W, *_ = np.linalg.lstsq(prev, nxt, rcond=None)
    return np.ascontiguousarray(W[:k].T)


def eigenvalue_matching_distance(eig_a: np.ndarray, eig_b: np.ndarray) -> float:
    """Normalised optimal-matching distance between two sets of complex eigenvalues, in ``[0, 1]``.

    The shorter set is padded with zeros; then, with ``sigma`` the assignment minimising
    ``sum_i |a_i - b_sigma(i)|`` (:func:`scipy.optimize.linear_sum_assignment`), the distance is

        ``sum_i |a_i - b_sigma(i)| / (sum_i |a_i| + sum_j |b_j|)``

    i.e. the 1-Wasserstein distance between the two uniform point sets in the complex plane divided by the sum
    of their mean moduli. It is 0 iff the multisets coincide, symmetric, permutation invariant, and at most 1
    by the triangle inequality. Returns 0 when both sets are all zeros.
    """
    a = np.ravel(np.asarray(eig_a, dtype=np.complex128))
    b = np.ravel(np.asarray(eig_b, dtype=np.complex128))
    n = max(a.size, b.size)
    if n == 0:
        return 0.0
    a = np.concatenate([a, np.zeros(n - a.size, dtype=np.complex128)])
    b = np.concatenate([b, np.zeros(n - b.size, dtype=np.complex128)])
    cost = np.abs(a[:, None] - b[None, :])
    rows, cols = linear_sum_assignment(cost)
    den = float(np.abs(a).sum() + np.abs(b).sum())
    return float(cost[rows, cols].sum() / den) if den > 0 else 0.0


def dynamics_similarity(
    rate_a: np.ndarray, rate_b: np.ndarray, n_delays: int = 1, rank: int = 10, affine: bool = True
) -> float:
    """DSA-like dynamics *distance* between two networks' trajectories (0 = same linearised dynamics).

    Fits :func:`fit_linear_dynamics` (``rank`` PCs, ``n_delays`` delays) to each ``rate(unit, time,
    condition)`` array and returns :func:`eigenvalue_matching_distance` between the two operators' spectra,
    in ``[0, 1]``.

    This is a simplified stand-in for Dynamical Similarity Analysis (Ostrow et al. 2023): the authors'
    DSA hyper-parameters are unknown (spec 6.4) and the defaults here (``rank=10``, ``n_delays=1``) are our
    choice. DSA compares the fitted operators up to (orthogonal) conjugacy; eigenvalues are invariant under
    conjugacy, so networks whose operators are conjugate (e.g. activity that differs by a rotation of unit
    space, an invertible linear map of the latent dynamics, or a translation) get distance 0, and the
    spectral distance is a lower bound in the sense that it cannot separate conjugacy classes with equal
    spectra. The two arrays may have different numbers of units, time steps and conditions.
    """
    A = fit_linear_dynamics(_check_rate(rate_a, "rate_a"), rank=rank, n_delays=n_delays, affine=affine)
    B = fit_linear_dynamics(_check_rate(rate_b, "rate_b"), rank=rank, n_delays=n_delays, affine=affine)
    return eigenvalue_matching_distance(np.linalg.eigvals(A), np.linalg.eigvals(B))


def dsa_distance(
    rate_a: np.ndarray,
    rate_b: np.ndarray,
    n_delays: int = 2,
    rank: int = 10,
    iters: int = 300,
    lr: float = 0.01,
    seed: int = 0,
) -> float:
    """Dynamical Similarity Analysis distance (Ostrow et al. 2023) between two networks' trajectories, computed
    with the ``dsa-metric`` package: 0 for dynamics that agree up to an orthogonal change of basis of the fitted
    operators.

    Each ``rate(unit, time, condition)`` array becomes ``condition`` trajectories of ``time`` samples; ``DSA.DMD``
    delay-embeds them with ``n_delays`` copies and fits a linear operator on the top ``r`` right singular vectors
    of the Hankel matrix, ``r = min(rank, units·n_delays)`` over both networks (the two operators must have one
    size). ``DSA.SimilarityTransformDist`` (score ``"angular"``) then minimises the angle between ``A`` and
    ``C B Cᵀ`` over orthogonal ``C`` by ``iters`` steps of gradient descent at rate ``lr``, started from the
    identity and from one permutation, and returns the smaller. Because the Hankel singular vectors are whitened
    coordinates, trajectories that differ by any invertible linear map of unit space give conjugate operators
    when ``r`` keeps all their dimensions (distance ≈ 0, up to the optimiser's tolerance); with ``r`` below the
    data's rank that holds for rotations and uniform scalings.

    The optimiser's start uses torch's random generator: it is seeded with ``seed`` inside a forked generator
    state, so the result is reproducible and the caller's random state is untouched.

    Raises:
        ValueError: for arrays that are not 3-D and finite, or trajectories shorter than ``n_delays + 1`` steps.
    """
    import torch
    from DSA import DMD, SimilarityTransformDist

    a = _check_rate(rate_a, "rate_a")
    b = _check_rate(rate_b, "rate_b")
    for name, value in (("n_delays", n_delays), ("rank", rank), ("iters", iters)):
        if isinstance(value, bool) or int(value) != value or value < 1:
            raise ValueError(f"DSA {name} must be a positive integer; got {value!r}")
    if not lr > 0:
        raise ValueError(f"DSA lr must be positive; got {lr!r}")
    for name, r in (("rate_a", a), ("rate_b", b)):
        if r.shape[1] < n_delays + 1:
            raise ValueError(f"{name} has {r.shape[1]} time steps; DSA with n_delays={n_delays} needs at least "
                             f"{n_delays + 1}")
    r = int(min(rank, a.shape[0] * n_delays, b.shape[0] * n_delays))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        ops = []
        for x in (a, b):
            dmd = DMD(torch.from_numpy(np.ascontiguousarray(x.transpose(2, 1, 0))), n_delays=int(n_delays), rank=r,
                      device="cpu")
            dmd.fit()
            ops.append(dmd.A_v.detach().to(torch.float64).cpu().numpy())
        score = SimilarityTransformDist(iters=int(iters), score_method="angular", lr=float(lr), device="cpu")
        return float(score.fit_score(ops[0], ops[1]))


def level_accuracy(summary_ds: xr.Dataset, level: float) -> float:
    """The accuracy at fraction ``level`` of a summary's matched range (untrained to best reached by every rule)."""
    grid = matched_grid(summary_ds, n_grid=2)
    return float(grid[0] + level * (grid[-1] - grid[0])) if grid.size else float("nan")


def activity_at_level(activities: list[str], target: float, rules: list[str]
                      ) -> dict[tuple[str, int], tuple[str, int, np.ndarray]]:
    """For each run of ``rules`` among the ``activity.nc`` files given: its file, the first checkpoint whose
    accuracy reaches ``target`` and the activity ``rate(unit, time, condition)`` there, keyed ``(rule, seed)`` in
    the order of the files. Runs of other rules, and runs that never reach the target, are left out."""
    found = {}
    for path in activities:
        with open_netcdf(path) as act:
            rule, seed = str(act.attrs["rule"]), int(act.attrs["seed"])
            if rule not in rules:
                continue
            hit = np.flatnonzero(np.nan_to_num(act["accuracy"].values, nan=-np.inf) >= target)
            if not hit.size:
                continue
            step = int(act.checkpoint.values[hit[0]])
            found[(rule, seed)] = (path, step, act["rate"].sel(checkpoint=step).transpose("unit", "time", "condition")
                                   .values)
    return found


def pairwise_dynamics(rates: dict[tuple[str, int], np.ndarray], *, rank: int, dsa: dict | None = None
                      ) -> xr.Dataset:
    """The two dynamics distances between every pair of networks: :func:`dsa_distance` (settings ``dsa``) and the
    eigenvalue-matching distance of rank-``rank`` linear fits (:func:`dynamics_similarity`). ``rates``:
    ``(rule, seed) -> rate(unit, time, condition)``. Returns a Dataset with a ``run`` dimension (coords ``rule``,
    ``seed``, in the order of ``rates``) and a ``pair`` dimension (one entry per unordered pair ``a < b`` of run
    indices, in :func:`itertools.combinations` order; coords ``a``, ``b`` and ``kind``: ``within`` for two runs of
    one rule, ``between`` otherwise) holding ``dsa`` and ``spectral``."""
    keys = list(rates)
    dsa = dict(dsa or {})
    a, b, kind, d_dsa, d_spec = [], [], [], [], []
    for (i, ka), (j, kb) in itertools.combinations(enumerate(keys), 2):
        a.append(i)
        b.append(j)
        kind.append("within" if ka[0] == kb[0] else "between")
        d_dsa.append(dsa_distance(rates[ka], rates[kb], **dsa))
        d_spec.append(dynamics_similarity(rates[ka], rates[kb], rank=rank))
    return xr.Dataset(
        {"dsa": ("pair", np.asarray(d_dsa, dtype=np.float64)),
         "spectral": ("pair", np.asarray(d_spec, dtype=np.float64))},
        coords={"rule": ("run", np.asarray([k[0] for k in keys], dtype=str)),
                "seed": ("run", np.asarray([k[1] for k in keys], dtype=int)),
                "a": ("pair", np.asarray(a, dtype=int)), "b": ("pair", np.asarray(b, dtype=int)),
                "kind": ("pair", np.asarray(kind, dtype=str))},
    )


def pair_matrix(pairs: xr.Dataset, var: str) -> np.ndarray:
    """Distance ``var`` of a :func:`pairwise_dynamics` Dataset as a symmetric (run, run) matrix, zero diagonal."""
    n = pairs.sizes["run"]
    d = np.zeros((n, n))
    d[pairs["a"].values, pairs["b"].values] = d[pairs["b"].values, pairs["a"].values] = pairs[var].values
    return d


def pair_rows(pairs: xr.Dataset) -> list[dict]:
    """The pairs of a :func:`pairwise_dynamics` Dataset as rows (``a``, ``b`` as ``rule/seed``, ``kind``,
    ``distance`` (DSA), ``spectral_distance``), in the Dataset's order."""
    names = [f"{r}/{s}" for r, s in zip(pairs["rule"].values, pairs["seed"].values, strict=True)]
    return [{"a": names[int(i)], "b": names[int(j)], "kind": str(k), "distance": float(d),
             "spectral_distance": float(e)}
            for i, j, k, d, e in zip(pairs["a"].values, pairs["b"].values, pairs["kind"].values,
                                     pairs["dsa"].values, pairs["spectral"].values, strict=True)]
