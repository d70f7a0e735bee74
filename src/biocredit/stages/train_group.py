"""Stage of ``rules/train_group.smk`` (config ``group_seeds``): all seeds of one study-A (task, arch, rule) as one
batched run (:func:`biocredit.batched.train_group`), writing the per-seed files of rule ``train``."""

from __future__ import annotations

import logging

from biocredit.batched import train_group
from biocredit.learning import make_rule
from biocredit.learning import rule_options as accepted_options
from biocredit.model import model_config
from biocredit.stages.train import write_run_outputs
from biocredit.tasks import load_task
from biocredit.train import make_train_config

log = logging.getLogger(__name__)

__all__ = ["train_group_runs"]


def train_group_runs(
    data,
    outputs: list[tuple[str, str]],
    *,
    task: str,
    task_cfg: dict,
    arch: str,
    arch_cfg: dict,
    rule: str,
    seeds: list[int],
    train_cfg: dict,
    device: str = "auto",
    rule_options: dict | None = None,
) -> None:
    """The workflow's :func:`biocredit.stages.train.train_run` for a group of seeds: write each seed's checkpoints and
    metrics (``outputs[i] = (checkpoints_path, metrics_path)`` for ``seeds[i]``), the same files ``train_run``
    writes for that seed (tested), from one batched run. No resume state is kept (a killed group job restarts from
    scratch).
    """
    if len(outputs) != len(seeds):
        raise ValueError(f"train_group_runs got {len(outputs)} output pairs for {len(seeds)} seeds")
    if "seed" in accepted_options(rule):
        raise ValueError(f"learning rule {rule!r} draws per-seed random matrices; it cannot be trained as a batched "
                         "seed group: train its seeds separately")
    t = load_task(task, task_cfg, data)
    results = train_group(t, [model_config(t, arch_cfg, s) for s in seeds], make_rule(rule, **(rule_options or {})),
                          make_train_config(train_cfg), seeds, device)
    for seed, result, (out_checkpoints, out_metrics) in zip(seeds, results, outputs, strict=True):
        meta = write_run_outputs(result, out_checkpoints, out_metrics, task=task, arch=arch, rule=rule, seed=seed,
                                 train_cfg=train_cfg)
        log.info("trained %s (batched group of %d); final test accuracy %.4f", meta, len(seeds),
                 float(result.metrics.test_accuracy[-1]))
