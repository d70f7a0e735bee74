"""Generalization and curvature of trained networks (study B: Liu, Ghosh, Richards, Shea-Brown & Lajoie 2022).

Science only (no files, no Snakemake): the generalization gap, the curvature of a checkpoint's loss, and the
statistics that compare learning rules.

Generalization gap
------------------
"the difference between training and testing error" (the paper's §1). Both forms are computed from the task
losses (no L2 term) and accuracies logged on the fixed evaluation sets (:func:`biocredit.train.evaluation_batches`):
``gap_loss = test loss − training-set loss`` and ``gap_accuracy = training-set accuracy − test accuracy``. The
paper's exact definition is not known (spec §5c); the loss form at the end of training (the authors train for fixed
iteration counts) is the one the claims test, the accuracy form is reported beside it. Rules that fit the training
set less also overfit less, so the gap is also read at *matched training loss*
(:func:`matched_training_level`, :func:`value_at_training_loss`), the analogue of study A's matched accuracy, and
reported beside the claims.

Curvature
---------
:func:`checkpoint_curvature` measures, for one network, the Hessian of ``task loss + ½·wd·(‖W_in‖² + ‖W_rec‖² +
‖W_out‖²)`` on a fixed batch, on the full untruncated graph (``fused=False``, no rule: the true Hessian whatever
rule trained the net), w.r.t. ``W_rec`` as the authors (or all trainable parameters): the top eigenvalue by
Lanczos, the trace by Hutchinson's estimator, and optionally the spectral density by stochastic Lanczos quadrature
(:mod:`biocredit.curvature`).

Comparing rules
---------------
Runs of different rules are independent (no pairing by seed). "Bio-plausible" rules are every rule but the
reference (BPTT), pooled:

- mean: :func:`permutation_test` on the difference of means, exact over all relabellings when feasible
  (one- or two-sided);
- spread: :func:`spread_test`, the Brown–Forsythe test (Levene's test with the median as centre; Brown & Forsythe
  1974) on absolute deviations from each *rule's own* median, so that pooling rules with different means does not
  count as spread; with one group per side it is exactly ``scipy.stats.levene(a, b, center="median")``. It also
  reports the ratio of the pooled within-rule standard deviations;
- association: :func:`correlation`, Pearson's r and Spearman's ρ with their p-values (scipy).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import torch
from scipy import stats as sps

__all__ = [
    "generalization_gap",
    "permutation_test",
    "spread_test",
    "correlation",
    "pooled_within_sd",
    "stability_ratio",
    "matched_training_level",
    "value_at_training_loss",
    "mean_sem",
    "density_on_grid",
    "checkpoint_curvature",
    "hessian_loss_closure",
]


# --------------------------------------------------------------------------------------------------- the gap


def generalization_gap(train_loss, test_loss, train_accuracy, test_accuracy) -> dict[str, np.ndarray]:
    """``gap_loss = test_loss − train_loss`` and ``gap_accuracy = train_accuracy − test_accuracy`` (elementwise);
    positive = worse on the test set."""
    return {
        "gap_loss": np.asarray(test_loss, dtype=np.float64) - np.asarray(train_loss, dtype=np.float64),
        "gap_accuracy": np.asarray(train_accuracy, dtype=np.float64) - np.asarray(test_accuracy, dtype=np.float64),
    }


def stability_ratio(lam, lr) -> np.ndarray:
    """``λ_max / (2/η)``: above 1, plain gradient descent with step ``η`` would be unstable in the top direction
    (the linear-stability bound ``λ_max < 2/η``)."""
    return np.asarray(lam, dtype=np.float64) * np.asarray(lr, dtype=np.float64) / 2.0


def matched_training_level(min_losses: dict) -> float:
    """The training-set loss at which runs of different rules are compared ("comparable training performance"):
    the largest, over rules, of the median over that rule's runs of the lowest training-set loss the run reached,
    so that at least half of every rule's runs reach it. ``min_losses`` maps a rule to its runs' minima
    (non-finite values ignored; NaN when no rule has any)."""
    medians = [float(np.median(v)) for v in (_clean(x) for x in min_losses.values()) if v.size]
    return max(medians) if medians else math.nan


def value_at_training_loss(train_loss, value, level: float) -> float:
    """``value`` at the moment a run's training-set loss first falls to ``level`` (linear interpolation between
    checkpoints, :func:`biocredit.stats.first_passage_interpolate` on −loss); NaN if it never does."""
    from biocredit.stats import first_passage_interpolate

    if not np.isfinite(level):
        return math.nan
    out = first_passage_interpolate(-np.asarray(train_loss, dtype=np.float64), np.asarray(value, dtype=np.float64),
                                    np.array([-level]))
    return float(out[0])


# --------------------------------------------------------------------------------------------------- tests


def _clean(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64).ravel()
    return x[np.isfinite(x)]


def permutation_test(
    a, b, alternative: str = "two-sided", n_perm: int = 20000, seed: int = 0
) -> dict:
    """Permutation test of ``mean(a) − mean(b)`` for two independent groups (non-finite values dropped).

    The statistic is the difference of means; under the null the pooled values are exchangeable. ``alternative``:
    ``"greater"`` (a's mean larger), ``"less"`` or ``"two-sided"`` (``|diff|``). Exact over all
    ``C(n_a + n_b, n_a)`` relabellings (the observed one included) when there are at most ``n_perm``; otherwise
    Monte Carlo with ``n_perm`` random relabellings and the ``(1 + hits) / (1 + n_perm)`` estimate. Ties within
    1e-12 of the observed statistic count as at least as extreme. Returns ``dict(diff, p, n_a, n_b, exact)``;
    ``p`` is NaN when a group is empty.
    """
    if alternative not in ("two-sided", "greater", "less"):
        raise ValueError(f"alternative must be 'two-sided', 'greater' or 'less', got {alternative!r}")
    a, b = _clean(a), _clean(b)
    n_a, n_b = a.size, b.size
    if n_a == 0 or n_b == 0:
        return {"diff": math.nan, "p": math.nan, "n_a": int(n_a), "n_b": int(n_b), "exact": True}
    pooled = np.concatenate([a, b])
    total = pooled.sum()
    observed = a.mean() - b.mean()

    def stat(sum_a: np.ndarray) -> np.ndarray:
        d = sum_a / n_a - (total - sum_a) / n_b
        return {"greater": d, "less": -d, "two-sided": np.abs(d)}[alternative]

    ref = {"greater": observed, "less": -observed, "two-sided": abs(observed)}[alternative]
    tol = 1e-12 * max(1.0, float(np.abs(pooled).max()))
    n_splits = math.comb(n_a + n_b, n_a)
    if n_splits <= n_perm:
        idx = np.array(list(itertools.combinations(range(n_a + n_b), n_a)), dtype=np.intp)
        p = float(np.mean(stat(pooled[idx].sum(axis=1)) >= ref - tol))
        exact = True
    else:
        rng = np.random.default_rng(seed)
        perms = rng.permuted(np.broadcast_to(pooled, (n_perm, pooled.size)), axis=1)
        hits = int(np.sum(stat(perms[:, :n_a].sum(axis=1)) >= ref - tol))
        p = (1.0 + hits) / (1.0 + n_perm)
        exact = False
    return {"diff": float(observed), "p": p, "n_a": int(n_a), "n_b": int(n_b), "exact": exact}


def _deviations(groups: Sequence) -> np.ndarray:
    """Absolute deviations of each group's values from that group's median, concatenated."""
    out = [np.abs(g - np.median(g)) for g in (_clean(g) for g in groups) if g.size]
    return np.concatenate(out) if out else np.empty(0)


def pooled_within_sd(groups: Sequence) -> float:
    """Pooled within-group standard deviation ``sqrt(Σ_g Σ (x − mean_g)² / Σ_g (n_g − 1))`` (NaN without any
    degree of freedom)."""
    ss, dof = 0.0, 0
    for g in (_clean(g) for g in groups):
        if g.size > 1:
            ss += float(((g - g.mean()) ** 2).sum())
            dof += g.size - 1
    return math.sqrt(ss / dof) if dof else math.nan


def spread_test(groups_a: Sequence, groups_b: Sequence) -> dict:
    """Brown–Forsythe test of equal spread between side A (one or more groups, e.g. one per bio rule) and side B.

    Each value is replaced by its absolute deviation from its own group's median; the two sides' deviations are
    compared by a one-way ANOVA F test (2 groups: F = t², two-sided p). With one group per side this is
    ``scipy.stats.levene(a, b, center="median")``. Returns ``dict(F, p, sd_ratio, sd_a, sd_b, n_a, n_b)`` where
    ``sd_ratio = sd_a / sd_b`` of the pooled within-group SDs (> 1: side A more variable). NaN where undefined.
    """
    dev_a, dev_b = _deviations(groups_a), _deviations(groups_b)
    sd_a, sd_b = pooled_within_sd(groups_a), pooled_within_sd(groups_b)
    ratio = sd_a / sd_b if sd_b and np.isfinite(sd_b) and sd_b > 0 else math.nan
    out = {"F": math.nan, "p": math.nan, "sd_ratio": ratio, "sd_a": sd_a, "sd_b": sd_b,
           "n_a": int(dev_a.size), "n_b": int(dev_b.size)}
    if dev_a.size < 2 or dev_b.size < 2 or (np.ptp(np.concatenate([dev_a, dev_b])) == 0):
        return out
    res = sps.f_oneway(dev_a, dev_b)
    out.update(F=float(res.statistic), p=float(res.pvalue))
    return out


def correlation(x, y) -> dict:
    """Pearson's r and Spearman's ρ of paired values (pairs with a non-finite member dropped), with scipy's
    two-sided p-values. NaN with fewer than 3 pairs or a constant variable."""
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    out = {"pearson_r": math.nan, "pearson_p": math.nan, "spearman_r": math.nan, "spearman_p": math.nan,
           "n": int(x.size)}
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return out
    pr = sps.pearsonr(x, y)
    sr = sps.spearmanr(x, y)
    out.update(pearson_r=float(pr.statistic), pearson_p=float(pr.pvalue), spearman_r=float(sr.statistic),
               spearman_p=float(sr.pvalue))
    return out


def mean_sem(values, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard error of the mean (``sd(ddof=1)/√n``) over ``axis``, ignoring non-finite values (mean NaN
    where none is left, SEM NaN where fewer than 2 are)."""
    v = np.moveaxis(np.asarray(values, dtype=np.float64), axis, 0)
    ok = np.isfinite(v)
    n = ok.sum(0)
    mean = np.where(n > 0, np.where(ok, v, 0.0).sum(0) / np.maximum(n, 1), np.nan)
    var = (np.where(ok, v - mean, 0.0) ** 2).sum(0) / np.maximum(n - 1, 1)
    sem = np.where(n > 1, np.sqrt(var / np.maximum(n, 1)), np.nan)
    return mean, sem


def density_on_grid(nodes, weights, grid, sigma: float) -> np.ndarray:
    """``Σ_j w_j N(grid; θ_j, σ²)``: a stochastic-Lanczos-quadrature spectrum (nodes θ, weights w) smoothed by
    Gaussians of width ``sigma`` on ``grid`` (what :func:`biocredit.curvature.spectral_density` returns, on a grid
    shared by runs)."""
    nodes = np.asarray(nodes, dtype=np.float64).ravel()
    weights = np.asarray(weights, dtype=np.float64).ravel()
    keep = np.isfinite(nodes) & np.isfinite(weights)
    z = (np.asarray(grid, dtype=np.float64)[:, None] - nodes[None, keep]) / sigma
    return (np.exp(-0.5 * z * z) / (sigma * math.sqrt(2 * math.pi))) @ weights[keep]


# --------------------------------------------------------------------------------------------------- curvature


def hessian_loss_closure(model, task, batch, weight_decay: float):
    """``() -> task.loss(model(x, fused=False)) + ½·wd·(‖W_in‖² + ‖W_rec‖² + ‖W_out‖²)`` on the full graph."""
    from biocredit.curvature import rnn_loss_closure
    from biocredit.train import weight_decay_term

    def loss(y: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        return task.loss(y, batch) + weight_decay_term(model, weight_decay)

    return rnn_loss_closure(model, batch.x, loss)


def checkpoint_curvature(
    model,
    task,
    batch,
    *,
    weight_decay: float = 0.0,
    params: str = "w_rec",
    tol: float = 1e-3,
    max_hvp: int = 100,
    trace_samples: int = 20,
    density: bool = False,
    density_iter: int = 30,
    density_vectors: int = 5,
    seed: int = 0,
) -> dict:
    """Curvature of one network's loss on ``batch`` (see the module docstring).

    ``params``: ``"w_rec"`` (the authors' block), ``"all"`` (every trainable parameter) or ``"both"`` (the W_rec
    block for everything, plus the top eigenvalue of the full Hessian as ``lambda_max_all``). Returns
    ``lambda_max``, ``lambda_converged``, ``trace``, ``trace_stderr``, ``loss`` (the value on the batch), ``n_hvp``,
    ``dim``, and with ``density`` the SLQ ``nodes`` and ``weights``.
    """
    from biocredit.curvature import HessianOperator, hutchinson_trace, spectral_density, top_eigenvalue_lanczos

    if params not in ("w_rec", "all", "both"):
        raise ValueError(f"params must be 'w_rec', 'all' or 'both', got {params!r}")
    closure = hessian_loss_closure(model, task, batch, weight_decay)
    trainable = [p for p in model.parameters() if p.requires_grad]
    op = HessianOperator(closure, trainable if params == "all" else [model.w_rec])
    top = top_eigenvalue_lanczos(op, tol=tol, max_hvp=max_hvp, seed=seed)
    out = {"lambda_max": top["value"], "lambda_converged": bool(top["converged"]), "loss": op.loss, "dim": op.dim}
    if trace_samples:
        tr = hutchinson_trace(op, n_samples=trace_samples, seed=seed + 1)
        out.update(trace=tr["value"], trace_stderr=tr["stderr"])
    else:
        out.update(trace=math.nan, trace_stderr=math.nan)
    if density:
        sd = spectral_density(op, n_iter=min(density_iter, op.dim), n_vectors=density_vectors, seed=seed + 2)
        out.update(nodes=sd["nodes"], weights=sd["weights"])
    if params == "both":
        full = HessianOperator(closure, trainable)
        top_all = top_eigenvalue_lanczos(full, tol=tol, max_hvp=max_hvp, seed=seed)
        out["lambda_max_all"] = top_all["value"]
        out["n_hvp"] = op.n_hvp + full.n_hvp
    else:
        out["n_hvp"] = op.n_hvp
    return out
