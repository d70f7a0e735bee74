"""Reach task producing muscle activity.

Liu, Yang & Cueva 2025, task ``Sussillo2015_planinputextendedscaledup_holdcue``.

Time step 10 ms. 16 inputs: the 15-dimensional condition "plan" input (the data's plan input at bin 100, i.e.
−550 ms, scaled
so its largest absolute value over all conditions is 1), ramped on over 8 steps from step ``interval1 + 1``,
held for ``interval2`` steps and ramped off over 8 steps; and a hold cue, 1 from step 1 until the plan input
starts to ramp off, ramping off with it. 7 outputs: the EMG (66 samples, −250 to +400 ms) starting at the ramp-off
step plus ``output_offset`` (−10). Before that the target holds the EMG's first sample and counts in the loss;
after the EMG window nothing counts (the authors' code is silent on the pre-onset target; holding the first
sample avoids asking for a jump at onset).

Analysis trials: one per condition (27), ``interval1 = 37``, ``interval2 = 69``, 196 steps; the recordings' bins
map to the model steps with the same index (movement onset at step 155, as in the authors' code).
Loss: masked MSE; accuracy: ``1 − NE`` as in the reach task.
"""

from __future__ import annotations

import numpy as np
import torch

from biocredit.tasks.base import TaskBatch
from biocredit.tasks.reach import BUMP_ON, AlignedRegressionTask


class EMGTask(AlignedRegressionTask):
    name = "emg"
    n_in = 16
    n_out = 7
    dt_ms = 10.0
    input_labels = [f"plan {k}" for k in range(15)] + ["hold cue"]
    output_labels = [f"muscle {k}" for k in range(7)]

    def __init__(
        self,
        plan: np.ndarray,
        emg: np.ndarray,
        times_ms: np.ndarray,
        *,
        n_steps: int = 300,
        output_offset: int = -10,
        movement_onset_step: int = 155,
        analysis_intervals: tuple[int, int] = (37, 69),
        analysis_n_steps: int = 196,
        max_interval1: int = 49,
        max_interval2: int = 149,
    ) -> None:
        plan = np.asarray(plan, float)
        self.plan = plan / np.abs(plan).max()  # (condition, 15)
        self.emg = np.asarray(emg, float)  # (condition, 7, 66)
        if self.plan.shape[1] != 15 or self.emg.shape[1] != self.n_out or len(self.plan) != len(self.emg):
            raise ValueError(
                f"plan must be (condition, 15) and emg (condition, 7, time); got {plan.shape}, {self.emg.shape}"
            )
        self.times_ms = np.asarray(times_ms, float)
        self.n_steps, self.output_offset = n_steps, output_offset
        self.movement_onset_step = movement_onset_step
        self.analysis_intervals, self.analysis_n_steps = analysis_intervals, analysis_n_steps
        self.max_interval1, self.max_interval2 = max_interval1, max_interval2
        longest = 1 + max_interval1 + 8 + max_interval2 + output_offset + self.emg.shape[2]
        if longest > n_steps:
            raise ValueError(f"n_steps={n_steps} is too short for the longest trial ({longest} steps)")
        steps = self.analysis_steps
        if steps[0] < 0 or steps[-1] >= analysis_n_steps:
            raise ValueError(f"analysis window maps to model steps {steps[0]}..{steps[-1]}, outside the trial")

    @classmethod
    def from_dataset(cls, ds, plan_time_ms: float = -550.0, **kwargs) -> EMGTask:
        """Build from a :func:`biocredit.data.load_sussillo` dataset; the plan input is read at ``plan_time_ms``."""
        plan = ds["plan_input"].sel(plan_time=plan_time_ms).transpose("condition", "plan_dim").values
        emg = ds["emg"].transpose("condition", "muscle", "emg_time").values
        return cls(plan, emg, ds["time"].values, **kwargs)

    @property
    def n_conditions(self) -> int:
        return len(self.plan)

    def _trials(self, conditions, interval1, interval2, n_steps) -> TaskBatch:
        n, n_emg = len(conditions), self.emg.shape[2]
        x = np.zeros((n, n_steps, self.n_in))
        y = np.zeros((n, n_steps, self.n_out))
        mask = np.zeros((n, n_steps))
        ramp_on, ramp_off = BUMP_ON, BUMP_ON[::-1]
        for i, (c, i1, i2) in enumerate(zip(conditions, interval1, interval2, strict=True)):
            s0 = i1 + 1
            off = s0 + len(ramp_on) + i2  # first ramp-off step
            x[i, s0:off, :15] = self.plan[c]
            x[i, s0 : s0 + len(ramp_on), :15] *= ramp_on[:, None]
            x[i, off : off + len(ramp_off), :15] = self.plan[c] * ramp_off[:, None]
            x[i, 1:off, 15] = 1.0
            x[i, off : off + len(ramp_off), 15] = ramp_off
            onset = off + self.output_offset
            y[i, :onset] = self.emg[c, :, 0]
            y[i, onset : onset + n_emg] = self.emg[c].T
            mask[i, : onset + n_emg] = 1.0
        return TaskBatch(
            torch.as_tensor(x, dtype=torch.float32),
            torch.as_tensor(y, dtype=torch.float32),
            torch.as_tensor(mask, dtype=torch.float32),
            torch.as_tensor(np.asarray(conditions), dtype=torch.int64),
        )

    def sample_batch(self, batch_size: int, rng: np.random.Generator) -> TaskBatch:
        conditions = rng.integers(0, self.n_conditions, size=batch_size)
        k = min(batch_size, self.n_conditions)
        conditions[:k] = np.arange(k)
        i1 = rng.integers(0, self.max_interval1 + 1, size=batch_size)
        i2 = rng.integers(0, self.max_interval2 + 1, size=batch_size)
        return self._trials(conditions, i1, i2, self.n_steps)

    def analysis_batch(self) -> TaskBatch:
        c = np.arange(self.n_conditions)
        i1, i2 = self.analysis_intervals
        return self._trials(c, np.full_like(c, i1), np.full_like(c, i2), self.analysis_n_steps)
