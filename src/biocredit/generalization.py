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

Summaries
---------
:func:`summarize_runs` stacks one task's runs (metrics logs and Hessian files) into the summary the claims and
figures read: curves per (run, checkpoint), curvature per (run, Hessian), each run's values at the matched point and
its spectral density on a grid shared by the task's runs.

The statistics that compare rules (permutation test, Brown–Forsythe spread test, correlations) are in
:mod:`biocredit.stats`; the curvature of one network is :func:`biocredit.curvature.checkpoint_curvature`.
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from biocredit import __version__
from biocredit.runs import parse_variant
from biocredit.stats import first_passage_interpolate

__all__ = [
    "generalization_gap",
    "stability_ratio",
    "matched_training_level",
    "value_at_training_loss",
    "density_on_grid",
    "summarize_runs",
    "CHECKPOINT_METRICS",
]


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
    if not np.isfinite(level):
        return math.nan
    out = first_passage_interpolate(-np.asarray(train_loss, dtype=np.float64), np.asarray(value, dtype=np.float64),
                                    np.array([-level]))
    return float(out[0])


def _clean(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64).ravel()
    return x[np.isfinite(x)]


def density_on_grid(nodes, weights, grid, sigma: float) -> np.ndarray:
    """``Σ_j w_j N(grid; θ_j, σ²)``: a stochastic-Lanczos-quadrature spectrum (nodes θ, weights w) smoothed by
    Gaussians of width ``sigma`` on ``grid`` (what :func:`biocredit.curvature.spectral_density` returns, on a grid
    shared by runs)."""
    nodes = np.asarray(nodes, dtype=np.float64).ravel()
    weights = np.asarray(weights, dtype=np.float64).ravel()
    keep = np.isfinite(nodes) & np.isfinite(weights)
    z = (np.asarray(grid, dtype=np.float64)[:, None] - nodes[None, keep]) / sigma
    return (np.exp(-0.5 * z * z) / (sigma * math.sqrt(2 * math.pi))) @ weights[keep]


def _pad(arrays: list[np.ndarray], fill=np.nan) -> np.ndarray:
    n = max((len(a) for a in arrays), default=0)
    out = np.full((len(arrays), n), fill, dtype=np.float64)
    for i, a in enumerate(arrays):
        out[i, : len(a)] = a
    return out


CHECKPOINT_METRICS = ("train_set_loss", "train_set_accuracy", "validation_loss", "validation_accuracy", "test_loss",
                      "test_accuracy", "grad_cosine")


def summarize_runs(metrics: list[str], hessians: list[str], runs: list[dict], *, task: str, reference: str,
                   base_lr: float, grid_points: int = 400) -> xr.Dataset:
    """One task's runs (metrics logs and ``hessian.nc`` files) stacked into its summary: curves per (run, checkpoint),
    curvature per (run, hessian),
    each run's final values (gap, λ_max, trace, mean gradient cosine) and its spectral density on a grid shared by
    the task's runs. ``runs`` are :func:`biocredit.runs.grid` rows aligned with the files; a run's learning rate is its
    name's
    ``-lr`` or ``base_lr``.

    Runs trained to a criterion (metrics attrs ``stop_criterion``, ``reached_criterion``, ``stopped_at``, see
    :func:`biocredit.train.train`) end at the checkpoint where they met it, so their final values and last Hessian
    are at the matched point; ``matched`` (per run) is 1 for those that met it (without a criterion: every run
    that did not diverge), ``stopped_at`` the update, and attrs ``criterion`` the criterion (``""`` = none)."""
    curves = {k: [] for k in ("update", *CHECKPOINT_METRICS)}
    hess = {k: [] for k in ("hessian_update", "lambda_max", "trace", "lambda_max_all")}
    nodes, weights, diverged, reached, stopped, criteria = [], [], [], [], [], []
    for m_path, h_path in zip(metrics, hessians, strict=True):
        with xr.open_dataset(m_path) as m, xr.open_dataset(h_path) as h:
            m, h = m.load(), h.load()
        curves["update"].append(m.checkpoint.values.astype(np.float64))
        for k in CHECKPOINT_METRICS:
            curves[k].append(m[k].values if k in m else np.full(m.sizes["checkpoint"], np.nan))
        hess["hessian_update"].append(h.checkpoint.values.astype(np.float64))
        for k in ("lambda_max", "trace", "lambda_max_all"):
            hess[k].append(h[k].values if k in h else np.full(h.sizes["checkpoint"], np.nan))
        nodes.append(h["density_nodes"].values)
        weights.append(h["density_weights"].values)
        diverged.append(int(m.attrs.get("diverged_at", -1)))
        reached.append(int(m.attrs.get("reached_criterion", 0)))
        stopped.append(int(m.attrs.get("stopped_at", m.checkpoint.values[-1])))
        criteria.append(str(m.attrs.get("stop_criterion", "")))
    if len(set(criteria)) > 1:
        raise ValueError(f"runs of task {task!r} were trained to different criteria {sorted(set(criteria))}; "
                         f"first: {metrics[criteria.index(sorted(set(criteria))[0])]}")
    criterion = criteria[0] if criteria else ""
    data = {k: (("run", "checkpoint"), _pad(v)) for k, v in curves.items()}
    data |= {k: (("run", "hessian"), _pad(v)) for k, v in hess.items()}
    n = len(runs)
    # final values: the last checkpoint with a finite training-set loss
    final = {k: np.full(n, np.nan) for k in ("final_update", "train_loss", "test_loss", "train_accuracy",
                                             "test_accuracy", "validation_loss", "validation_accuracy")}
    for i in range(n):
        ok = np.flatnonzero(np.isfinite(data["train_set_loss"][1][i]))
        if ok.size and diverged[i] < 0:  # a diverged run has no final values (counted, not compared)
            j = ok[-1]
            final["final_update"][i] = data["update"][1][i, j]
            for k, src in (("train_loss", "train_set_loss"), ("test_loss", "test_loss"),
                           ("train_accuracy", "train_set_accuracy"), ("test_accuracy", "test_accuracy"),
                           ("validation_loss", "validation_loss"), ("validation_accuracy", "validation_accuracy")):
                final[k][i] = data[src][1][i, j]
    gap = generalization_gap(final["train_loss"], final["test_loss"], final["train_accuracy"], final["test_accuracy"])
    # the gap at matched training loss: the level the median run of every main-grid rule reaches
    train_loss, test_loss = data["train_set_loss"][1], data["test_loss"][1]
    mins: dict[str, list] = {}
    for i, r in enumerate(runs):
        if r["main"] and diverged[i] < 0 and np.isfinite(train_loss[i]).any():
            mins.setdefault(r["rule"], []).append(float(np.nanmin(train_loss[i])))
    level = matched_training_level(mins)
    gap["gap_loss_matched"] = np.array([
        value_at_training_loss(train_loss[i], test_loss[i] - train_loss[i], level) if diverged[i] < 0 else np.nan
        for i in range(n)])

    def last_finite(a: np.ndarray) -> np.ndarray:
        out = np.full(a.shape[0], np.nan)
        for i, row in enumerate(a):
            ok = np.flatnonzero(np.isfinite(row))
            if ok.size:
                out[i] = row[ok[-1]]
        return out

    per_run = {f"final_{k}" if not k.startswith("final") else k: ("run", v) for k, v in final.items()}
    per_run |= {k: ("run", v) for k, v in gap.items()}
    per_run["lambda_final"] = ("run", last_finite(data["lambda_max"][1]))
    per_run["trace_final"] = ("run", last_finite(data["trace"][1]))
    per_run["lambda_all_final"] = ("run", last_finite(data["lambda_max_all"][1]))
    cos = data["grad_cosine"][1]
    with np.errstate(invalid="ignore"):
        per_run["grad_cosine_mean"] = ("run", np.array([np.nanmean(r) if np.isfinite(r).any() else np.nan
                                                        for r in cos]))
    per_run["diverged_at"] = ("run", np.array(diverged, dtype=np.int64))
    per_run["reached_criterion"] = ("run", np.array(reached, dtype=np.int64))
    per_run["stopped_at"] = ("run", np.array(stopped, dtype=np.int64))
    per_run["lambda_update"] = ("run", last_finite(np.where(np.isfinite(data["lambda_max"][1]),
                                                            data["hessian_update"][1], np.nan)))
    # the matched point: the checkpoint where the run met the training criterion (without a criterion: the end
    # of training of every run that did not diverge). Its final values and final curvature are read there.
    matched = (np.array(reached) == 1) if criterion else (np.array(diverged) < 0)
    per_run["matched"] = ("run", (matched & (np.array(diverged) < 0)).astype(np.int64))
    bad = [i for i in range(n) if reached[i] and np.isfinite(per_run["lambda_update"][1][i])
           and int(per_run["lambda_update"][1][i]) != stopped[i]]
    if bad:
        raise ValueError(f"{hessians[bad[0]]}: the last Hessian is at update {per_run['lambda_update'][1][bad[0]]:g}, "
                         f"not at the matched checkpoint {stopped[bad[0]]} where the run stopped")
    gone = np.array(diverged) >= 0
    for k in ("lambda_final", "trace_final", "lambda_all_final", "grad_cosine_mean"):
        per_run[k][1][gone] = np.nan
    all_nodes = np.concatenate([x for x in nodes if x.size]) if any(x.size for x in nodes) else np.zeros(1)
    lo, hi = float(np.min(all_nodes)), float(np.max(all_nodes))
    sigma = 0.01 * (hi - lo) if hi > lo else 1e-3 * max(1.0, abs(hi))
    grid_ = np.linspace(lo - 5 * sigma, hi + 5 * sigma, grid_points)
    dens = np.array([density_on_grid(x, w, grid_, sigma) if x.size else np.full(grid_points, np.nan)
                     for x, w in zip(nodes, weights, strict=True)]).reshape(n, grid_points)
    parsed = [parse_variant(r["rule"]) for r in runs]
    coords = {
        "run": np.arange(n),
        "rule": ("run", np.array([r["rule"] for r in runs], dtype=object)),
        "base_rule": ("run", np.array([p["rule"] for p in parsed], dtype=object)),
        "seed": ("run", np.array([r["seed"] for r in runs], dtype=np.int64)),
        "arch": ("run", np.array([r["arch"] for r in runs], dtype=object)),
        "lr": ("run", np.array([base_lr if p["lr"] is None else p["lr"] for p in parsed], dtype=np.float64)),
        "window": ("run", np.array([-1 if p["window"] is None else p["window"] for p in parsed], dtype=np.int64)),
        "main": ("run", np.array([int(r["main"]) for r in runs], dtype=np.int64)),
        "lr_sweep": ("run", np.array([int(r["lr_sweep"]) for r in runs], dtype=np.int64)),
        "terms": ("run", np.array([int(r["terms"]) for r in runs], dtype=np.int64)),
        "grid": grid_,
    }
    ds = xr.Dataset(data | per_run | {"density": (("run", "grid"), dens)}, coords=coords)
    ds.attrs.update({"task": task, "reference": reference, "density_sigma": sigma, "matched_train_loss": level,
                     "criterion": criterion, "biocredit_version": __version__})
    return ds
