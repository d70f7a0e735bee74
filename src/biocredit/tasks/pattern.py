"""Cued pattern generation (regression) with a finite training set.

The pattern-generation task of the e-prop / MDGL / ModProp line of work (Bellec et al. 2020; Liu et al. 2021,
2022): the network must produce a target waveform that is a sum of sinusoids with fixed random amplitudes and
phases. Here one of ``K`` such waveforms is requested by a brief cue pulse, which makes the task a mapping from
cue to pattern (spec §1b: the paper's exact variant could not be retrieved; this is an [INFERENCE] choice).

Patterns (drawn once from ``default_rng(pattern_seed)``: amplitudes first, then phases), for pattern ``k``,
output ``o`` and pattern step ``τ = 0 … P−1`` (``P = pattern_steps``)::

    raw[k, o, τ] = Σ_m A[k, o, m] · sin(2π f_m τ dt / 1000 + φ[k, o, m]),
    A ~ U[0.5, 2],  φ ~ U[0, 2π),  f = frequencies_hz (default 1, 2, 3, 5 Hz as in Bellec et al. 2020)
    target[k, o, τ] = raw[k, o, τ] / max_τ |raw[k, o, τ]|     (only when ``normalize``; else raw)

Trial (``dt_ms`` = 10 ms per step): the cue onset ``t_c ~ U{cue_onset_range}`` (inclusive); input channel ``k``
(``n_in = K``) is 1 on ``[t_c, t_c + cue_steps)``; every input channel carries i.i.d. ``N(0, input_noise²)``
noise at every step. The pattern starts at ``t_on = t_c + cue_steps + go_delay``: ``y[t_on + τ] =
target[k, :, τ]``; before ``t_on`` the target is 0 (and counts); after the pattern nothing counts. Every trial
has ``n_steps = cue_onset_max + cue_steps + go_delay + P`` steps. Loss: masked mean squared error; accuracy:
``1 − NE`` with the normalised error of the reach task (:func:`biocredit.tasks.reach.normalized_error`).

Generalization protocol (:class:`~biocredit.tasks.smnist.GeneratedTrainingSet`): the ``n_train`` training trials
(pattern, cue onset and input noise) are generated once from the stream ``(seed, 0)``; :meth:`test_set` has
``n_test`` trials from ``(seed, 1)``; :meth:`test_batch` and :meth:`validation_batch` draw fresh trials from the
``rng`` given. ``condition`` = pattern index.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from biocredit.tasks.base import EveryStepAnalysis, Task, TaskBatch
from biocredit.tasks.reach import normalized_error
from biocredit.tasks.smnist import GeneratedTrainingSet

__all__ = ["PatternGenerationTask", "make_patterns"]


def make_patterns(
    n_patterns: int,
    n_outputs: int,
    pattern_steps: int,
    dt_ms: float,
    frequencies_hz: Sequence[float] = (1.0, 2.0, 3.0, 5.0),
    *,
    amplitude_range: tuple[float, float] = (0.5, 2.0),
    seed: int = 0,
    normalize: bool = True,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Target waveforms ``(n_patterns, n_outputs, pattern_steps)`` (formula in the module docstring).

    Returns:
        The waveforms and the parameters ``amplitude``, ``phase`` (``(K, n_outputs, n_freq)``) and ``scale``
        (``(K, n_outputs)``, the divisor applied; 1 when not normalising).
    """
    rng = np.random.default_rng(seed)
    freqs = np.asarray(frequencies_hz, dtype=np.float64)
    shape = (n_patterns, n_outputs, len(freqs))
    amplitude = rng.uniform(amplitude_range[0], amplitude_range[1], size=shape)
    phase = rng.uniform(0.0, 2 * np.pi, size=shape)
    t_s = np.arange(pattern_steps) * dt_ms / 1000.0
    arg = 2 * np.pi * freqs[None, None, :, None] * t_s + phase[..., None]  # (K, O, M, P)
    raw = (amplitude[..., None] * np.sin(arg)).sum(2)
    scale = np.abs(raw).max(-1) if normalize else np.ones(raw.shape[:2])
    return raw / scale[..., None], {"amplitude": amplitude, "phase": phase, "scale": scale}


class PatternGenerationTask(GeneratedTrainingSet, EveryStepAnalysis, Task):
    """Produce the cued sum-of-sinusoids waveform; fixed finite training set, fresh test trials.

    Args:
        n_train: number of training trials (generated once).
        n_test: number of trials of the fixed test set.
        seed: seed of the training set (stream ``(seed, 0)``) and the test set (stream ``(seed, 1)``).
        n_patterns: number of patterns ``K`` (= input channels).
        n_outputs: number of outputs.
        pattern_ms: pattern duration.
        frequencies_hz: sinusoid frequencies.
        amplitude_range: range of the uniform amplitudes.
        pattern_seed: seed of the amplitudes and phases.
        normalize: scale each waveform to a peak |value| of 1.
        cue_onset_range: inclusive range of the cue onset step.
        cue_steps: cue duration (steps).
        go_delay: steps from cue offset to pattern onset.
        input_noise: std of the i.i.d. input noise.
        dt_ms: duration of one step.
    """

    name = "pattern"

    def __init__(
        self,
        n_train: int = 64,
        n_test: int = 512,
        *,
        seed: int = 0,
        n_patterns: int = 4,
        n_outputs: int = 1,
        pattern_ms: float = 1000.0,
        frequencies_hz: Sequence[float] = (1.0, 2.0, 3.0, 5.0),
        amplitude_range: tuple[float, float] = (0.5, 2.0),
        pattern_seed: int = 0,
        normalize: bool = True,
        cue_onset_range: tuple[int, int] = (5, 45),
        cue_steps: int = 5,
        go_delay: int = 10,
        input_noise: float = 0.1,
        dt_ms: float = 10.0,
    ) -> None:
        if n_train <= 0 or n_test < 0 or n_patterns <= 0 or n_outputs <= 0:
            raise ValueError("n_train, n_patterns and n_outputs must be positive and n_test non-negative")
        if cue_onset_range[0] < 0 or cue_onset_range[1] < cue_onset_range[0]:
            raise ValueError(f"cue_onset_range must satisfy 0 <= min <= max, got {cue_onset_range}")
        if cue_steps <= 0 or go_delay < 0:
            raise ValueError("cue_steps must be positive and go_delay non-negative")
        self.dt_ms = float(dt_ms)
        self.pattern_steps = round(pattern_ms / self.dt_ms)
        if self.pattern_steps <= 0:
            raise ValueError(f"pattern_ms={pattern_ms} is shorter than one step")
        self.n_in, self.n_out = int(n_patterns), int(n_outputs)
        self.n_patterns = int(n_patterns)
        self.patterns, self.pattern_params = make_patterns(
            self.n_patterns, self.n_out, self.pattern_steps, self.dt_ms, frequencies_hz,
            amplitude_range=amplitude_range, seed=pattern_seed, normalize=normalize,
        )
        self.frequencies_hz = np.asarray(frequencies_hz, dtype=np.float64)
        self.cue_onset_range = (int(cue_onset_range[0]), int(cue_onset_range[1]))
        self.cue_steps, self.go_delay = int(cue_steps), int(go_delay)
        self.input_noise = float(input_noise)
        self.n_steps = self.cue_onset_range[1] + self.cue_steps + self.go_delay + self.pattern_steps
        self.seed = int(seed)
        self.n_train_trials, self.n_test = int(n_train), int(n_test)
        self.input_labels = [f"cue {k}" for k in range(self.n_patterns)]
        self.output_labels = [f"output {o}" for o in range(self.n_out)]
        self._generate_training_set()

    @property
    def n_conditions(self) -> int:
        return self.n_patterns

    # ----------------------------------------------------------------- trial generation
    def _build(
        self, pattern: np.ndarray, onset: np.ndarray, noise: np.ndarray
    ) -> tuple[TaskBatch, dict[str, np.ndarray]]:
        """Trials from pattern indices, cue onsets and standard-normal input noise ``(n, n_steps, n_in)``."""
        n = len(pattern)
        x = self.input_noise * noise
        y = np.zeros((n, self.n_steps, self.n_out))
        mask = np.zeros((n, self.n_steps), dtype=np.float32)
        t_on = onset + self.cue_steps + self.go_delay
        for i in range(n):
            x[i, onset[i] : onset[i] + self.cue_steps, pattern[i]] += 1.0
            y[i, t_on[i] : t_on[i] + self.pattern_steps] = self.patterns[pattern[i]].T
            mask[i, : t_on[i] + self.pattern_steps] = 1.0
        batch = TaskBatch(
            x=torch.as_tensor(x, dtype=torch.float32),
            y=torch.as_tensor(y, dtype=torch.float32),
            mask=torch.from_numpy(mask),
            condition=torch.as_tensor(pattern, dtype=torch.int64),
        )
        return batch, {"pattern": pattern, "cue_onset": onset, "pattern_onset": t_on}

    def generate(self, n: int, rng: np.random.Generator) -> tuple[TaskBatch, dict[str, np.ndarray]]:
        """``n`` fresh trials from ``rng`` (draw order: patterns, cue onsets, input noise) and their parameters
        (``pattern``, ``cue_onset``, ``pattern_onset``)."""
        pattern = rng.integers(0, self.n_patterns, size=n)
        onset = rng.integers(self.cue_onset_range[0], self.cue_onset_range[1] + 1, size=n)
        noise = rng.standard_normal((n, self.n_steps, self.n_in))
        return self._build(pattern, onset, noise)

    # ----------------------------------------------------------------- batches
    def analysis_batch(self) -> TaskBatch:
        """Noise-free trials, one per pattern, cue at the middle of the onset range."""
        pattern = np.arange(self.n_patterns)
        onset = np.full(self.n_patterns, (self.cue_onset_range[0] + self.cue_onset_range[1]) // 2)
        return self._build(pattern, onset, np.zeros((self.n_patterns, self.n_steps, self.n_in)))[0]

    # ----------------------------------------------------------------- scoring
    def loss(self, output: torch.Tensor, batch: TaskBatch) -> torch.Tensor:
        """Mean squared error over masked (trial, step, output) entries."""
        mask = batch.mask.unsqueeze(-1)
        return ((output - batch.y) ** 2 * mask).sum() / (mask.sum() * output.shape[-1])

    def accuracy(self, output: torch.Tensor, batch: TaskBatch) -> float:
        """``1 − NE`` (normalised error over masked entries, averaged over outputs)."""
        return 1.0 - normalized_error(output, batch.y, batch.mask)
