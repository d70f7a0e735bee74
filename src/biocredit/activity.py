"""Run every checkpoint of a trained network on the task's analysis trials and keep the hidden activity.

The result follows the recordings' layout so the two can be compared directly:
``rate(checkpoint, unit, time, condition)`` with ``time`` in ms relative to the recordings' alignment event and
``condition`` in the recordings' order, plus per-checkpoint ``accuracy`` and ``task_loss`` on those trials.
"""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from biocredit.model import ModelConfig, RateRNN
from biocredit.tasks import Task

__all__ = ["checkpoint_activity"]


@torch.no_grad()
def checkpoint_activity(
    task: Task,
    model_config: ModelConfig,
    steps: list[int],
    states: list[dict[str, torch.Tensor]],
    attrs: dict | None = None,
) -> xr.Dataset:
    """Hidden rates of each checkpoint on ``task.analysis_batch()``, sliced to ``task.analysis_steps``."""
    model = RateRNN(model_config)
    batch = task.analysis_batch()
    sel = torch.as_tensor(task.analysis_steps)
    n_cond = batch.x.shape[0]
    rates = np.empty((len(states), model_config.n_hidden, len(sel), n_cond), dtype=np.float32)
    accuracy = np.empty(len(states))
    loss = np.empty(len(states))
    for k, state in enumerate(states):
        model.load_state_dict(state)
        y, h = model(batch.x)
        accuracy[k] = task.accuracy(y, batch)
        loss[k] = float(task.loss(y, batch))
        rates[k] = h[:, sel, :].permute(2, 1, 0).numpy()
    return xr.Dataset(
        {
            "rate": (("checkpoint", "unit", "time", "condition"), rates, {"long_name": "hidden unit rate"}),
            "accuracy": ("checkpoint", accuracy, {"long_name": "task accuracy on the analysis trials"}),
            "task_loss": ("checkpoint", loss),
        },
        coords={
            "checkpoint": np.asarray(steps),
            "unit": np.arange(model_config.n_hidden),
            "time": ("time", np.asarray(task.analysis_times, dtype=float), {"units": "ms"}),
            "condition": batch.condition.numpy(),
        },
        attrs=attrs or {},
    )
