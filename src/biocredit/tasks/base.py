"""What a task provides to training and analysis."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class TaskBatch:
    """A batch of trials.

    Attributes:
        x: inputs ``(batch, time, n_in)``, float32.
        y: targets ``(batch, time, n_out)`` (float, regression) or ``(batch, time)`` (int64 class labels).
        mask: ``(batch, time)`` float32, 1 where the loss counts.
        condition: ``(batch,)`` int64 condition index of each trial (e.g. reach direction), -1 when none.
    """

    x: torch.Tensor
    y: torch.Tensor
    mask: torch.Tensor
    condition: torch.Tensor

    def to(self, device: torch.device | str) -> TaskBatch:
        return TaskBatch(*(t.to(device) for t in (self.x, self.y, self.mask, self.condition)))


class Task:
    """Interface of a task. Subclasses set ``name``, ``n_in``, ``n_out`` and implement the methods.

    ``analysis_batch`` returns the fixed, noise-free trials whose activity is compared with recordings (one
    per recorded condition, in the recordings' condition order); ``analysis_steps`` are the model steps that
    line up with the recordings' time bins, ``analysis_times`` those bins in ms.
    """

    name: str = "task"
    n_in: int
    n_out: int
    dt_ms: float

    def sample_batch(self, batch_size: int, rng: np.random.Generator) -> TaskBatch:
        raise NotImplementedError

    def analysis_batch(self) -> TaskBatch:
        raise NotImplementedError

    @property
    def analysis_steps(self) -> np.ndarray:
        raise NotImplementedError

    @property
    def analysis_times(self) -> np.ndarray:
        raise NotImplementedError

    def loss(self, output: torch.Tensor, batch: TaskBatch) -> torch.Tensor:
        raise NotImplementedError

    def accuracy(self, output: torch.Tensor, batch: TaskBatch) -> float:
        raise NotImplementedError


class EveryStepAnalysis:
    """Mixin for tasks whose analysis covers every step of a trial: ``n_steps`` steps of ``dt_ms`` (list it before
    :class:`Task` among the bases)."""

    n_steps: int
    dt_ms: float

    @property
    def analysis_steps(self) -> np.ndarray:
        return np.arange(self.n_steps)

    @property
    def analysis_times(self) -> np.ndarray:
        return np.arange(self.n_steps) * self.dt_ms
