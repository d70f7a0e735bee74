"""Stage of ``rules/curvature.smk``: the Hessian of one run's loss at its checkpoints (study B)."""

from __future__ import annotations

import json
import logging

import numpy as np
import torch
import xarray as xr

from biocredit import __version__
from biocredit.curvature import checkpoint_curvature
from biocredit.io import write_netcdf
from biocredit.model import RateRNN
from biocredit.tasks import load_task
from biocredit.train import evaluation_batches, load_checkpoints, resolve_device

log = logging.getLogger(__name__)

__all__ = ["curvature_run"]


def _subset(n: int, k: int) -> list[int]:
    """``k`` evenly spaced indices of ``range(n)``, always the first and the last (all when ``k >= n``)."""
    if k <= 0 or k >= n:
        return list(range(n))
    if k == 1:
        return [n - 1]
    return sorted({int(round(i)) for i in np.linspace(0, n - 1, k)})


def curvature_run(
    data,
    checkpoints: str,
    out: str,
    *,
    task: str,
    task_cfg: dict,
    seed: int,
    train_cfg: dict,
    curvature: dict,
    device: str = "auto",
    meta: dict | None = None,
) -> None:
    """Hessian of one run's loss at its checkpoints (an evenly spaced subset of ``curvature["n_checkpoints"]``,
    first and last included) on a fixed batch: the run's validation batch (as the authors; the one its metrics
    log) or the first ``n_eval_trials`` training examples (``curvature["batch"]``). Always the full untruncated
    graph, whatever rule trained the net. Top eigenvalue (Lanczos), trace (Hutchinson) at each; spectral density
    (SLQ) at the last. Writes ``hessian.nc`` (dims ``checkpoint``, ``node``).

    The last saved checkpoint of a run trained to a criterion is the one where it met it (training stops there),
    so the last Hessian, the one the claims use, is at the matched point;
    :func:`biocredit.generalization.summarize_runs` checks
    this."""
    t = load_task(task, task_cfg, data)
    model_config, steps, states = load_checkpoints(checkpoints)
    dev = resolve_device(device)
    dtype = torch.float64 if curvature.get("dtype", "float32") == "float64" else torch.float32
    batches = evaluation_batches(t, seed, int(train_cfg.get("n_test_trials", 256)),
                                 int(train_cfg.get("n_eval_trials", 0)))
    key = "validation" if curvature.get("batch", "validation") == "validation" else "train_set"
    batch = batches.get(key, batches["test"])
    batch = type(batch)(batch.x.to(dev, dtype), batch.y.to(dev) if not batch.y.is_floating_point()
                        else batch.y.to(dev, dtype), batch.mask.to(dev, dtype), batch.condition.to(dev))
    idx = _subset(len(steps), int(curvature.get("n_checkpoints", 0)))
    wd = float(train_cfg.get("weight_decay", 0.0))
    rows, dens = [], None
    for j, i in enumerate(idx):
        model = RateRNN(model_config).to(device=dev, dtype=dtype)
        model.load_state_dict({k: v.to(dtype) if v.is_floating_point() else v for k, v in states[i].items()})
        last = j == len(idx) - 1
        res = checkpoint_curvature(
            model, t, batch, weight_decay=wd, params=curvature.get("params", "w_rec"), tol=curvature.get("tol", 1e-3),
            max_hvp=curvature.get("max_hvp", 100), trace_samples=curvature.get("trace_samples", 20),
            density=last, density_iter=curvature.get("density_iter", 30),
            density_vectors=curvature.get("density_vectors", 5), seed=int(seed),
        )
        if last:
            dens = (res.pop("nodes"), res.pop("weights"))
        rows.append(res)
        log.info("update %d: lambda_max %.4g (%d HVPs), trace %.4g", steps[i], res["lambda_max"], res["n_hvp"],
                 res["trace"])
    variables = {k: ("checkpoint", np.array([r.get(k, np.nan) for r in rows], dtype=np.float64))
                 for k in ("lambda_max", "trace", "trace_stderr", "loss", "n_hvp")}
    variables["lambda_converged"] = ("checkpoint", np.array([int(r["lambda_converged"]) for r in rows]))
    if any("lambda_max_all" in r for r in rows):
        variables["lambda_max_all"] = ("checkpoint", np.array([r.get("lambda_max_all", np.nan) for r in rows]))
    nodes, weights = dens if dens is not None else (np.empty(0), np.empty(0))
    variables["density_nodes"] = ("node", np.asarray(nodes, dtype=np.float64))
    variables["density_weights"] = ("node", np.asarray(weights, dtype=np.float64))
    ds = xr.Dataset(variables, coords={"checkpoint": np.array([steps[i] for i in idx], dtype=np.int64)})
    ds.attrs.update({
        "task": task, "seed": int(seed), "batch": key, "n_batch": int(batch.x.shape[0]), "weight_decay": wd,
        "params": curvature.get("params", "w_rec"), "dim": int(rows[0]["dim"]) if rows else 0,
        "method": "Lanczos (full reorthogonalisation) top eigenvalue; Hutchinson trace; SLQ density at the last",
        "graph": "full untruncated (fused=False, BPTT) whatever rule trained the net",
        "curvature_config": json.dumps(curvature, sort_keys=True), "biocredit_version": __version__,
        **{k: v for k, v in (meta or {}).items() if isinstance(v, (str, int, float))},
    })
    write_netcdf(ds, out)
