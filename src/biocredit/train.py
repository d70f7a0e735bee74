"""The training loop: Adam (or SGD), an activity penalty with adaptive weight, L2 weight decay, checkpoints and a
metrics log.

Reproducibility: every random draw comes from generators seeded from the run's ``seed`` through
:class:`numpy.random.SeedSequence` (one stream for the initial weights, one for training batches, one for the
fixed test batch), never from global state. The same seed, config and machine give the same numbers.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import xarray as xr
from tqdm.auto import tqdm

from biocredit._memory import keep_freed_memory
from biocredit.io import load_torch, remake_hint, save_torch
from biocredit.learning import BPTT, LearningRule
from biocredit.model import ModelConfig, RateRNN, mean_square
from biocredit.tasks import Task

log = logging.getLogger(__name__)

__all__ = [
    "TrainConfig",
    "make_train_config",
    "TrainResult",
    "train",
    "run_fingerprint",
    "checkpoint_schedule",
    "seed_streams",
    "save_checkpoints",
    "load_checkpoints",
    "resolve_device",
    "weight_decay_term",
    "evaluation_batches",
    "has_finite_sets",
    "adapted_penalty",
    "criterion_reached",
]


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of one training run (defaults: Liu, Yang & Cueva 2025)."""

    n_updates: int = 1000
    lr: float = 3e-4
    optimizer: str = "adam"
    batch_size: int = 100
    n_test_trials: int = 1000
    checkpoints: tuple[int, ...] = field(default_factory=lambda: tuple(checkpoint_schedule(1000)))
    activity_penalty: float = 10.0
    adapt_penalty: bool = True
    penalty_decay: float = 2.0 / 3.0
    grad_clip: float = 0.0
    #: L2 coefficient: the loss gets ``weight_decay · ½(‖W_in‖² + ‖W_rec‖² + ‖W_out‖²)`` (Liu et al. 2022: 1e-2)
    weight_decay: float = 0.0
    #: tasks with finite sets: trials of the training and test sets evaluated at each checkpoint (first n; 0 = all)
    n_eval_trials: int = 0
    #: stop criterion (off when ``stop_at`` is None): training ends at the first checkpoint where the per-checkpoint
    #: metric ``stop_metric`` has reached ``stop_at`` (``>=``; ``<=`` for a metric ending in ``_loss``) at
    #: ``stop_patience`` consecutive checkpoints after update 0; ``n_updates`` is then the cap (see :func:`train`)
    stop_metric: str = "train_set_accuracy"
    stop_at: float | None = None
    stop_patience: int = 1
    #: ``grad_cosine`` (an extra exact forward and backward for a non-BPTT rule) at every k-th checkpoint of the
    #: schedule (the 1st, (k+1)-th, …; NaN at the others); 1 = every checkpoint. Training is the same for every k.
    grad_cosine_every: int = 1

    def __post_init__(self) -> None:
        if self.optimizer not in ("adam", "sgd"):
            raise ValueError(f"optimizer must be 'adam' or 'sgd', got {self.optimizer!r}")
        if self.weight_decay < 0 or self.n_eval_trials < 0:
            raise ValueError("weight_decay and n_eval_trials must be non-negative")
        bad = [c for c in self.checkpoints if not 0 <= c <= self.n_updates]
        if bad:
            raise ValueError(f"checkpoints {bad} lie outside 0..n_updates={self.n_updates}")
        if self.stop_patience < 1:
            raise ValueError(f"stop_patience must be >= 1, got {self.stop_patience}")
        if self.grad_cosine_every < 1:
            raise ValueError(f"grad_cosine_every must be >= 1, got {self.grad_cosine_every}")
        if self.stop_at is not None and not math.isfinite(self.stop_at):
            raise ValueError(f"stop_at must be a finite number or None, got {self.stop_at!r}")


def criterion_reached(metric: str, value: float, threshold: float) -> bool:
    """Whether checkpoint metric ``metric`` with ``value`` meets the stop threshold: ``value <= threshold`` for a
    loss (name ending in ``_loss``), ``value >= threshold`` otherwise; never for NaN."""
    if not math.isfinite(value):
        return False
    return value <= threshold if metric.endswith("_loss") else value >= threshold


def make_train_config(train_cfg: dict) -> TrainConfig:
    """The :class:`TrainConfig` of a run from its ``training`` config entries: explicit ``checkpoints`` (study B:
    evenly spaced evaluations, :func:`biocredit.runs.train_config`) or else the authors' study-A schedule
    (:func:`checkpoint_schedule`)."""
    cfg = dict(train_cfg)
    cfg["checkpoints"] = tuple(cfg["checkpoints"] if "checkpoints" in cfg else checkpoint_schedule(cfg["n_updates"]))
    return TrainConfig(**cfg)


def checkpoint_schedule(n_updates: int, paper_n_updates: int = 1000) -> list[int]:
    """The authors' checkpoint schedule (115 points for 1000 updates), rescaled to ``n_updates``.

    Dense early (every update up to 5, then every ~7 up to 150) and evenly spread later, so that the fast early
    rise in accuracy is well sampled.
    """
    pts = set(range(6)) | {50, 100, 150, 200}
    for lo, hi, n in ((25, 150, 20), (0, 1000, 20), (200, 700, 40), (700, 1000, 30)):
        pts |= {int(v) for v in np.round(np.linspace(lo, hi, n))}
    scale = n_updates / paper_n_updates
    return sorted({min(n_updates, int(round(p * scale))) for p in pts})


def seed_streams(seed: int) -> dict[str, int]:
    """Independent integer seeds for each random stream of a run, derived from ``seed``."""
    names = ("init", "batches", "test")
    children = np.random.SeedSequence(seed).spawn(len(names))
    return {n: int(c.generate_state(1, dtype=np.uint32)[0]) for n, c in zip(names, children, strict=True)}


def resolve_device(device: str = "auto") -> torch.device:
    """``auto`` picks CUDA when available, else CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


@dataclass
class TrainResult:
    model_config: ModelConfig
    steps: list[int]
    states: list[dict[str, torch.Tensor]]
    metrics: xr.Dataset


def _flat_grad(model: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.grad.reshape(-1) for p in model.parameters() if p.grad is not None])


def weight_decay_term(model: RateRNN, weight_decay: float) -> torch.Tensor:
    """``weight_decay · ½(‖W_in‖² + ‖W_rec‖² + ‖W_out‖²)``, the L2 term of Liu et al. (2022)'s sMNIST loss (no L2 on
    biases or the initial state). Part of the loss, so its gradient ``weight_decay · W`` enters every rule's update
    (rules only reshape the recurrence's backward) and its curvature ``weight_decay · I`` every Hessian."""
    if not weight_decay:
        return model.w_rec.new_zeros(())
    return 0.5 * weight_decay * sum((w**2).sum() for w in (model.w_in, model.w_rec, model.w_out))


def _loss_terms(model, task, batch, rule, penalty, weight_decay=0.0):
    y, h = model(batch.x, rule)
    task_loss = task.loss(y, batch)
    activity = mean_square(h)  # (h**2).mean() without whole-tensor temporaries
    loss = task_loss + penalty * activity
    if weight_decay:
        loss = loss + weight_decay_term(model, weight_decay)
    return task_loss, activity, loss, y


def adapted_penalty(penalty: float, activity: float, task_loss: float, decay: float) -> float:
    """The activity-penalty weight for the next update (Liu, Yang & Cueva 2025's training script).

    After every forward pass on an update's training batch, the penalty term ``penalty · activity`` (``activity``
    = mean of h² over that batch) is compared with half the task loss on the same batch; when it is at least as
    large, the weight shrinks by ``decay`` (2/3). The update itself still uses the old weight; the new one applies
    from the next update on.
    """
    return penalty * decay if penalty * activity >= task_loss / 2 else penalty


def stop_criterion(config: TrainConfig) -> str:
    """The stop criterion as the metrics log records it: ``""`` when off, else e.g.
    ``"test_accuracy >= 0.95 x2"``."""
    if config.stop_at is None:
        return ""
    op = "<=" if config.stop_metric.endswith("_loss") else ">="
    return f"{config.stop_metric} {op} {config.stop_at:g} x{config.stop_patience}"


def stop_now(values: np.ndarray, config: TrainConfig) -> bool:
    """Whether the last ``stop_patience`` checkpoint values (so far) all meet the stop criterion."""
    last = values[-config.stop_patience:]
    return len(last) == config.stop_patience and all(
        criterion_reached(config.stop_metric, float(v), float(config.stop_at)) for v in last)


def has_finite_sets(task: Task) -> bool:
    """Whether ``task`` has a fixed training set and a test set (the study-B tasks), so that generalization can be
    measured on them."""
    return callable(getattr(task, "train_set", None)) and callable(getattr(task, "test_set", None))


def _first(batch, n: int):
    if not n or n >= batch.x.shape[0]:
        return batch
    return type(batch)(batch.x[:n], batch.y[:n], batch.mask[:n], batch.condition[:n])


def evaluation_batches(task: Task, seed: int, n_test_trials: int, n_eval_trials: int = 0) -> dict:
    """The fixed batches a run is evaluated on at every checkpoint, by metric prefix.

    Every task: ``test`` = ``n_test_trials`` trials of ``task.sample_batch`` from the run's ``test`` seed stream.
    A task with finite sets (:func:`has_finite_sets`) instead gets ``train_set`` = the first ``n_eval_trials``
    training examples (all when 0) in stored order, ``test`` = the first ``n_eval_trials`` of its test set (for
    sMNIST the noisy test set, σ = 0.2), both the same for every run, and ``validation`` = ``n_test_trials``
    validation trials drawn once from the run's ``test`` stream (Liu et al. evaluate, and measure the Hessian on,
    a validation batch of 256). A task with a fixed validation set (``validation_set()``, the digit tasks) also
    gets ``validation_set`` = its first ``n_eval_trials`` validation examples: the clean held-out loss of the
    generalization gap, the same quantity as the authors' validation batch with less sampling noise.
    """
    rng = np.random.default_rng(seed_streams(seed)["test"])
    if not has_finite_sets(task):
        return {"test": task.sample_batch(n_test_trials, rng)}
    out = {
        "train_set": _first(task.train_set(), n_eval_trials),
        "validation": task.validation_batch(n_test_trials, rng),
        "test": _first(task.test_set(), n_eval_trials),
    }
    if callable(getattr(task, "validation_set", None)):
        out["validation_set"] = _first(task.validation_set(), n_eval_trials)
    return out


UPDATE_METRICS = ("loss", "task_loss", "penalty_weight", "activity", "accuracy")  # logged every update
CHECKPOINT_METRICS = ("test_loss", "test_accuracy", "grad_cosine")  # logged at every checkpoint, every task


def make_optimizer(params, config: TrainConfig) -> torch.optim.Optimizer:
    """The run's optimiser over ``params`` (Adam or plain SGD at ``config.lr``)."""
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr)
    return torch.optim.SGD(params, lr=config.lr)


def empty_log(n_updates: int, n_checkpoints: int, checkpoint_names=CHECKPOINT_METRICS) -> tuple[dict, dict]:
    """A run's metrics log before training: NaN everywhere (what stays where training never gets)."""
    return ({k: np.full(n_updates, np.nan) for k in UPDATE_METRICS},
            {k: np.full(n_checkpoints, np.nan) for k in checkpoint_names})


def record_update(per_update: dict, step: int, task_loss: float, activity: float, loss: float, penalty: float,
                  accuracy: float, config: TrainConfig) -> float:
    """Log update ``step`` (the penalty weight it used) and return the penalty weight of the next update."""
    per_update["loss"][step] = loss
    per_update["task_loss"][step] = task_loss
    per_update["penalty_weight"][step] = penalty
    per_update["activity"][step] = activity
    per_update["accuracy"][step] = accuracy
    if config.adapt_penalty:
        return adapted_penalty(penalty, activity, task_loss, config.penalty_decay)
    return penalty


def gradient_cosine(g_rule: torch.Tensor, g_exact: torch.Tensor | None) -> float:
    """Cosine of a rule's update with the exact gradient on the same batch (1 for BPTT: ``g_exact`` None)."""
    return 1.0 if g_exact is None else float(torch.nn.functional.cosine_similarity(g_rule, g_exact, dim=0))


def metrics_dataset(per_update: dict, per_ckpt: dict, checkpoints: list[int], config: TrainConfig,
                    model_config: ModelConfig, *, rule: str, seed: int, task: str, diverged_at: int,
                    stopped_at: int, reached: int) -> xr.Dataset:
    """A run's metrics log as the Dataset ``metrics.nc`` stores (see :func:`train` for the variables and attrs)."""
    return xr.Dataset(
        {k: ("update", v) for k, v in per_update.items()} | {k: ("checkpoint", v) for k, v in per_ckpt.items()},
        coords={"update": np.arange(config.n_updates), "checkpoint": np.array(checkpoints)},
        attrs={
            "rule": rule,
            "seed": seed,
            "task": task,
            "diverged_at": diverged_at,
            "stopped_at": stopped_at,
            "reached_criterion": reached,
            "stop_criterion": stop_criterion(config),
            "train_config": json.dumps(asdict(config)),
            "model_config": json.dumps(model_config.to_dict()),
        },
    )


RESUME_FORMAT = "biocredit-resume-v2"  # v2: per-update penalty adaptation and the `activity` log


def _to_tensors(obj):
    """Arrays inside a (nested) state as tensors, so the state loads with ``weights_only=True``."""
    if isinstance(obj, np.ndarray):
        return torch.from_numpy(obj.copy())
    if isinstance(obj, dict):
        return {k: _to_tensors(v) for k, v in obj.items()}
    return obj


def _from_tensors(obj):
    if isinstance(obj, torch.Tensor):
        return obj.numpy()
    if isinstance(obj, dict):
        return {k: _from_tensors(v) for k, v in obj.items()}
    return obj


def run_fingerprint(task, model_config: ModelConfig, rule: LearningRule, config: TrainConfig, seed: int,
                    run_config: dict | None = None) -> dict:
    """Every setting that shapes a run's numbers, flattened to ``{"train.lr": ..., "model.n_hidden": ...}``: the
    model and training configs, the rule (name and options), the task (name and, via ``run_config``, its config
    entry), the seed and anything else the caller passes in ``run_config``. The device is left out (a run may resume
    on another machine). A resume state is used only when its fingerprint equals the new run's."""
    rule_options = {k: v for k, v in sorted(vars(rule).items()) if not k.startswith("_")
                    and isinstance(v, (bool, int, float, str, tuple, list, type(None)))}
    tree = {
        "seed": int(seed),
        "rule": {"name": rule.name, "class": type(rule).__name__, **rule_options},
        "task": {"name": getattr(task, "name", type(task).__name__), "class": type(task).__name__},
        "model": model_config.to_dict(),
        "train": asdict(config),
        **{f"run.{k}": v for k, v in (run_config or {}).items()},
    }
    flat: dict = {}

    def walk(prefix, value):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        else:
            flat[prefix] = json.loads(json.dumps(value, default=str))  # tuples as lists, as they come back

    walk("", tree)
    return flat


def _fingerprint_hash(fingerprint: dict) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(fingerprint, sort_keys=True).encode()).hexdigest()


def _save_resume(
    path, step, model, opt, penalty, batch_rng, per_update, per_ckpt, states, seed, rule_name, task,
    fingerprint: dict | None = None,
) -> None:
    save_torch(
        {
            "format": RESUME_FORMAT,
            "seed": seed,
            "rule": rule_name,
            "config": json.dumps(fingerprint or {}, sort_keys=True),
            "config_sha256": _fingerprint_hash(fingerprint or {}),
            "step": step,
            "model": model.state_dict(),
            "optimizer": opt.state_dict(),
            "penalty": penalty,
            "batch_rng": batch_rng.bit_generator.state,
            "per_update": {k: torch.from_numpy(v) for k, v in per_update.items()},
            "per_ckpt": {k: torch.from_numpy(v) for k, v in per_ckpt.items()},
            "states": states,
            # tasks with a finite training set draw epochs from a stateful sampler; keep its position too
            "task_sampler": _to_tensors(task.sampler_state()) if hasattr(task, "sampler_state") else None,
        },
        path,
    )


def _load_resume(path, seed, rule_name, fingerprint: dict | None = None):
    """The resume state at ``path`` if it belongs to this very run (same config fingerprint), else None, with a log
    line saying why it is not used (and which settings differ)."""

    try:
        payload = load_torch(path)
    except Exception as err:
        log.warning("ignoring unreadable resume file %s (%s); starting from scratch", path, err)
        return None
    if not isinstance(payload, dict) or payload.get("format") != RESUME_FORMAT:
        log.warning("ignoring resume file %s: not a %s file; starting from scratch", path, RESUME_FORMAT)
        return None
    if payload.get("seed") != seed or payload.get("rule") != rule_name:
        log.warning("ignoring resume file %s: it belongs to another run (rule %s seed %s); starting from scratch",
                    path, payload.get("rule"), payload.get("seed"))
        return None
    mine = fingerprint or {}
    if payload.get("config_sha256") != _fingerprint_hash(mine):
        try:
            theirs = json.loads(payload.get("config", "{}"))
        except (TypeError, ValueError):
            theirs = {}
        differ = sorted(k for k in set(mine) | set(theirs) if mine.get(k, "<unset>") != theirs.get(k, "<unset>"))
        shown = "; ".join(f"{k}: {theirs.get(k, '<unset>')!r} -> {mine.get(k, '<unset>')!r}" for k in differ[:10])
        log.warning("ignoring resume file %s: it was written with another run config (%s); starting from scratch",
                    path, shown or "no stored config: an older resume format")
        return None
    return payload


class Networks:
    """What :func:`training_loop` needs of the networks it trains, network ``i`` being seed ``i`` of the run list:
    :class:`OneNetwork` (a :class:`~biocredit.model.RateRNN`, any rule and task) or a seed batch
    (:class:`biocredit.batched.SeedBatch`). ``batches`` map a network's index to its batch; a network left out of
    ``which`` (stopped or diverged) is no longer read."""

    def parameters(self):
        raise NotImplementedError

    def losses(self, task, batches: dict, rule, penalties: list[float], weight_decay: float, which: list[int]
               ) -> dict[int, tuple]:
        """``{i: (task_loss, activity, loss, y)}`` of every network in ``which`` on its batch under ``rule``."""
        raise NotImplementedError

    def outputs(self, batches: dict, which: list[int]) -> dict[int, torch.Tensor]:
        """``{i: y}``: outputs of every network in ``which`` on its batch (exact rule, no graph)."""
        raise NotImplementedError

    def flat_grads(self, which: list[int]) -> dict[int, torch.Tensor]:
        """``{i: g}``: each network's gradient, flattened in parameter order."""
        raise NotImplementedError

    def state(self, i: int) -> dict[str, torch.Tensor]:
        """Network ``i``'s weights as a :class:`~biocredit.model.RateRNN` state dict, on the CPU."""
        raise NotImplementedError


class OneNetwork(Networks):
    """One :class:`~biocredit.model.RateRNN` as network 0 of :func:`training_loop`."""

    def __init__(self, model: RateRNN) -> None:
        self.model = model

    def parameters(self):
        return self.model.parameters()

    def losses(self, task, batches, rule, penalties, weight_decay, which):
        return {0: _loss_terms(self.model, task, batches[0], rule, penalties[0], weight_decay)}

    def outputs(self, batches, which):
        return {0: self.model(batches[0].x, BPTT())[0]}

    def flat_grads(self, which):
        return {0: _flat_grad(self.model)}

    def state(self, i):
        return {name: p.detach().cpu().clone() for name, p in self.model.state_dict().items()}


@dataclass
class RunLog:
    """One seed's training state besides its weights: metrics so far, kept checkpoints, penalty weight, batch
    generator and how it ended (``diverged_at`` −1 / ``stopped_at`` ``n_updates`` / ``reached`` 0 while it runs)."""

    seed: int
    per_update: dict
    per_ckpt: dict
    penalty: float
    rng: np.random.Generator
    states: list = field(default_factory=list)
    diverged_at: int = -1
    stopped_at: int = -1
    reached: int = 0


def new_run_logs(seeds: list[int], config: TrainConfig, checkpoint_names=CHECKPOINT_METRICS) -> list[RunLog]:
    """Each seed's empty :class:`RunLog` (batch generator from its ``batches`` stream)."""
    n_ckpts = len(set(config.checkpoints))
    return [RunLog(s, *empty_log(config.n_updates, n_ckpts, checkpoint_names), float(config.activity_penalty),
                   np.random.default_rng(seed_streams(s)["batches"]), stopped_at=config.n_updates) for s in seeds]


def _total(losses):
    """The sum of the networks' losses (one network: its loss itself, so its backward is that of a lone run)."""
    losses = list(losses)
    total = losses[0]
    for loss in losses[1:]:
        total = total + loss
    return total


def training_loop(nets: Networks, opt: torch.optim.Optimizer, task: Task, rule: LearningRule, config: TrainConfig,
                  logs: list[RunLog], eval_sets: list[dict], device, *, first: int = 0, progress=False,
                  on_update=None) -> None:
    """The project's one training loop: updates ``first`` … ``n_updates`` of every network of ``nets`` (network
    ``i``: seed ``logs[i].seed``, its own batches, penalty weight, log and evaluation sets ``eval_sets[i]``, whose
    ``test`` entry is the fixed test batch), filling ``logs`` in place; :func:`train` and
    :func:`biocredit.batched.train_group` build the networks and read the logs. The loss of several networks is the
    sum of theirs, and no parameter is shared, so each takes its own step. A network that meets the stop criterion
    or whose loss turns non-finite stops there while the others go on. ``on_update(step)`` runs before each
    update (the resume file of a lone run)."""
    exact = BPTT()
    ckpts = sorted(set(config.checkpoints))
    ckpt_set = set(ckpts)
    cosine_set = set(ckpts[:: config.grad_cosine_every])
    n = config.n_updates
    wd = float(config.weight_decay)
    params = [p for p in nets.parameters() if p.requires_grad]
    active = [i for i, lg in enumerate(logs) if lg.diverged_at < 0 and not lg.reached]
    label = f"{rule.name} seed {logs[0].seed}" if len(logs) == 1 else f"{rule.name} seeds {[lg.seed for lg in logs]}"
    bar = tqdm(range(first, n + 1), desc=label, disable=not progress, mininterval=2.0, initial=first, total=n + 1,
               file=progress if hasattr(progress, "write") else None)
    for step in bar:
        if on_update is not None:
            on_update(step)
        if step in ckpt_set:
            k = ckpts.index(step)
            for prefix in eval_sets[0]:
                with torch.no_grad():
                    ys = nets.outputs({i: eval_sets[i][prefix] for i in active}, active)
                for i in active:
                    b = eval_sets[i][prefix]
                    logs[i].per_ckpt[f"{prefix}_loss"][k] = float(task.loss(ys[i], b))
                    logs[i].per_ckpt[f"{prefix}_accuracy"][k] = task.accuracy(ys[i], b)
            for i in list(active):
                logs[i].states.append(nets.state(i))
                if (config.stop_at is not None and step > 0
                        and stop_now(logs[i].per_ckpt[config.stop_metric][: k + 1], config)):
                    logs[i].reached, logs[i].stopped_at = 1, step
                    active.remove(i)
        if step == n or not active:
            break
        batches = {i: task.sample_batch(config.batch_size, logs[i].rng).to(device) for i in active}
        penalties = [lg.penalty for lg in logs]
        g_exact = None
        if step in cosine_set and not isinstance(rule, BPTT):
            opt.zero_grad()
            _total(t[2] for t in nets.losses(task, batches, exact, penalties, wd, active).values()).backward()
            g_exact = nets.flat_grads(active)
        opt.zero_grad()
        terms = nets.losses(task, batches, rule, penalties, wd, active)
        # (task loss, activity, loss) of every network in one transfer (one device sync, not three per network)
        values = dict(zip(active, torch.stack([torch.stack(terms[i][:3]) for i in active]).detach().cpu().tolist(),
                          strict=True))
        for i in list(active):
            if not math.isfinite(values[i][2]):
                logs[i].diverged_at = logs[i].stopped_at = step
                active.remove(i)
                log.warning("%s seed %d: non-finite loss at update %d; it stops and is marked diverged", rule.name,
                            logs[i].seed, step)
        if not active:
            break
        _total(terms[i][2] for i in active).backward()
        if step in cosine_set:
            g_rule = nets.flat_grads(active)
            for i in active:
                logs[i].per_ckpt["grad_cosine"][ckpts.index(step)] = gradient_cosine(
                    g_rule[i], None if g_exact is None else g_exact[i])
        if config.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
        opt.step()
        for i in active:
            task_loss, activity, loss = values[i]
            logs[i].penalty = record_update(logs[i].per_update, step, task_loss, activity, loss, logs[i].penalty,
                                            task.accuracy(terms[i][3], batches[i]), config)
        if progress and step % 10 == 0:
            lg = logs[active[0]]
            bar.set_postfix(loss=f"{lg.per_update['loss'][step]:.4f}", acc=f"{lg.per_update['accuracy'][step]:.3f}")
    bar.close()


def run_result(lg: RunLog, rule: LearningRule, task: Task, config: TrainConfig, model_config: ModelConfig
               ) -> TrainResult:
    """A finished :class:`RunLog` as the run's :class:`TrainResult`."""
    ckpts = sorted(set(config.checkpoints))
    metrics = metrics_dataset(lg.per_update, lg.per_ckpt, ckpts, config, model_config, rule=rule.name, seed=lg.seed,
                              task=task.name, diverged_at=lg.diverged_at, stopped_at=lg.stopped_at,
                              reached=lg.reached)
    return TrainResult(model_config, ckpts[: len(lg.states)], lg.states, metrics)


def train(
    task: Task,
    model_config: ModelConfig,
    rule: LearningRule,
    config: TrainConfig,
    seed: int,
    device: str = "auto",
    progress=True,
    resume_path=None,
    resume_every: int = 50,
    run_config: dict | None = None,
) -> TrainResult:
    """Train one network and return its checkpoints and metrics log.

    Metrics (an xarray Dataset): per update ``loss``, ``task_loss``, ``penalty_weight`` (the weight that update
    used; see :func:`adapted_penalty`), ``activity`` (mean h²), ``accuracy`` (train batch); per checkpoint
    ``test_loss``, ``test_accuracy`` (fixed test batch) and ``grad_cosine`` (cosine of the rule's update with the
    exact gradient on the same training batch; at every ``config.grad_cosine_every``-th checkpoint, NaN between).
    Tasks with a finite training set and a test set also log ``train_set_loss/accuracy`` and
    ``validation_loss/accuracy`` per checkpoint, and their ``test_*`` is measured on the task's test set (see
    :func:`evaluation_batches`); these losses are task losses (no penalty or L2 term). ``loss`` includes the
    activity penalty and the L2 term. A non-finite loss stops training; the log keeps NaN from there on and
    ``attrs['diverged_at']`` records the update.

    ``progress``: show a tqdm bar (on stderr, or on ``progress`` itself when it is a text stream).

    Stop criterion (``config.stop_at`` not None): after each checkpoint's evaluation (from the first update on, so
    an untrained network never counts as having met it), training ends once
    ``config.stop_metric`` has met ``stop_at`` (:func:`criterion_reached`) at ``stop_patience`` consecutive
    checkpoints; that checkpoint is the last one saved. The log keeps its fixed shape (``n_updates`` updates, every
    scheduled checkpoint) with NaN after the stop. ``attrs['stopped_at']`` is the update where training ended (the
    stopping checkpoint, else ``n_updates``, or the diverging update) and ``attrs['reached_criterion']`` is 1 when
    the criterion was met, 0 when the cap ``n_updates`` came first, the run diverged, or no criterion is set
    (``attrs['stop_criterion']`` then is ``""``; else e.g. ``"train_set_accuracy >= 0.95 x1"``).

    With ``resume_path``, the whole training state (weights, optimiser, penalty weight, the batch generator's
    state, the log and the checkpoints so far) is written there atomically every ``resume_every`` updates, and
    a restarted call continues from it; the result is identical to an uninterrupted run. The state is used only if
    it was written by the same run config (:func:`run_fingerprint`; ``run_config`` adds what the objects passed in
    do not carry, such as the task's config entry); a state of any other config is ignored, with a log line.
    """
    keep_freed_memory()  # large per-step buffers stay on the heap instead of costing page faults every update
    dev = resolve_device(device)
    model = RateRNN(model_config, generator=torch.Generator().manual_seed(seed_streams(seed)["init"])).to(dev)
    opt = make_optimizer([p for p in model.parameters() if p.requires_grad], config)
    eval_sets = {k: b.to(dev) for k, b in evaluation_batches(task, seed, config.n_test_trials,
                                                             config.n_eval_trials).items()}
    eval_sets = {"test": eval_sets.pop("test"), **eval_sets}  # the test batch first, as the log lists it
    ckpt_names = [*CHECKPOINT_METRICS, *(f"{prefix}_{m}" for prefix in eval_sets if prefix != "test"
                                         for m in ("loss", "accuracy"))]
    if config.stop_at is not None and config.stop_metric not in ckpt_names:
        raise ValueError(f"stop_metric {config.stop_metric!r} is not logged for task {task.name!r}; "
                         f"choose one of {sorted(ckpt_names)}")
    (lg,) = new_run_logs([seed], config, ckpt_names)
    first = 0
    fingerprint = run_fingerprint(task, model_config, rule, config, seed, run_config) if resume_path else None
    resumed = (_load_resume(resume_path, seed, rule.name, fingerprint) if resume_path and Path(resume_path).exists()
               else None)
    if resumed is not None:
        first = int(resumed["step"])
        model.load_state_dict(resumed["model"])
        opt.load_state_dict(resumed["optimizer"])
        lg.penalty = float(resumed["penalty"])
        lg.rng.bit_generator.state = resumed["batch_rng"]
        lg.per_update = {k: v.numpy().copy() for k, v in resumed["per_update"].items()}
        lg.per_ckpt = {k: v.numpy().copy() for k, v in resumed["per_ckpt"].items()}
        lg.states = list(resumed["states"])
        if hasattr(task, "load_sampler_state"):
            task.load_sampler_state(_from_tensors(resumed.get("task_sampler")), lg.rng)
        log.info("resuming %s seed %d from update %d (%s)", rule.name, seed, first, resume_path)

    def save_resume(step):
        if resume_path and step > first and step % resume_every == 0 and step < config.n_updates:
            _save_resume(resume_path, step, model, opt, lg.penalty, lg.rng, lg.per_update, lg.per_ckpt, lg.states,
                         seed, rule.name, task, fingerprint)

    training_loop(OneNetwork(model), opt, task, rule, config, [lg], [eval_sets], dev, first=first,
                  progress=progress, on_update=save_resume)
    return run_result(lg, rule, task, config, model_config)


CHECKPOINT_FORMAT = "biocredit-checkpoints-v1"


def _content_digest(steps: torch.Tensor, params: dict[str, torch.Tensor], model_config: str) -> str:
    """SHA-256 over the checkpoint's numbers (and config), independent of the container format."""
    import hashlib

    h = hashlib.sha256(model_config.encode())
    h.update(steps.numpy().tobytes())
    for k in sorted(params):
        h.update(k.encode())
        h.update(params[k].contiguous().numpy().tobytes())
    return h.hexdigest()


def save_checkpoints(result: TrainResult, path, extra: dict | None = None) -> None:
    """Save all checkpoints of a run to one file of tensors (loadable with ``weights_only=True``), atomically.

    The file carries a SHA-256 of its numbers, checked on loading, so silent corruption is refused too.
    """

    names = list(result.states[0]) if result.states else []
    steps = torch.tensor(result.steps, dtype=torch.int64)
    params = {k: torch.stack([s[k] for s in result.states]) for k in names}
    model_config = json.dumps(result.model_config.to_dict())
    payload = {
        "format": CHECKPOINT_FORMAT,
        "steps": steps,
        "params": params,
        "model_config": model_config,
        "extra": json.dumps(extra or {}),
        "sha256": _content_digest(steps, params, model_config),
    }
    save_torch(payload, path)


def load_checkpoints(path) -> tuple[ModelConfig, list[int], list[dict[str, torch.Tensor]]]:
    """Read a file written by :func:`save_checkpoints`; refuses anything else with a clear error."""

    try:
        payload = load_torch(path)
    except Exception as err:  # corrupted, truncated, or not a tensors-only file

        raise ValueError(f"{path}: not a readable checkpoint file ({err}); {remake_hint(path)}") from err
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: not a {CHECKPOINT_FORMAT} file")
    digest = _content_digest(payload["steps"], payload["params"], payload["model_config"])
    if digest != payload.get("sha256"):
        raise ValueError(f"{path}: checkpoint contents fail their checksum (stored {payload.get('sha256')}, "
                         f"computed {digest}); the file is corrupted")
    config = ModelConfig(**json.loads(payload["model_config"]))
    steps = [int(s) for s in payload["steps"]]
    states = [{k: v[i] for k, v in payload["params"].items()} for i in range(len(steps))]
    return config, steps, states
