"""Study B's workflow stages (Liu, Ghosh, Richards, Shea-Brown & Lajoie, NeurIPS 2022): the run grid and run
names, per-run curvature, per-task summaries, figures B1–B7 and their claim rows. The analogue of
:mod:`biocredit.pipeline` for study B; training itself is :func:`biocredit.pipeline.train_run`.

Run names (the ``rule`` wildcard)
---------------------------------
A run's rule is a learning rule's config name, optionally followed by variants, each ``-<key><value>``:

- ``-w<k>``: truncation window ``k`` (steps) of ``tbptt`` (overrides ``rule_options.tbptt.window``);
- ``-lr<η>``: learning rate ``η`` (overrides the study's ``training.lr``), written in positional notation
  (``0.05``, never ``5e-2``).

E.g. ``bptt``, ``tbptt-w4``, ``eprop-lr0.05``, ``tbptt-w4-lr0.2``. The remedies of figures B5/B6 are such
variants: a learning-rate sweep (``<rule>-lr<η>``; the study's own lr gives the plain name, so those runs are the
main grid's) and the "gradient terms kept" axis e-prop → MDGL → ``tbptt-w<k>`` (increasing k) → BPTT.

Training schedule
-----------------
The authors evaluate at evenly spaced iterations (every 250 of 10k for BPTT, every 400 of 16k for their
three-factor rule: 40 points each) and train the three-factor rule 1.6× longer. Here ``n_checkpoints`` evenly
spaced evaluations plus the last update (:func:`evaluation_schedule`), and ``updates_factor`` multiplies a rule's
number of updates.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import xarray as xr

from biocredit import __version__
from biocredit.io import write_json, write_netcdf

log = logging.getLogger(__name__)

__all__ = [
    "STUDY",
    "parse_variant",
    "variant_name",
    "format_lr",
    "evaluation_schedule",
    "train_config",
    "criterion_of",
    "run_config",
    "terms_axis",
    "arch_of",
    "base_lr",
    "grid",
    "download_mnist",
    "curvature_run",
    "summarize",
    "figures",
    "figures_remedies",
    "claims_main",
    "claims_remedies",
]

STUDY = "generalization"
_RULE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_TOKEN_RE = re.compile(r"^(w)([0-9]+)$|^(lr)([0-9]+(?:\.[0-9]+)?)$")
#: config names of the learning rules (biocredit.rules.RULES), without importing torch-heavy modules here
TRAINING_KEYS = ("n_updates", "lr", "optimizer", "batch_size", "n_test_trials", "activity_penalty", "adapt_penalty",
                 "penalty_decay", "grad_clip", "weight_decay", "n_eval_trials")


# ------------------------------------------------------------------------------------------------ run names


def format_lr(lr: float) -> str:
    """``η`` in positional notation without trailing zeros (``0.05``, ``0.00001``): no ``-`` or ``e`` in names."""
    if not (isinstance(lr, (int, float)) and lr > 0 and math.isfinite(lr)):
        raise ValueError(f"learning rate must be a positive number, got {lr!r}")
    return np.format_float_positional(float(lr), trim="-")


def variant_name(rule: str, window: int | None = None, lr: float | None = None) -> str:
    """The run name of ``rule`` with an optional tBPTT ``window`` and learning rate (see the module docstring)."""
    if not _RULE_RE.match(rule):
        raise ValueError(f"bad rule name {rule!r}")
    name = rule
    if window is not None:
        if rule != "tbptt":
            raise ValueError(f"a window only applies to tbptt, not {rule!r}")
        name += f"-w{int(window)}"
    if lr is not None:
        name += f"-lr{format_lr(lr)}"
    return name


def parse_variant(name: str) -> dict:
    """``{"rule", "window", "lr", "options"}`` of a run name; ``options`` are the rule's keyword options.

    Raises ``ValueError`` for a malformed name, a repeated key, or a window on a rule other than tbptt.
    """
    rule, *tokens = name.split("-")
    if not _RULE_RE.match(rule):
        raise ValueError(f"bad run name {name!r}: it must start with a learning rule's name")
    out: dict = {"rule": rule, "window": None, "lr": None, "options": {}}
    for tok in tokens:
        m = _TOKEN_RE.match(tok)
        if not m:
            raise ValueError(f"bad variant {tok!r} in run name {name!r}; expected w<int> or lr<number>")
        key = m.group(1) or m.group(3)
        field = "window" if key == "w" else "lr"
        if out[field] is not None:
            raise ValueError(f"run name {name!r} repeats {key}")
        if key == "w":
            if rule != "tbptt":
                raise ValueError(f"run name {name!r}: a window applies to tbptt only")
            out["window"] = int(m.group(2))
            if out["window"] < 1:
                raise ValueError(f"run name {name!r}: window must be >= 1")
            out["options"]["window"] = out["window"]
        else:
            out["lr"] = float(m.group(4))
            if out["lr"] <= 0:
                raise ValueError(f"run name {name!r}: lr must be positive")
    return out


def evaluation_schedule(n_updates: int, n_checkpoints: int) -> list[int]:
    """``n_checkpoints`` evenly spaced evaluations ``round(k·n_updates/n_checkpoints)``, k = 0…n−1 (the authors'
    0, 250, …, 9750 for 10k updates and 40 points), plus the end of training, ``n_updates``."""
    if n_updates < 1 or n_checkpoints < 1:
        raise ValueError("n_updates and n_checkpoints must be positive")
    return sorted({int(round(k * n_updates / n_checkpoints)) for k in range(n_checkpoints)} | {int(n_updates)})


def _training(cfg: dict, task: str) -> dict:
    return dict(cfg["training"]) | dict(cfg.get("task_training", {}).get(task, {}))


def criterion_of(cfg: dict, task: str) -> dict | None:
    """The training criterion of ``task`` from the study's ``criterion`` section: ``{"metric", "level", "patience",
    "cap_factor"}``, or None when the task has no level (train for the fixed count, as the authors)."""
    c = cfg.get("criterion") or {}
    level = (c.get("levels") or {}).get(task)
    if level is None:
        return None
    return {"metric": c.get("metric", "train_set_accuracy"), "level": float(level),
            "patience": int(c.get("patience", 1)), "cap_factor": float(c.get("cap_factor", 2.0))}


def train_config(cfg: dict, task: str, run: str) -> dict:
    """The :class:`~biocredit.train.TrainConfig` keywords of run ``run`` on ``task`` from the study's config
    section ``cfg``: ``training`` with the task's ``task_training`` overrides, the run name's lr, the rule's
    ``updates_factor`` and explicit checkpoints (:func:`evaluation_schedule`).

    With a training criterion for the task (:func:`criterion_of`) the run stops at the first evaluation where the
    criterion holds, and its update count becomes a cap, ``cap_factor`` times the count above; evaluations keep the
    spacing of the plain schedule (``n_updates / n_checkpoints``) up to the cap."""
    v = parse_variant(run)
    training = _training(cfg, task)
    n_checkpoints = int(training.pop("n_checkpoints"))
    factor = float(cfg.get("updates_factor", {}).get(v["rule"], 1.0))
    n_updates = max(1, int(round(training["n_updates"] * factor)))
    out = {k: v_ for k, v_ in training.items() if k in TRAINING_KEYS}
    if v["lr"] is not None:
        out["lr"] = v["lr"]
    crit = criterion_of(cfg, task)
    if crit is not None:
        cap = max(1, int(round(n_updates * crit["cap_factor"])))
        n_checkpoints = max(1, int(round(n_checkpoints * cap / int(training["n_updates"]))))
        n_updates = cap
        out |= {"stop_metric": crit["metric"], "stop_at": crit["level"], "stop_patience": crit["patience"]}
    out["n_updates"] = n_updates
    out["checkpoints"] = evaluation_schedule(n_updates, n_checkpoints)
    return out


def run_config(config: dict, task: str, arch: str, run: str) -> dict:
    """Everything that defines a study-B run besides its wildcards (the ``train`` rule's ``params.run``)."""
    v = parse_variant(run)
    return {
        "task_cfg": config["tasks"][task],
        "arch_cfg": config["archs"][arch],
        "train_cfg": train_config(config[STUDY], task, run),
        "rule_options": dict(config["rule_options"].get(v["rule"], {})) | v["options"],
        "rule": v["rule"],
    }


def base_lr(cfg: dict, task: str) -> float:
    """The study's learning rate on ``task`` (``training.lr`` with the task's override)."""
    return float(_training(cfg, task)["lr"])


def arch_of(cfg: dict, task: str) -> str:
    """The ``archs`` row of ``task`` (``task_arch`` override, else ``arch``)."""
    return cfg.get("task_arch", {}).get(task, cfg["arch"])


def terms_axis(windows: Sequence[int]) -> list[str]:
    """Run names ordered by how many terms of the exact gradient they keep: e-prop (none of the non-local ones),
    MDGL (one step of the partial learning signal), tBPTT with increasing windows, BPTT (all)."""
    return ["eprop", "mdgl", *[variant_name("tbptt", window=int(k)) for k in sorted(set(windows))], "bptt"]


def grid(cfg: dict, seed_offset: int = 0) -> list[dict]:
    """Every run of study B from the config section ``cfg``: dicts with ``task``, ``arch``, ``rule`` (run name),
    ``seed`` and the flags ``main`` (main grid), ``lr_sweep`` and ``terms`` (remedies), in a stable order without
    duplicates (a remedy run that is also a main-grid run appears once, with both flags). ``seed_offset`` (the
    workflow's top-level ``seed_offset``) is added to every configured seed, so the runs' seeds (and paths) are
    ``seed + seed_offset``."""
    if int(seed_offset) < 0:
        raise ValueError(f"seed_offset must be >= 0, got {seed_offset!r}")
    runs: dict[tuple, dict] = {}

    def add(task, name, seed, flag):
        arch = arch_of(cfg, task)
        seed = int(seed) + int(seed_offset)
        key = (task, arch, name, int(seed))
        row = runs.setdefault(key, {"task": task, "arch": arch, "rule": name, "seed": int(seed),
                                    "main": False, "lr_sweep": False, "terms": False})
        row[flag] = True

    for task in cfg["tasks"]:
        for r in cfg["rules"]:
            for seed in cfg["seeds"]:
                add(task, r, seed, "main")
    rem = cfg["remedies"]
    task = rem["task"]
    seeds = rem.get("seeds") or cfg["seeds"]
    lr0 = base_lr(cfg, task)
    for r in rem["lr_rules"]:
        for lr in rem["lrs"]:
            name = r if math.isclose(lr, lr0, rel_tol=1e-9) else variant_name(r, lr=lr)
            for seed in seeds:
                add(task, name, seed, "lr_sweep")
    for name in terms_axis(rem["windows"]):
        for seed in seeds:
            add(task, name, seed, "terms")
    return list(runs.values())


# ------------------------------------------------------------------------------------------------ data


def download_mnist(filename: str, out: str, mirror_setting: str | None) -> None:
    """Fetch one MNIST IDX file (registry ``mnist_*``) from its URL or the mirror, verifying its SHA-256."""
    from biocredit.data import fetch, resolve_mirror
    from biocredit.data.mnist import MNIST_FILES

    entry = next((f for f in MNIST_FILES if Path(f.relpath).name == filename), None)
    if entry is None:
        raise ValueError(f"{filename!r} is not one of the MNIST files {[Path(f.relpath).name for f in MNIST_FILES]}")
    fetch(entry.url, out, entry.sha256, mirror=resolve_mirror(mirror_setting), mirror_relpath=entry.relpath)


# ------------------------------------------------------------------------------------------------ curvature


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
    so the last Hessian, the one the claims use, is at the matched point; :func:`summarize` checks this."""
    from biocredit.generalization import checkpoint_curvature
    from biocredit.model import RateRNN
    from biocredit.pipeline import load_task
    from biocredit.train import evaluation_batches, load_checkpoints, resolve_device

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


# ------------------------------------------------------------------------------------------------ summaries


def _pad(arrays: list[np.ndarray], fill=np.nan) -> np.ndarray:
    n = max((len(a) for a in arrays), default=0)
    out = np.full((len(arrays), n), fill, dtype=np.float64)
    for i, a in enumerate(arrays):
        out[i, : len(a)] = a
    return out


CHECKPOINT_METRICS = ("train_set_loss", "train_set_accuracy", "validation_loss", "validation_accuracy", "test_loss",
                      "test_accuracy", "grad_cosine")


def summarize(metrics: list[str], hessians: list[str], runs: list[dict], out: str, *, task: str,
              reference: str, base_lr: float, grid_points: int = 400) -> None:
    """Stack one task's runs into ``summary.nc``: curves per (run, checkpoint), curvature per (run, hessian),
    each run's final values (gap, λ_max, trace, mean gradient cosine) and its spectral density on a grid shared by
    the task's runs. ``runs`` are :func:`grid` rows aligned with the files; a run's learning rate is its name's
    ``-lr`` or ``base_lr``.

    Runs trained to a criterion (metrics attrs ``stop_criterion``, ``reached_criterion``, ``stopped_at``, see
    :func:`biocredit.train.train`) end at the checkpoint where they met it, so their final values and last Hessian
    are at the matched point; ``matched`` (per run) is 1 for those that met it (without a criterion: every run
    that did not diverge), ``stopped_at`` the update, and attrs ``criterion`` the criterion (``""`` = none)."""
    from biocredit.generalization import (
        density_on_grid,
        generalization_gap,
        matched_training_level,
        value_at_training_loss,
    )

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
    write_netcdf(ds, out)


# ------------------------------------------------------------------------------------------------ claims


def _load(path: str) -> xr.Dataset:
    with xr.open_dataset(path) as ds:
        return ds.load()


def _main(ds: xr.Dataset) -> xr.Dataset:
    return ds.isel(run=np.flatnonzero(ds["main"].values == 1))


def _matched(ds: xr.Dataset) -> xr.Dataset:
    """Runs at the matched point (``matched`` == 1, see :func:`summarize`); all runs for summaries without it."""
    if "matched" not in ds:
        return ds
    return ds.isel(run=np.flatnonzero(ds["matched"].values == 1))


def _n_by_rule(ds: xr.Dataset, rules: Sequence[str]) -> dict[str, int]:
    return {r: int((ds["rule"].values == r).sum()) for r in rules}


def reach_table(ds: xr.Dataset, rules: Sequence[str]) -> list[dict]:
    """Per rule: runs, runs that met the training criterion (``n_reached``, ``fraction``), the median and range of
    the updates they needed, and the median final training-set accuracy of the others (how close they came)."""
    out = []
    for r in rules:
        sel = ds["rule"].values == r
        ok = sel & (ds["matched"].values == 1) if "matched" in ds else sel
        upd = ds["stopped_at"].values[ok].astype(float) if "stopped_at" in ds else np.empty(0)
        short = sel & ~ok
        acc = ds["final_train_accuracy"].values[short] if "final_train_accuracy" in ds else np.empty(0)
        acc = acc[np.isfinite(acc)]
        out.append({
            "rule": r, "n": int(sel.sum()), "n_reached": int(ok.sum()),
            "fraction": float(ok.sum() / sel.sum()) if sel.sum() else None,
            "median_updates": float(np.median(upd)) if upd.size else None,
            "updates_range": [float(upd.min()), float(upd.max())] if upd.size else None,
            "median_train_accuracy_not_reached": float(np.median(acc)) if acc.size else None,
        })
    return out


def _by_rule(ds: xr.Dataset, var: str, rules: Sequence[str]) -> dict[str, np.ndarray]:
    return {r: ds[var].values[ds["rule"].values == r] for r in rules}


def _label(rule: str) -> str:
    from biocredit.figures.style import RULE_LABELS

    v = parse_variant(rule)
    base = RULE_LABELS.get(v["rule"], v["rule"])
    if v["window"] is not None:
        base = f"tBPTT (k={v['window']})"
    if v["lr"] is not None:
        base += f", η={format_lr(v['lr'])}"
    return base


def _pick(c: dict) -> dict:
    return {k: c[k] for k in ("spearman_r", "spearman_p", "n")}


def claims_main(ds: xr.Dataset, *, task: str, rules: list[str], alpha: float, train_margin: float,
                preset: str) -> dict[str, dict]:
    """Claim rows B1–B4 and B7 of one task from its summary (main-grid runs; ``rules[0]`` is the reference)."""
    from biocredit.claims import claim_row, equivalence_holds
    from biocredit.generalization import correlation, permutation_test, spread_test
    from biocredit.stats import difference_of_means

    main = _main(ds)
    matched = _matched(main)  # B2-B4, B7 compare runs at the matched point (where they met the criterion)
    criterion = ds.attrs.get("criterion", "")
    n_matched = _n_by_rule(matched, rules)
    matched_note = {"criterion": criterion or None, "n_matched": n_matched,
                    "n_excluded": {r: k - n_matched[r] for r, k in _n_by_rule(main, rules).items()}}
    ref, others = rules[0], list(rules[1:])
    n_div = {r: int((main["diverged_at"].values[main["rule"].values == r] >= 0).sum()) for r in rules} \
        if "diverged_at" in main else {}
    ref_label, n = _label(ref), int(main.sizes["run"])
    bio_label = ", ".join(_label(r) for r in others)
    rows: dict[str, dict] = {}

    # B1: comparable training performance (final training-set accuracy within ±margin of the reference)
    acc = _by_rule(main, "final_train_accuracy", rules)
    per_rule = []
    for r in others:
        d = difference_of_means(acc[r], acc[ref])
        per_rule.append({"rule": r, "mean_diff": d["mean_diff"], "ci": list(d["ci"]), "p": d["p"],
                         "equivalent": equivalence_holds(d["ci"], train_margin)})
    worst = max(per_rule, key=lambda x: abs(x["mean_diff"]) if np.isfinite(x["mean_diff"]) else -1)
    rows["B1"] = claim_row(
        id=f"B1-{task}", figure="B1", study="B", task=task,
        claim=f"The rules reach comparable training performance on {task} ({bio_label} vs {ref_label})",
        statistic=f"difference of mean final training-set accuracy (rule − {ref_label}) with 95% bootstrap CI; holds "
        f"when every rule's CI lies within ±{train_margin}",
        value=worst["mean_diff"], ci=worst["ci"], p=worst["p"], rules=per_rule,
        mean_train_accuracy={r: float(np.nanmean(v)) if np.isfinite(v).any() else None for r, v in acc.items()},
        criterion=criterion or None, reached=reach_table(main, rules),
        margin=train_margin, n=n, preset=preset, holds=all(x["equivalent"] for x in per_rule),
    )

    # B2: worse (mean) and more variable (spread) generalization gap, bio rules pooled vs the reference
    gap = _by_rule(matched, "gap_loss", rules)
    gap_acc = _by_rule(matched, "gap_accuracy", rules)
    bio = np.concatenate([gap[r] for r in others])
    mean_t = permutation_test(bio, gap[ref], alternative="greater")
    spread = spread_test([gap[r] for r in others], [gap[ref]])
    mean_acc = permutation_test(np.concatenate([gap_acc[r] for r in others]), gap_acc[ref], alternative="greater")
    gap_m = _by_rule(main, "gap_loss_matched", rules)
    matched_t = permutation_test(np.concatenate([gap_m[r] for r in others]), gap_m[ref], alternative="greater")
    matched_s = spread_test([gap_m[r] for r in others], [gap_m[ref]])
    holds_mean = bool(np.isfinite(mean_t["p"]) and mean_t["diff"] > 0 and mean_t["p"] < alpha)
    holds_spread = bool(np.isfinite(spread["p"]) and spread["sd_ratio"] > 1 and spread["p"] < alpha)
    rows["B2"] = claim_row(
        id=f"B2-{task}", figure="B2", study="B", task=task,
        claim=f"Bio-plausible rules ({bio_label}) generalize worse and more variably than {ref_label} on {task}",
        statistic="generalization gap = test loss − training-set loss at the matched point (the checkpoint where a "
        "run met the training criterion; runs that never did are excluded, n_matched per rule; without a criterion "
        "the end of training); mean: one-sided "
        f"permutation test of mean(bio rules pooled) − mean({ref_label}); spread: Brown–Forsythe test on absolute "
        f"deviations from each rule's median (sd_ratio = pooled within-rule SD bio / {ref_label}); holds when "
        f"both are significant at {alpha} in the claimed direction",
        value=mean_t["diff"], p=mean_t["p"], p_spread=spread["p"], sd_ratio=spread["sd_ratio"],
        holds_mean=holds_mean, holds_spread=holds_spread,
        accuracy_gap={"diff": mean_acc["diff"], "p": mean_acc["p"]},
        matched_train_loss={"level": ds.attrs.get("matched_train_loss"), "diff": matched_t["diff"],
                            "p": matched_t["p"], "sd_ratio": matched_s["sd_ratio"], "p_spread": matched_s["p"],
                            "n_reached": int(np.isfinite(main["gap_loss_matched"].values).sum())},
        n_diverged=n_div, **matched_note,
        mean_gap={r: float(np.nanmean(v)) if np.isfinite(v).any() else None for r, v in gap.items()},
        alpha=alpha, n=int(matched.sizes["run"]), preset=preset, holds=holds_mean and holds_spread,
    )

    # B3: higher curvature at the end of training
    lam = _by_rule(matched, "lambda_final", rules)
    lam_t = permutation_test(np.concatenate([lam[r] for r in others]), lam[ref], alternative="greater")
    per_rule_lam = {r: permutation_test(lam[r], lam[ref], alternative="greater") for r in others}
    rows["B3"] = claim_row(
        id=f"B3-{task}", figure="B3", study="B", task=task,
        claim=f"Bio-plausible rules ({bio_label}) approach higher-curvature regions than {ref_label} on {task}",
        statistic="top Hessian eigenvalue of the loss (task loss + L2) w.r.t. W_rec at the matched point (see B2); "
        "one-sided "
        f"permutation test of mean(bio rules pooled) − mean({ref_label}); holds when p < {alpha} and the difference "
        "is positive",
        value=lam_t["diff"], p=lam_t["p"],
        per_rule={r: {"diff": t["diff"], "p": t["p"]} for r, t in per_rule_lam.items()},
        median_lambda={r: float(np.nanmedian(v)) if np.isfinite(v).any() else None for r, v in lam.items()},
        **matched_note, alpha=alpha, n=int(matched.sizes["run"]), preset=preset,
        holds=bool(np.isfinite(lam_t["p"]) and lam_t["diff"] > 0 and lam_t["p"] < alpha),
    )

    # B4: the gap correlates with curvature over all main-grid runs
    loglam = np.log10(np.where(matched["lambda_final"].values > 0, matched["lambda_final"].values, np.nan))
    c = correlation(matched["gap_loss"].values, matched["lambda_final"].values)
    c_log = correlation(matched["gap_loss"].values, loglam)
    c_acc = correlation(matched["gap_accuracy"].values, matched["lambda_final"].values)
    rows["B4"] = claim_row(
        id=f"B4-{task}", figure="B4", study="B", task=task,
        claim=f"Generalization correlates with loss-landscape curvature on {task}",
        statistic="Spearman rank correlation between the loss gap and the top Hessian eigenvalue, both at the "
        "matched point (see B2), over the main grid's runs that reached it (Pearson r on log10 λ beside it); holds "
        f"when ρ > 0 with p < {alpha}",
        value=c["spearman_r"], p=c["spearman_p"], pearson_r_log=c_log["pearson_r"], pearson_p_log=c_log["pearson_p"],
        pearson_r=c["pearson_r"], pearson_p=c["pearson_p"],
        accuracy_gap={"spearman_r": c_acc["spearman_r"], "spearman_p": c_acc["spearman_p"]},
        matched_train_loss=_pick(correlation(main["gap_loss_matched"].values, main["lambda_final"].values)),
        **matched_note, alpha=alpha, n=c["n"], preset=preset,
        holds=bool(np.isfinite(c["spearman_p"]) and c["spearman_r"] > 0 and c["spearman_p"] < alpha),
    )

    # B7: the excess curvature shows in the trace too; cosine of updates with the true gradient
    tr = _by_rule(matched, "trace_final", rules)
    tr_t = permutation_test(np.concatenate([tr[r] for r in others]), tr[ref], alternative="greater")
    cos = _by_rule(matched, "grad_cosine_mean", rules)
    rows["B7"] = claim_row(
        id=f"B7-{task}", figure="B7", study="B", task=task,
        claim=f"The higher curvature of bio-plausible rules is not confined to the top eigenvalue: their Hessian "
        f"trace exceeds {ref_label}'s on {task}",
        statistic="Hutchinson trace of the W_rec Hessian at the matched point (see B2); one-sided permutation test of "
        f"mean(bio rules pooled) − mean({ref_label}); holds when p < {alpha} and the difference is positive",
        value=tr_t["diff"], p=tr_t["p"],
        mean_grad_cosine={r: float(np.nanmean(v)) if np.isfinite(v).any() else None for r, v in cos.items()},
        **matched_note, alpha=alpha, n=int(matched.sizes["run"]), preset=preset,
        holds=bool(np.isfinite(tr_t["p"]) and tr_t["diff"] > 0 and tr_t["p"] < alpha),
    )
    return rows


def claims_remedies(ds: xr.Dataset, *, task: str, reference: str, lr_rules: list[str], windows: list[int],
                    alpha: float, tolerance: float, preset: str) -> dict[str, dict]:
    """Claim rows B5 (stability bound) and B6 (remedies) from the remedies task's summary."""
    from biocredit.claims import claim_row
    from biocredit.generalization import correlation, stability_ratio

    sweep = ds.isel(run=np.flatnonzero(ds["lr_sweep"].values == 1))
    ratio = stability_ratio(sweep["lambda_final"].values, sweep["lr"].values)
    base = sweep["base_rule"].values
    lrs = sorted({float(x) for x in sweep["lr"].values})
    table, ok_ref, ok_bio = [], True, True
    for r in lr_rules:
        for lr in lrs:
            sel = (base == r) & np.isclose(sweep["lr"].values, lr)
            med = float(np.nanmedian(ratio[sel])) if np.isfinite(ratio[sel]).any() else math.nan
            table.append({"rule": r, "lr": lr, "median_ratio": med, "n": int(np.isfinite(ratio[sel]).sum())})
            if r == reference:
                ok_ref &= bool(np.isfinite(med) and med <= 1 + tolerance)
            else:
                ok_bio &= bool(np.isfinite(med) and med > 1 + tolerance)
    others = [r for r in lr_rules if r != reference]
    bio_ratio = ratio[np.isin(base, others)]
    rows = {"B5": claim_row(
        id=f"B5-{task}", figure="B5", study="B", task=task,
        claim=f"{_label(reference)} stays near or below the stability bound 2/η while truncated rules "
        f"({', '.join(_label(r) for r in others) or 'none swept'}) settle beyond it, at every learning rate ({task})",
        statistic=f"median over seeds of λ_max·η/2 per rule and learning rate; holds when {_label(reference)}'s is "
        f"≤ 1 + {tolerance} and every other swept rule's is > 1 + {tolerance} at every η (tolerance: a held-out "
        "batch and minibatch noise put the measured sharpness of stable SGD slightly above 2/η)",
        value=float(np.nanmedian(bio_ratio)) if np.isfinite(bio_ratio).any() else None,
        table=table, tolerance=tolerance, n=int(np.isfinite(ratio).sum()), preset=preset,
        holds=bool(ok_ref and ok_bio and others),
    )}

    # B6: larger learning rates and more gradient terms lower curvature and the gap, at the matched point
    sweep_m = _matched(sweep)
    bio_sweep = sweep_m.isel(run=np.flatnonzero(np.isin(sweep_m["base_rule"].values, others or lr_rules)))
    lr_lam = correlation(bio_sweep["lr"].values, bio_sweep["lambda_final"].values)
    lr_gap = correlation(bio_sweep["lr"].values, bio_sweep["gap_loss"].values)
    order = {name: i for i, name in enumerate(terms_axis(windows))}
    terms_all = ds.isel(run=np.flatnonzero(ds["terms"].values == 1))
    terms = _matched(terms_all)
    rank = np.array([order.get(str(r), np.nan) for r in terms["rule"].values], dtype=np.float64)
    t_lam = correlation(rank, terms["lambda_final"].values)
    t_gap = correlation(rank, terms["gap_loss"].values)
    parts = {
        "lr_vs_lambda": lr_lam, "lr_vs_gap": lr_gap, "terms_vs_lambda": t_lam, "terms_vs_gap": t_gap,
    }
    verdicts = {k: bool(np.isfinite(v["spearman_p"]) and v["spearman_r"] < 0 and v["spearman_p"] < alpha)
                for k, v in parts.items()}
    rows["B6"] = claim_row(
        id=f"B6-{task}", figure="B6", study="B", task=task,
        claim=f"Remedies reduce curvature and the generalization gap ({task}): a larger learning rate for the "
        "truncated rules, and keeping more gradient terms (e-prop → MDGL → tBPTT → BPTT)",
        statistic="Spearman ρ of the top eigenvalue and of the loss gap at the matched point (see B2; runs that never "
        "met the training criterion excluded) against the learning rate (swept non-reference rules pooled) and "
        f"against the rank on the terms-kept axis; holds when all four are negative with p < {alpha}",
        value=t_lam["spearman_r"], p=t_lam["spearman_p"],
        parts={k: {"spearman_r": v["spearman_r"], "spearman_p": v["spearman_p"], "n": v["n"], "holds": verdicts[k]}
               for k, v in parts.items()},
        criterion=ds.attrs.get("criterion", "") or None,
        n_excluded={"lr_sweep": int(sweep.sizes["run"] - sweep_m.sizes["run"]),
                    "terms": int(terms_all.sizes["run"] - terms.sizes["run"])},
        alpha=alpha, n=int(terms.sizes["run"] + bio_sweep.sizes["run"]), preset=preset, holds=all(verdicts.values()),
    )
    return rows


# ------------------------------------------------------------------------------------------------ figures


def figures(summary: str, outputs: dict[str, str], *, task: str, rules: list[str], lr: float, alpha: float,
            train_margin: float, preset: str) -> None:
    """Figures B1–B4 and B7 of one task (png and pdf) and their claim rows. ``outputs`` maps ``B1_png``,
    ``B1_pdf``, ``B1_claim``, … to paths."""
    from biocredit.figures import generalization as fg
    from biocredit.figures.style import save

    ds = _load(summary)
    rows = claims_main(ds, task=task, rules=rules, alpha=alpha, train_margin=train_margin, preset=preset)
    drawers = {
        "B1": lambda: fg.training_curves(ds, rules, task),
        "B2": lambda: fg.gap_by_rule(ds, rules, task, rows["B2"]),
        "B3": lambda: fg.curvature_by_rule(ds, rules, task, lr, rows["B3"]),
        "B4": lambda: fg.gap_vs_curvature(ds, rules, task, rows["B4"]),
        "B7": lambda: fg.diagnostics(ds, rules, task, rows["B7"]),
    }
    for fig_id, draw in drawers.items():
        save(draw(), outputs[f"{fig_id}_png"], outputs[f"{fig_id}_pdf"])
        write_json(rows[fig_id], outputs[f"{fig_id}_claim"])


def figures_remedies(summary: str, outputs: dict[str, str], *, task: str, reference: str, lr_rules: list[str],
                     windows: list[int], alpha: float, tolerance: float, preset: str) -> None:
    """Figures B5 and B6 of the remedies task and their claim rows."""
    from biocredit.figures import generalization as fg
    from biocredit.figures.style import save

    ds = _load(summary)
    rows = claims_remedies(ds, task=task, reference=reference, lr_rules=lr_rules, windows=windows, alpha=alpha,
                           tolerance=tolerance, preset=preset)
    save(fg.curvature_vs_lr(ds, lr_rules, task, rows["B5"]), outputs["B5_png"], outputs["B5_pdf"])
    write_json(rows["B5"], outputs["B5_claim"])
    save(fg.remedies(ds, lr_rules, terms_axis(windows), task, rows["B6"]), outputs["B6_png"], outputs["B6_pdf"])
    write_json(rows["B6"], outputs["B6_claim"])
