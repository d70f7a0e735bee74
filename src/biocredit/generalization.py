"""Generalization and curvature of trained networks (study B: Liu, Ghosh, Richards, Shea-Brown & Lajoie 2022).

Science only (no files, no Snakemake): the generalization gap, the curvature of a checkpoint's loss, and the
statistics that compare learning rules.

Generalization gap
------------------
"the difference between training and testing error" (the paper's §1). One definition, stated before any run: at
the end of training (the authors train fixed iteration counts and compare at the end),
``gap_loss = clean validation loss − training-set loss`` (task losses, no L2 term), with the accuracy form
``gap_accuracy = training-set accuracy − validation accuracy`` beside it. The authors log exactly these two sets
(a validation batch and the training data; spec §1a); we evaluate the whole validation set (the same quantity with
less sampling noise). The noisy-test gap (test images with N(0, 0.2²) pixel noise, a robustness measure) is
reported next to it as ``gap_noisy_*``, never as the claim. Rules that fit the training set less also overfit
less, so the gap is also read at *matched training loss* (:func:`matched_training_level`,
:func:`value_at_training_loss`) as a second panel.

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
from biocredit.io import open_netcdf
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
    """``gap_loss = test_loss − train_loss`` and ``gap_accuracy = train_accuracy − test_accuracy`` (elementwise;
    "test" is whichever held-out set is passed); positive = worse on the held-out set."""
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


CHECKPOINT_METRICS = ("train_set_loss", "train_set_accuracy", "validation_loss", "validation_accuracy",
                      "validation_set_loss", "validation_set_accuracy", "test_loss", "test_accuracy", "grad_cosine")


def _last_finite(a: np.ndarray) -> np.ndarray:
    """Per row, the last finite value (NaN for a row without one)."""
    out = np.full(a.shape[0], np.nan)
    for i, row in enumerate(a):
        ok = np.flatnonzero(np.isfinite(row))
        if ok.size:
            out[i] = row[ok[-1]]
    return out


def summarize_runs(metrics: list[str], hessians: list[str], runs: list[dict], *, task: str, reference: str,
                   base_lr: float, grid_points: int = 400) -> xr.Dataset:
    """One task's runs (metrics logs and ``hessian.nc`` files) stacked into its summary: curves per (run,
    checkpoint), curvature per (run, hessian), each run's values at the end of its training (its fixed budget: the
    last checkpoint; the gaps of the module docstring, the last top eigenvalue and trace, the mean gradient cosine)
    and its spectral density on a grid shared by the task's runs. ``runs`` are :func:`biocredit.runs.grid` rows
    aligned with the files; a run's learning rate is its name's ``-lr`` or ``base_lr``. A run that diverged keeps
    its curves but has no final values (counted in the claims, not compared)."""
    curves = {k: [] for k in ("update", *CHECKPOINT_METRICS)}
    hess = {k: [] for k in ("hessian_update", "lambda_max", "trace", "lambda_max_all")}
    nodes, weights, diverged = [], [], []
    for m_path, h_path in zip(metrics, hessians, strict=True):
        with open_netcdf(m_path) as m, open_netcdf(h_path) as h:
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
    data = {k: (("run", "checkpoint"), _pad(v)) for k, v in curves.items()}
    data |= {k: (("run", "hessian"), _pad(v)) for k, v in hess.items()}
    n = len(runs)
    gone = np.array(diverged, dtype=np.int64) >= 0
    # the held-out set of the gap: the whole validation set where the task has one, else the validation batch
    held = "validation_set" if np.isfinite(data["validation_set_loss"][1]).any() else "validation"
    final = {}
    for k, src in (("train_loss", "train_set_loss"), ("train_accuracy", "train_set_accuracy"),
                   ("validation_loss", f"{held}_loss"), ("validation_accuracy", f"{held}_accuracy"),
                   ("test_loss", "test_loss"), ("test_accuracy", "test_accuracy")):
        final[k] = _last_finite(data[src][1])
        final[k][gone] = np.nan
    final["final_update"] = _last_finite(np.where(np.isfinite(data["train_set_loss"][1]), data["update"][1], np.nan))
    final["final_update"][gone] = np.nan
    gap = generalization_gap(final["train_loss"], final["validation_loss"], final["train_accuracy"],
                             final["validation_accuracy"])
    noisy = generalization_gap(final["train_loss"], final["test_loss"], final["train_accuracy"],
                               final["test_accuracy"])
    gap |= {"gap_noisy_loss": noisy["gap_loss"], "gap_noisy_accuracy": noisy["gap_accuracy"]}
    # the gap at matched training loss: the level the median run of every main-grid rule reaches
    train_loss, held_loss = data["train_set_loss"][1], data[f"{held}_loss"][1]
    mins: dict[str, list] = {}
    for i, r in enumerate(runs):
        if r["main"] and not gone[i] and np.isfinite(train_loss[i]).any():
            mins.setdefault(r["rule"], []).append(float(np.nanmin(train_loss[i])))
    level = matched_training_level(mins)
    gap["gap_loss_matched"] = np.array([
        np.nan if gone[i] else value_at_training_loss(train_loss[i], held_loss[i] - train_loss[i], level)
        for i in range(n)])
    per_run = {f"final_{k}" if not k.startswith("final") else k: ("run", v) for k, v in final.items()}
    per_run |= {k: ("run", v) for k, v in gap.items()}
    per_run["lambda_final"] = ("run", _last_finite(data["lambda_max"][1]))
    per_run["trace_final"] = ("run", _last_finite(data["trace"][1]))
    per_run["lambda_all_final"] = ("run", _last_finite(data["lambda_max_all"][1]))
    per_run["lambda_update"] = ("run", _last_finite(np.where(np.isfinite(data["lambda_max"][1]),
                                                             data["hessian_update"][1], np.nan)))
    cos = data["grad_cosine"][1]
    with np.errstate(invalid="ignore"):
        per_run["grad_cosine_mean"] = ("run", np.array([np.nanmean(r) if np.isfinite(r).any() else np.nan
                                                        for r in cos]))
    for k in ("lambda_final", "trace_final", "lambda_all_final", "grad_cosine_mean"):
        per_run[k][1][gone] = np.nan
    per_run["diverged_at"] = ("run", np.array(diverged, dtype=np.int64))
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
                     "held_out": held, "biocredit_version": __version__})
    return ds
