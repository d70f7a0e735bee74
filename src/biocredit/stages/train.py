"""Stage of ``rules/train.smk``: train one (study, task, arch, rule, seed) run and write its checkpoints and
metrics log."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import numpy as np

from biocredit import __version__
from biocredit.io import sha256_file, write_netcdf
from biocredit.learning import make_rule
from biocredit.learning import rule_options as accepted_options
from biocredit.model import model_config
from biocredit.stages.job import ConsoleProgress, console
from biocredit.tasks import load_task
from biocredit.train import make_train_config, save_checkpoints, train

log = logging.getLogger(__name__)

__all__ = ["train_run"]


def _data_digest(data) -> list[str]:
    """SHA-256 of each file a run's task is built from (none for generated tasks)."""
    paths = [data] if isinstance(data, (str, Path)) else [str(p) for p in (data or [])]
    return [sha256_file(p) for p in paths if Path(p).is_file()]


def write_run_outputs(result, out_checkpoints: str, out_metrics: str, *, task: str, arch: str, rule: str, seed: int,
                      train_cfg: dict) -> dict:
    """Write one trained run's checkpoints and metrics log, labelled with the run (and, in the log, its training
    settings as JSON: ``attrs['train_cfg']``). Returns the run's labels."""
    meta = {"task": task, "arch": arch, "rule": rule, "seed": int(seed), "biocredit_version": __version__}
    result.metrics.attrs.update({k: str(v) if isinstance(v, str) else v for k, v in meta.items()})
    result.metrics.attrs["train_cfg"] = json.dumps(train_cfg, sort_keys=True)
    save_checkpoints(result, out_checkpoints, extra=meta)
    write_netcdf(result.metrics, out_metrics)
    return meta


def train_run(
    data: str,
    out_checkpoints: str,
    out_metrics: str,
    *,
    task: str,
    task_cfg: dict,
    arch: str,
    arch_cfg: dict,
    rule: str,
    seed: int,
    train_cfg: dict,
    device: str = "auto",
    progress: bool = True,
    resume_every: int = 50,
    rule_options: dict | None = None,
    name: str | None = None,
) -> None:
    """Train one (task, arch, rule, seed) run; write its checkpoints and metrics log. ``name``: the run's label in
    its outputs when it is not the learning rule's name (a study-A sensitivity run such as ``bptt-lr0.0003``, which
    later stages tell apart from ``bptt`` by it).

    While it runs, ``resume.pt`` beside the checkpoints holds the latest training state; a restarted job (after
    preemption or a kill) continues from it and ends with exactly the numbers of an uninterrupted run. The file is
    removed once the outputs are written.
    """
    t = load_task(task, task_cfg, data)
    options = dict(rule_options or {})
    if "seed" in accepted_options(rule):
        options.setdefault("seed", int(seed))  # random feedback drawn per run, reproducibly
    resume = Path(out_checkpoints).with_name("resume.pt")
    # what a resume state must match besides the objects train() sees: the config entries and the data's bytes
    run_config = {"task": task, "task_cfg": task_cfg, "arch_cfg": arch_cfg, "rule_options": options,
                  "train_cfg": train_cfg, "data_sha256": _data_digest(data)}
    if progress and console() is not None:  # configured: stderr is the job's log
        progress = ConsoleProgress(f"train {task}/{arch}/{rule} seed {seed}", console(), sys.stderr)
    result = train(
        t, model_config(t, arch_cfg, seed), make_rule(rule, **options), make_train_config(train_cfg), seed, device,
        progress, resume_path=resume, resume_every=resume_every, run_config=run_config,
    )
    meta = write_run_outputs(result, out_checkpoints, out_metrics, task=task, arch=arch, rule=name or rule, seed=seed,
                             train_cfg=train_cfg)
    resume.unlink(missing_ok=True)
    acc = result.metrics.test_accuracy.values
    last = acc[np.isfinite(acc)]  # a run stopped by its criterion (or diverged) logs NaN after its last checkpoint
    log.info("trained %s; test accuracy at its last checkpoint %.4f (stopped at update %s)", meta,
             float(last[-1]) if last.size else float("nan"), result.metrics.attrs.get("stopped_at"))


def train_job(data, out_checkpoints: str, out_metrics: str, *, wildcards, run: dict, device: str = "auto") -> None:
    """What rules `train` and `calibration_train` do: :func:`train_run` from a job's wildcards (any object with
    attributes ``task``, ``arch``, ``run_name``, ``seed``) and its run config (:mod:`biocredit.runs`; study B's
    carries ``rule``, the learning rule of a variant name such as tbptt-w4)."""
    train_run(data, out_checkpoints, out_metrics, task=wildcards.task, task_cfg=run["task_cfg"], arch=wildcards.arch,
              arch_cfg=run["arch_cfg"], rule=run.get("rule", wildcards.run_name), seed=int(wildcards.seed),
              train_cfg=run["train_cfg"], device=device, rule_options=run["rule_options"], name=run.get("name"))
