"""Centre-out reach task (Liu, Yang & Cueva 2025, task ``Hatsopoulos2007_sincosbumpinput_holdcue``).

Time step 10 ms. Steps are counted from 1 here, as in the authors' generator (step k is array index k − 1).
Three inputs: ``sin θ · bump`` and ``cos θ · bump`` (a 23-step bump announcing the reach direction θ, on steps
``interval1 + 1 .. interval1 + 23``), and a hold cue that is 1 from step 1 through the end of the hold period
``t_hold = interval1 + 23 + interval2`` and ramps down over its last 8 steps. Two outputs: shoulder and elbow
angle of the recorded reaches (normalised, from −100 ms to +400 ms around movement onset, 51 steps), starting at
step ``t_hold + 1 + output_offset`` (``output_offset = −10``). Before that the target is 0 and counts in the loss;
after the 51-step window nothing counts, so ``t_hold + output_offset + 51`` steps count (194 in analysis trials).

Training trials: trials 0–7 are the 8 directions, the rest random directions; ``interval1 ~ U{0..49}``,
``interval2 ~ U{0..149}``. Analysis trials: one per direction with ``interval1 = 25``, ``interval2 = 105``,
250 steps. The recordings' time 0 (movement onset) is mapped to model step ``movement_onset_step`` (185 in
the authors' code, although the model's own target clock puts movement onset at index 153 for these
intervals; the config lets a user change it).

Loss: masked mean squared error. Accuracy: ``1 − NE`` with the normalised error
``NE = mean_k Σ(y_k − y*_k)² / Σ(mean(y*_k) − y*_k)²`` over masked entries.
"""

from __future__ import annotations

import numpy as np
import torch

from biocredit.tasks.base import Task, TaskBatch

BUMP_ON = np.array([0.05, 0.1, 0.2, 0.35, 0.65, 0.8, 0.9, 0.95])
BUMP = np.concatenate([BUMP_ON, np.ones(7), BUMP_ON[::-1]])  # 23 steps
KINEMATIC_OUTPUTS = ("shoulder_angle", "elbow_angle")


class AlignedRegressionTask(Task):
    """Regression onto recorded kinematics/EMG, with analysis steps aligned to the recordings' time bins.

    Subclasses set ``times_ms`` (the recordings' bins), ``movement_onset_step`` and ``dt_ms``.
    """

    times_ms: np.ndarray
    movement_onset_step: int

    @property
    def analysis_steps(self) -> np.ndarray:
        return self.movement_onset_step + np.round(self.times_ms / self.dt_ms).astype(int)

    @property
    def analysis_times(self) -> np.ndarray:
        return self.times_ms

    def loss(self, output: torch.Tensor, batch: TaskBatch) -> torch.Tensor:
        """Mean squared error over masked (trial, step, output) entries."""
        mask = batch.mask.unsqueeze(-1)
        return ((output - batch.y) ** 2 * mask).sum() / (mask.sum() * output.shape[-1])

    def accuracy(self, output: torch.Tensor, batch: TaskBatch) -> float:
        """``1 − NE``: one minus the error normalised by the target variance, averaged over outputs."""
        return 1.0 - normalized_error(output, batch.y, batch.mask)


class ReachTask(AlignedRegressionTask):
    """Reach task driven by the recorded joint angles.

    Args:
        joint_angles: ``(condition, output, time)`` normalised joint angles on the recordings' 10 ms grid.
        times_ms: recording time of each bin (ms re movement onset).
        direction_deg: reach direction of each condition.
        n_steps: trial length of training trials.
        output_start_ms: first kinematic sample used as target (−100 ms).
        n_output_steps: number of kinematic samples used as target (51).
        output_offset: target onset relative to the end of the hold period (−10 steps).
        movement_onset_step: model step aligned with the recordings' time 0 in analysis trials.
        analysis_intervals: ``(interval1, interval2)`` of analysis trials.
        analysis_n_steps: length of analysis trials.
    """

    name = "reach"
    n_in = 3
    n_out = 2
    dt_ms = 10.0
    input_labels = ["sin θ · bump", "cos θ · bump", "hold cue"]
    output_labels = ["shoulder angle", "elbow angle"]

    def __init__(
        self,
        joint_angles: np.ndarray,
        times_ms: np.ndarray,
        direction_deg: np.ndarray,
        *,
        n_steps: int = 300,
        output_start_ms: float = -100.0,
        n_output_steps: int = 51,
        output_offset: int = -10,
        movement_onset_step: int = 185,
        analysis_intervals: tuple[int, int] = (25, 105),
        analysis_n_steps: int = 250,
        max_interval1: int = 49,
        max_interval2: int = 149,
    ) -> None:
        joint_angles = np.asarray(joint_angles, dtype=np.float64)
        times_ms = np.asarray(times_ms, dtype=np.float64)
        if joint_angles.ndim != 3 or joint_angles.shape[1] != self.n_out:
            raise ValueError(f"joint_angles must be (condition, 2, time), got shape {joint_angles.shape}")
        start = int(np.argmin(np.abs(times_ms - output_start_ms)))
        if not np.isclose(times_ms[start], output_start_ms) or start + n_output_steps > len(times_ms):
            raise ValueError(
                f"the recordings ({times_ms[0]}..{times_ms[-1]} ms) do not cover {n_output_steps} target steps "
                f"from {output_start_ms} ms"
            )
        self.targets = joint_angles[:, :, start : start + n_output_steps]  # (cond, out, step)
        self.direction_rad = np.deg2rad(np.asarray(direction_deg, dtype=np.float64))
        self.times_ms = times_ms
        self.n_steps = n_steps
        self.output_offset = output_offset
        self.movement_onset_step = movement_onset_step
        self.analysis_intervals = analysis_intervals
        self.analysis_n_steps = analysis_n_steps
        self.max_interval1 = max_interval1
        self.max_interval2 = max_interval2
        longest = max_interval1 + len(BUMP) + max_interval2 + 1 + output_offset + n_output_steps
        if longest > n_steps:
            raise ValueError(f"n_steps={n_steps} is too short for the longest trial ({longest} steps)")
        steps = self.analysis_steps
        if steps[0] < 0 or steps[-1] >= analysis_n_steps:
            raise ValueError(
                f"movement_onset_step={movement_onset_step} puts the recordings' window at model steps "
                f"{steps[0]}..{steps[-1]}, outside the {analysis_n_steps}-step analysis trials"
            )

    @classmethod
    def from_dataset(cls, ds, **kwargs) -> ReachTask:
        """Build the task from a Hatsopoulos NetCDF dataset (:func:`biocredit.data.load_hatsopoulos`)."""
        angles = ds["kinematics"].sel(kinematic=list(KINEMATIC_OUTPUTS)).transpose("condition", "kinematic", "time")
        return cls(angles.values, ds["time"].values, ds["direction_deg"].values, **kwargs)

    @property
    def n_conditions(self) -> int:
        return self.targets.shape[0]

    def _trials(self, conditions: np.ndarray, interval1: np.ndarray, interval2: np.ndarray, n_steps: int):
        n = len(conditions)
        n_target = self.targets.shape[2]
        x = np.zeros((n, n_steps, self.n_in))
        y = np.zeros((n, n_steps, self.n_out))
        mask = np.zeros((n, n_steps))
        for i, (c, i1, i2) in enumerate(zip(conditions, interval1, interval2, strict=True)):
            # 0-based indices: "step k" of the module docstring is index k - 1
            theta = self.direction_rad[c]
            x[i, i1 : i1 + len(BUMP), 0] = np.sin(theta) * BUMP
            x[i, i1 : i1 + len(BUMP), 1] = np.cos(theta) * BUMP
            t_hold = i1 + len(BUMP) + i2  # the hold cue covers indices 0 .. t_hold - 1
            x[i, :t_hold, 2] = 1.0
            x[i, t_hold - len(BUMP_ON) : t_hold, 2] = BUMP_ON[::-1]
            onset = t_hold + self.output_offset  # index of the first target sample
            y[i, onset : onset + n_target] = self.targets[c].T
            mask[i, : onset + n_target] = 1.0
        return TaskBatch(
            x=torch.as_tensor(x, dtype=torch.float32),
            y=torch.as_tensor(y, dtype=torch.float32),
            mask=torch.as_tensor(mask, dtype=torch.float32),
            condition=torch.as_tensor(conditions, dtype=torch.int64),
        )

    def sample_batch(self, batch_size: int, rng: np.random.Generator) -> TaskBatch:
        """Training trials: the first ``n_conditions`` trials cover every direction once, the rest are random."""
        conditions = rng.integers(0, self.n_conditions, size=batch_size)
        k = min(batch_size, self.n_conditions)
        conditions[:k] = np.arange(k)
        interval1 = rng.integers(0, self.max_interval1 + 1, size=batch_size)
        interval2 = rng.integers(0, self.max_interval2 + 1, size=batch_size)
        return self._trials(conditions, interval1, interval2, self.n_steps)

    def analysis_batch(self) -> TaskBatch:
        conditions = np.arange(self.n_conditions)
        i1, i2 = self.analysis_intervals
        ones = np.ones_like(conditions)
        return self._trials(conditions, i1 * ones, i2 * ones, self.analysis_n_steps)



def normalized_error(output: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> float:
    """``mean_k Σ(y_k − y*_k)² / Σ(mean(y*_k) − y*_k)²`` over entries where ``mask`` is 1."""
    sel = mask.reshape(-1) > 0
    y = output.detach().reshape(-1, output.shape[-1])[sel].double()
    t = target.reshape(-1, target.shape[-1])[sel].double()
    err = ((y - t) ** 2).sum(0)
    var = ((t - t.mean(0)) ** 2).sum(0)
    return float((err / var).mean())
