"""Perceptual decision making (noisy evidence accumulation with a delay), with a finite training set.

The random-dot-motion style two-alternative task of the cognitive-RNN literature (Britten et al. 1992 for the
paradigm; as an RNN task: Mante, Sussillo, Shenoy & Newsome 2013; Song, Yang & Wang 2016; Yang et al. 2019's
"DM" tasks; NeuroGym's ``PerceptualDecisionMaking``, Molano-Mazón et al. 2022), chosen as study B's cognitive task
(spec §1b: the paper's own task list could not be retrieved, so this is an [INFERENCE] choice).

Trial (``dt_ms`` = 20 ms per step), for choice ``c ∈ {0, 1}`` (sign ``s = +1`` for ``c = 0``, ``−1`` for ``c = 1``)
and coherence ``coh`` drawn uniformly from ``coherences``:

- fixation: steps ``[0, n_fix)``; stimulus: ``[n_fix, n_fix + n_stim)``; delay of ``d ~ U{delay_min..delay_max}``
  steps; decision: ``[t_go, t_go + n_decision)`` with ``t_go = n_fix + n_stim + d``. Every trial has
  ``n_steps = n_fix + n_stim + delay_max + n_decision`` steps; after the decision period nothing counts.
- inputs (``n_in = 3``): channel 0 is the fixation cue, 1 on ``[0, t_go)`` and 0 from the go time on; during
  the stimulus, channel 1 = ``(1 + s·coh)/2 + σ ξ₁`` and channel 2 = ``(1 − s·coh)/2 + σ ξ₂`` with i.i.d.
  ``ξ ~ N(0, 1)`` per step; both are 0 outside the stimulus.
- target: class ``c`` (``n_out = 2`` logits); loss: softmax cross-entropy averaged over the decision period
  (``mask`` = 1 there, 0 elsewhere); accuracy: fraction of decision-period steps whose argmax is ``c``.

The integrated evidence ``E = Σ_stim (x₁ − x₂) = s·coh·n_stim + σ·√(2 n_stim)·N(0,1)``; the ideal observer
reports ``sign(E)`` and is correct with probability ``Φ(coh·√n_stim / (σ√2))`` (:meth:`ideal_accuracy`).
Difficulty is set by ``coherences``, ``sigma`` and ``n_stim``.

Generalization protocol (:class:`~biocredit.tasks.smnist.GeneratedTrainingSet`): the ``n_train`` training trials
(choices, coherences, delays and noise) are generated once from the seed stream ``(seed, 0)`` and reused
(minibatches by epoch reshuffling, :class:`~biocredit.tasks.smnist.EpochSampler`); :meth:`test_set` holds
``n_test`` trials from the stream ``(seed, 1)``; :meth:`test_batch` and :meth:`validation_batch` draw fresh trials
from the ``rng`` given. ``condition = 2·coherence_index + c``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from biocredit.tasks.base import EveryStepAnalysis, Task, TaskBatch
from biocredit.tasks.smnist import GeneratedTrainingSet, masked_class_accuracy, masked_cross_entropy

__all__ = ["PerceptualDecisionTask"]


class PerceptualDecisionTask(GeneratedTrainingSet, EveryStepAnalysis, Task):
    """Two-alternative evidence accumulation with a delay; fixed finite training set, fresh test trials.

    Args:
        n_train: number of training trials (generated once).
        n_test: number of trials of the fixed test set.
        seed: seed of the training set (stream ``(seed, 0)``) and the test set (stream ``(seed, 1)``).
        coherences: evidence strengths, one drawn uniformly per trial.
        sigma: std of the per-step input noise on each evidence channel.
        n_fix, n_stim, n_decision: fixation, stimulus and decision period lengths (steps).
        delay_range: ``(delay_min, delay_max)`` steps between stimulus offset and the go time, inclusive.
        dt_ms: duration of one step.
    """

    name = "decision"
    n_in = 3
    n_out = 2
    input_labels = ["fixation", "evidence A", "evidence B"]
    output_labels = ["choice A", "choice B"]

    def __init__(
        self,
        n_train: int = 512,
        n_test: int = 1024,
        *,
        seed: int = 0,
        coherences: Sequence[float] = (0.1, 0.2, 0.4, 0.8),
        sigma: float = 0.5,
        n_fix: int = 5,
        n_stim: int = 20,
        delay_range: tuple[int, int] = (5, 15),
        n_decision: int = 10,
        dt_ms: float = 20.0,
    ) -> None:
        if n_train <= 0 or n_test < 0:
            raise ValueError(f"n_train must be positive and n_test non-negative, got {n_train}, {n_test}")
        if not coherences or min(coherences) < 0 or max(coherences) > 1:
            raise ValueError(f"coherences must be a non-empty list in [0, 1], got {coherences}")
        if delay_range[0] < 0 or delay_range[1] < delay_range[0]:
            raise ValueError(f"delay_range must satisfy 0 <= min <= max, got {delay_range}")
        if min(n_fix, n_stim, n_decision) < 0 or n_stim == 0 or n_decision == 0:
            raise ValueError("period lengths must be non-negative, n_stim and n_decision positive")
        self.n_train_trials = int(n_train)
        self.n_test = int(n_test)
        self.seed = int(seed)
        self.coherences = np.asarray(coherences, dtype=np.float64)
        self.sigma = float(sigma)
        self.n_fix, self.n_stim, self.n_decision = int(n_fix), int(n_stim), int(n_decision)
        self.delay_range = (int(delay_range[0]), int(delay_range[1]))
        self.dt_ms = float(dt_ms)
        self.n_steps = self.n_fix + self.n_stim + self.delay_range[1] + self.n_decision
        self._generate_training_set()

    @property
    def n_conditions(self) -> int:
        return 2 * len(self.coherences)

    # ----------------------------------------------------------------- trial generation
    def _build(
        self, choice: np.ndarray, coh_idx: np.ndarray, delay: np.ndarray, noise: np.ndarray
    ) -> tuple[TaskBatch, dict[str, np.ndarray]]:
        """Trials from their parameters; ``noise`` is ``(n, n_stim, 2)`` standard normal (zeros = noise-free)."""
        n = len(choice)
        sign = np.where(choice == 0, 1.0, -1.0)
        coh = self.coherences[coh_idx]
        x = np.zeros((n, self.n_steps, self.n_in))
        y = np.repeat(choice.astype(np.int64)[:, None], self.n_steps, axis=1)
        mask = np.zeros((n, self.n_steps), dtype=np.float32)
        stim = slice(self.n_fix, self.n_fix + self.n_stim)
        x[:, stim, 1] = (0.5 * (1 + sign * coh))[:, None] + self.sigma * noise[:, :, 0]
        x[:, stim, 2] = (0.5 * (1 - sign * coh))[:, None] + self.sigma * noise[:, :, 1]
        t_go = self.n_fix + self.n_stim + delay
        for i in range(n):
            x[i, : t_go[i], 0] = 1.0
            mask[i, t_go[i] : t_go[i] + self.n_decision] = 1.0
        batch = TaskBatch(
            x=torch.as_tensor(x, dtype=torch.float32),
            y=torch.from_numpy(y),
            mask=torch.from_numpy(mask),
            condition=torch.as_tensor(2 * coh_idx + choice, dtype=torch.int64),
        )
        evidence = x[:, stim, 1].sum(1) - x[:, stim, 2].sum(1)
        info = {"choice": choice, "coherence": coh, "coherence_index": coh_idx, "delay": delay, "go_step": t_go,
                "evidence": evidence}
        return batch, info

    def generate(self, n: int, rng: np.random.Generator) -> tuple[TaskBatch, dict[str, np.ndarray]]:
        """``n`` fresh trials from ``rng`` (draw order: choices, coherence indices, delays, noise) and their
        parameters (``choice``, ``coherence``, ``coherence_index``, ``delay``, ``go_step``, ``evidence``)."""
        choice = rng.integers(0, 2, size=n)
        coh_idx = rng.integers(0, len(self.coherences), size=n)
        delay = rng.integers(self.delay_range[0], self.delay_range[1] + 1, size=n)
        noise = rng.standard_normal((n, self.n_stim, 2))
        return self._build(choice, coh_idx, delay, noise)

    # ----------------------------------------------------------------- batches
    def analysis_batch(self) -> TaskBatch:
        """Noise-free trials, one per condition ``2·coherence_index + choice``, at the middle delay."""
        coh_idx = np.repeat(np.arange(len(self.coherences)), 2)
        choice = np.tile([0, 1], len(self.coherences))
        delay = np.full(len(choice), (self.delay_range[0] + self.delay_range[1]) // 2)
        return self._build(choice, coh_idx, delay, np.zeros((len(choice), self.n_stim, 2)))[0]

    # ----------------------------------------------------------------- scoring
    def loss(self, output: torch.Tensor, batch: TaskBatch) -> torch.Tensor:
        """Softmax cross-entropy averaged over decision-period steps."""
        return masked_cross_entropy(output, batch)

    def accuracy(self, output: torch.Tensor, batch: TaskBatch) -> float:
        """Fraction of decision-period steps whose argmax is the correct choice."""
        return masked_class_accuracy(output, batch)

    # ----------------------------------------------------------------- references
    def integrated_evidence(self, batch: TaskBatch) -> torch.Tensor:
        """``Σ_t (x₁ − x₂)`` over the whole trial (the inputs are 0 outside the stimulus), shape ``(batch,)``."""
        return (batch.x[:, :, 1] - batch.x[:, :, 2]).sum(1)

    def ideal_observer_output(self, batch: TaskBatch) -> torch.Tensor:
        """Logits ``(batch, time, 2)`` of the integrate-the-evidence readout: ``(E, −E)`` at every step."""
        e = self.integrated_evidence(batch)
        logits = torch.stack([e, -e], dim=-1)
        return logits[:, None, :].expand(-1, batch.x.shape[1], -1).contiguous()

    def ideal_accuracy(self) -> float:
        """Expected accuracy of the ideal observer, ``mean_coh Φ(coh·√n_stim / (σ√2))``."""
        if self.sigma == 0:
            return float(np.mean(np.where(self.coherences > 0, 1.0, 0.5)))
        z = self.coherences * math.sqrt(self.n_stim) / (self.sigma * math.sqrt(2))
        return float(np.mean([0.5 * (1 + math.erf(v / math.sqrt(2))) for v in z]))
