"""Context-dependent integration task of Mante et al. (2013), as trained by Liu, Yang & Cueva (2025).

The training set is a fixed, noise-free batch of the 72 condition trials (2 contexts × 6 motion coherences × 6 colour
coherences), the same batch at every update (the authors' ``data_synthetic.pkl``, made with their NeuroGym
``Mante13Env`` in 'test' mode).

Trial (``dt_ms`` = 15 ms per step, 113 steps): fixation steps 0–22 (345 ms), stimulus 23–72 (750 ms), delay 73–92
(300 ms), decision 93–112 (300 ms).

Inputs (``n_in`` = 9), before normalisation:

- 0 fixation cue: 1 during fixation, stimulus and delay, 0 in the decision period;
- 1 ``prop_left = (1 − coh_m)/2``, 2 ``prop_right = (1 + coh_m)/2``, 3 ``prop_red = (1 − coh_c)/2``,
  4 ``prop_green = (1 + coh_c)/2`` during the stimulus only (``coh_m``, ``coh_c`` the signed motion and colour
  coherences);
- 5–6 context one-hot (motion ``[1, 0]``, colour ``[0, 1]``) during fixation, stimulus and delay;
- 7–8 colour-target order, always ``[0, 1]`` (left target red, right target green), the whole trial.

Each time step's input vector is then divided by its L2 norm (fixation and delay rows become ``1/√3``; the
colour-target channel keeps every norm positive).

Choice: in the motion context 2 if ``coh_m > 0`` else 1; in the colour context 2 if ``prop_green > prop_red``
(``coh_c > 0``) else 1. Targets (``n_out`` = 3 logits): class 0 (fixate) for steps 0–92, the choice for 93–112.

Loss: softmax cross-entropy averaged over all steps and trials (the mask is all ones). Accuracy, as the authors
plot it: ``1 − CE``. :meth:`ManteTask.decision_accuracy` reports the fraction of trials whose decision-period mean
logits favour the correct choice (argmax over the two choice logits).

Condition order. Conditions are sorted ascending by (choice, motion coherence, colour coherence, context), with
context coded +1 = motion, −1 = colour as in the authors' code; this is also the order of the preprocessed
recordings (:func:`biocredit.data.mante.preprocess_mante`). Coherences are identified by signed rank (−3..−1,
1..3) so the task matches recordings whose sessions used slightly different coherence values.

Analysis: the 72 trials in the recordings' condition order; model steps 23–72 (the stimulus epoch) line up with the
recordings' 50 bins, whose centres are ``7.5 + 15·k`` ms after stimulus onset (or the dataset's ``time``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from biocredit.contexts import context_choice
from biocredit.tasks.base import Task, TaskBatch

__all__ = ["ManteTask", "DEFAULT_COHERENCES"]

#: signed coherences of both modalities in the authors' training set
DEFAULT_COHERENCES: tuple[float, ...] = (-0.5, -0.17, -0.06, 0.06, 0.17, 0.5)
_CONTEXT_NAMES = {1: "motion", -1: "colour"}
_CONTEXT_CODES = {"motion": 1, "colour": -1, "color": -1}


def _signed_ranks(values: Sequence[float], what: str) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct non-zero coherences and their signed ranks (−n..−1 for negatives, 1..m for positives)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size == 0 or np.any(v == 0) or not np.all(np.isfinite(v)) or np.unique(v).size != v.size:
        raise ValueError(f"{what} must be distinct, finite and non-zero, got {list(v)}")
    if np.any(np.abs(v) > 1):
        raise ValueError(f"{what} must lie in [-1, 1], got {list(v)}")
    v = np.sort(v)
    n_neg = int((v < 0).sum())
    ranks = np.concatenate([np.arange(-n_neg, 0), np.arange(1, v.size - n_neg + 1)])
    return v, ranks


class ManteTask(Task):
    """The 72-condition context-dependent integration task (fixed noise-free full batch).

    Args:
        motion_coherences: signed motion coherences (default ±0.5, ±0.17, ±0.06).
        colour_coherences: signed colour coherences (default: the motion ones).
        analysis_times: recording bin centres (ms) of the analysis steps; default ``dt_ms·(k + 0.5)``.
        n_fix, n_stim, n_delay, n_decision: period lengths in steps (23, 50, 20, 20).
        dt_ms: duration of one step (15 ms).
        normalize_inputs: divide each step's input vector by its L2 norm (True, as the authors).
    """

    name = "mante"
    n_in = 9
    n_out = 3
    dt_ms = 15.0
    input_labels = [
        "fixation", "motion left", "motion right", "colour red", "colour green",
        "context motion", "context colour", "colour target left", "colour target right",
    ]
    output_labels = ["fixate", "choice 1", "choice 2"]

    def __init__(
        self,
        motion_coherences: Sequence[float] = DEFAULT_COHERENCES,
        colour_coherences: Sequence[float] | None = None,
        *,
        analysis_times: Sequence[float] | None = None,
        n_fix: int = 23,
        n_stim: int = 50,
        n_delay: int = 20,
        n_decision: int = 20,
        dt_ms: float = 15.0,
        normalize_inputs: bool = True,
    ) -> None:
        if min(n_fix, n_stim, n_delay, n_decision) < 0 or n_stim == 0 or n_decision == 0:
            raise ValueError("period lengths must be non-negative, with a stimulus and a decision period")
        self.dt_ms = float(dt_ms)
        self.n_fix, self.n_stim, self.n_delay, self.n_decision = n_fix, n_stim, n_delay, n_decision
        self.n_steps = n_fix + n_stim + n_delay + n_decision
        self.stim_start = n_fix
        self.decision_start = n_fix + n_stim + n_delay
        self.normalize_inputs = normalize_inputs
        m_vals, m_ranks = _signed_ranks(motion_coherences, "motion_coherences")
        c_vals, c_ranks = _signed_ranks(
            motion_coherences if colour_coherences is None else colour_coherences, "colour_coherences"
        )
        rows = []
        for ctx in (-1, 1):
            for mv, mr in zip(m_vals, m_ranks, strict=True):
                for cv, cr in zip(c_vals, c_ranks, strict=True):
                    choice = int(context_choice(np.array(ctx), np.array(mv), np.array(cv)))
                    rows.append((choice, int(mr), int(cr), ctx, float(mv), float(cv)))
        rows.sort(key=lambda r: r[:4])
        table = list(zip(*rows, strict=True))
        self.choice = np.array(table[0], dtype=np.int64)
        self.motion_rank = np.array(table[1], dtype=np.int64)
        self.colour_rank = np.array(table[2], dtype=np.int64)
        self.context_code = np.array(table[3], dtype=np.int64)
        self.motion_coherence = np.array(table[4], dtype=np.float64)
        self.colour_coherence = np.array(table[5], dtype=np.float64)
        n = len(rows)
        self._analysis_order = np.arange(n)
        self._analysis_ids = np.arange(n)
        if analysis_times is None:
            analysis_times = self.dt_ms * (np.arange(n_stim) + 0.5)
        self._set_analysis_times(analysis_times)

    # ---------------------------------------------------------------------------------------------------------

    def _set_analysis_times(self, times: Sequence[float]) -> None:
        times = np.asarray(times, dtype=np.float64).ravel()
        if times.size != self.n_stim:
            raise ValueError(
                f"the recordings have {times.size} time bins but the stimulus epoch has {self.n_stim} model steps"
            )
        self._analysis_times = times

    @classmethod
    def from_dataset(
        cls,
        ds,
        *,
        motion_coherences: Sequence[float] | None = None,
        colour_coherences: Sequence[float] | None = None,
        use_data_coherences: bool = False,
        **kwargs,
    ) -> ManteTask:
        """Build the task so that :meth:`analysis_batch` matches a preprocessed Mante dataset.

        The dataset (from :func:`biocredit.data.mante.preprocess_mante`) gives the condition order (via its
        ``context``, ``motion_rank``, ``colour_rank`` and ``choice`` coordinates; ranks are derived from
        ``motion_coherence``/``colour_coherence`` when absent), the condition labels written to
        ``TaskBatch.condition`` (its ``condition`` coordinate) and the analysis times (its ``time``). The task's
        coherence values are the authors' (±0.5, ±0.17, ±0.06) unless given, or taken from the dataset's
        reference values with ``use_data_coherences=True``.

        Raises:
            ValueError: the dataset's conditions do not correspond one-to-one to the task's, or a condition's
                ``choice`` contradicts the one its context asks for.
        """
        ctx = np.array([_CONTEXT_CODES[str(c).lower()] for c in ds["context"].values], dtype=np.int64)
        if "motion_rank" in ds.coords and "colour_rank" in ds.coords:
            m_rank = np.asarray(ds["motion_rank"].values, dtype=np.int64)
            c_rank = np.asarray(ds["colour_rank"].values, dtype=np.int64)
        else:
            m_rank = _ranks_of(ds["motion_coherence"].values)
            c_rank = _ranks_of(ds["colour_coherence"].values)
        if use_data_coherences:
            motion_coherences = np.unique(ds["motion_coherence"].values)
            colour_coherences = np.unique(ds["colour_coherence"].values)
        task = cls(
            DEFAULT_COHERENCES if motion_coherences is None else motion_coherences,
            colour_coherences,
            analysis_times=ds["time"].values,
            **kwargs,
        )
        index = {k: i for i, k in enumerate(zip(task.context_code, task.motion_rank, task.colour_rank, strict=True))}
        order = []
        for i, key in enumerate(zip(ctx, m_rank, c_rank, strict=True)):
            key = tuple(int(v) for v in key)
            if key not in index:
                raise ValueError(
                    f"dataset condition {i} (context {_CONTEXT_NAMES[key[0]]}, motion rank {key[1]}, colour rank "
                    f"{key[2]}) has no counterpart among the task's conditions"
                )
            order.append(index[key])
        order = np.array(order, dtype=np.int64)
        if np.unique(order).size != order.size or order.size != task.n_conditions:
            raise ValueError(
                f"the dataset's {order.size} conditions do not map one-to-one onto the task's {task.n_conditions}"
            )
        if "choice" in ds.coords:
            data_choice = np.asarray(ds["choice"].values, dtype=np.int64)
            bad = np.flatnonzero(data_choice != task.choice[order])
            if bad.size:
                raise ValueError(
                    f"dataset conditions {bad.tolist()} have a choice that contradicts the one their context asks for"
                )
        task._analysis_order = order
        task._analysis_ids = np.array(ds["condition"].values, dtype=np.int64)
        return task

    # ---------------------------------------------------------------------------------------------------------

    @property
    def n_conditions(self) -> int:
        return self.choice.size

    @property
    def decision_steps(self) -> np.ndarray:
        return np.arange(self.decision_start, self.n_steps)

    @property
    def conditions(self) -> dict[str, np.ndarray]:
        """Per canonical condition: ``context`` (str), ranks, coherences and ``choice``."""
        return {
            "context": np.array([_CONTEXT_NAMES[int(c)] for c in self.context_code]),
            "motion_rank": self.motion_rank,
            "colour_rank": self.colour_rank,
            "motion_coherence": self.motion_coherence,
            "colour_coherence": self.colour_coherence,
            "choice": self.choice,
        }

    def inputs(self, conditions: np.ndarray) -> np.ndarray:
        """Inputs ``(len(conditions), n_steps, 9)`` (float64) of the canonical conditions given."""
        conditions = np.asarray(conditions, dtype=np.int64)
        x = np.zeros((conditions.size, self.n_steps, self.n_in))
        stim = slice(self.stim_start, self.stim_start + self.n_stim)
        coh_m = self.motion_coherence[conditions][:, None]
        coh_c = self.colour_coherence[conditions][:, None]
        x[:, : self.decision_start, 0] = 1.0
        x[:, stim, 1] = (1.0 - coh_m) / 2.0
        x[:, stim, 2] = (1.0 + coh_m) / 2.0
        x[:, stim, 3] = (1.0 - coh_c) / 2.0
        x[:, stim, 4] = (1.0 + coh_c) / 2.0
        motion = self.context_code[conditions] == 1
        x[motion, : self.decision_start, 5] = 1.0
        x[~motion, : self.decision_start, 6] = 1.0
        x[:, :, 8] = 1.0  # colour-target order [0, 1]
        if self.normalize_inputs:
            x /= np.linalg.norm(x, axis=-1, keepdims=True)
        return x

    def targets(self, conditions: np.ndarray) -> np.ndarray:
        """Class labels ``(len(conditions), n_steps)``: 0 before the decision period, the choice during it."""
        conditions = np.asarray(conditions, dtype=np.int64)
        y = np.zeros((conditions.size, self.n_steps), dtype=np.int64)
        y[:, self.decision_start :] = self.choice[conditions][:, None]
        return y

    def _batch(self, conditions: np.ndarray, labels: np.ndarray) -> TaskBatch:
        return TaskBatch(
            x=torch.as_tensor(self.inputs(conditions), dtype=torch.float32),
            y=torch.as_tensor(self.targets(conditions), dtype=torch.int64),
            mask=torch.ones((len(conditions), self.n_steps), dtype=torch.float32),
            condition=torch.tensor(np.asarray(labels), dtype=torch.int64),
        )

    def sample_batch(self, batch_size: int, rng: np.random.Generator | None = None) -> TaskBatch:
        """The fixed training set: all conditions in canonical order, deterministic (``rng`` is not used).

        ``batch_size`` must be a positive multiple of :attr:`n_conditions` (72); a multiple ``k·72`` repeats the
        set ``k`` times (same mean loss and gradient). Any other size raises, since a partial or uneven batch would
        change the training objective.
        """
        n = self.n_conditions
        if batch_size <= 0 or batch_size % n:
            raise ValueError(
                f"the Mante task trains on its fixed full batch of {n} conditions; batch_size must be a positive "
                f"multiple of {n} (set training batch_size and n_test_trials to {n}), got {batch_size}"
            )
        conditions = np.tile(np.arange(n), batch_size // n)
        return self._batch(conditions, conditions)

    def analysis_batch(self) -> TaskBatch:
        """The same trials in the recordings' condition order, labelled with the recordings' condition ids."""
        return self._batch(self._analysis_order, self._analysis_ids)

    @property
    def analysis_order(self) -> np.ndarray:
        """Canonical condition index of each analysis trial."""
        return self._analysis_order.copy()

    @property
    def analysis_steps(self) -> np.ndarray:
        return np.arange(self.stim_start, self.stim_start + self.n_stim)

    @property
    def analysis_times(self) -> np.ndarray:
        return self._analysis_times.copy()

    # ---------------------------------------------------------------------------------------------------------

    def loss(self, output: torch.Tensor, batch: TaskBatch) -> torch.Tensor:
        """Softmax cross-entropy of the logits ``(B, T, 3)`` averaged over entries where the mask is 1."""
        ce = F.cross_entropy(output.reshape(-1, output.shape[-1]), batch.y.reshape(-1), reduction="none")
        mask = batch.mask.reshape(-1).to(ce.dtype)
        return (ce * mask).sum() / mask.sum()

    def accuracy(self, output: torch.Tensor, batch: TaskBatch) -> float:
        """``1 − CE`` (natural-log cross-entropy over all steps), the authors' x-axis; below 0 for CE > 1."""
        with torch.no_grad():
            return 1.0 - float(self.loss(output.detach(), batch))

    def decision_accuracy(self, output: torch.Tensor, batch: TaskBatch) -> float:
        """Fraction of trials whose decision-period mean logits favour the correct choice.

        The choice is the argmax over the two choice logits (classes 1 and 2; a tie counts as choice 1), so
        all-zero logits score chance (0.5 on the balanced 72 conditions).
        """
        steps = torch.as_tensor(self.decision_steps, device=output.device)
        mean_logits = output.detach()[:, steps, 1:3].mean(dim=1)
        predicted = mean_logits.argmax(dim=-1) + 1
        truth = batch.y[:, self.decision_start]
        return float((predicted == truth).double().mean())


def _ranks_of(values: np.ndarray) -> np.ndarray:
    """Signed ranks of each entry among the distinct values (used when a dataset has no rank coordinates)."""
    values = np.asarray(values, dtype=np.float64)
    distinct, ranks = _signed_ranks(np.unique(values), "dataset coherences")
    lookup = dict(zip(distinct.tolist(), ranks.tolist(), strict=True))
    return np.array([lookup[float(v)] for v in values], dtype=np.int64)
