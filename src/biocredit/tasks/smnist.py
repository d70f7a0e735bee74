"""Sequential (row-by-row) digit classification: sMNIST as in Liu et al. (2022)'s code, and an 8×8 stand-in.

Encoding (Le, Jaitly & Hinton 2015 use pixel-by-pixel MNIST; the authors' ``saveHess_seqMNIST.py`` feeds it row by
row): an ``H × W`` image becomes a sequence of ``T = H`` steps with ``n_in = W`` inputs, step ``t`` receiving image
row ``t`` (analog pixel values in [0, 1]). The class (0–9) is read out at the last step only: ``mask[:, T−1] = 1``,
0 elsewhere (``y`` holds the label at every step, so any mask-weighted loss is well defined). Loss: mean softmax
cross-entropy at the last step; accuracy: argmax accuracy at the last step. ``dt_ms = 1`` is nominal (a step is
one image row).

Data (MNIST, LeCun et al. 1998): :meth:`SequentialDigits.from_mnist` uses TF ``read_data_sets``' split (55,000
train, the first 5,000 of the original training file as validation, 10,000 test, pixels / 255).
:meth:`SequentialDigits.from_sklearn_digits` uses scikit-learn's bundled 8×8 digits (1,797 images, pixels / 16;
T = 8, n_in = 8) with a seeded split, the embedded stand-in for smoke and default presets.

Test set: the authors' code defines a "test" set as the MNIST test images with i.i.d. N(0, σ²) pixel noise
(σ = 0.2) clipped to [0, 1] (spec §1a; the spec infers that the paper's test performance uses it). The noise is
drawn once per task from ``noise_seed``, so every evaluation sees the same noisy images. ``test_set(noisy=False)``
gives the clean images.

Training minibatches follow TF's ``DataSet.next_batch``: the training set is shuffled at the start of every
epoch and consumed in order; a batch that runs past the end takes the rest of the epoch and the start of the next,
freshly shuffled one (:class:`EpochSampler`). Each epoch thus visits every training example exactly once.

The sampler draws its permutations from the ``rng`` passed to :meth:`train_batch` and is bound to that Generator
object: passing a different Generator starts a new sampler (a new epoch). For a bit-exact resume, a trainer must
save :meth:`FiniteTrainingSet.sampler_state` together with the Generator's state and restore both.

:class:`EpochSampler`, :class:`FiniteTrainingSet` and the masked cross-entropy helpers are shared with the other
study-B tasks (:mod:`biocredit.tasks.cognitive`, :mod:`biocredit.tasks.pattern`).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from biocredit.data.mnist import read_data_sets
from biocredit.tasks.base import EveryStepAnalysis, Task, TaskBatch

__all__ = [
    "EpochSampler",
    "FiniteTrainingSet",
    "GeneratedTrainingSet",
    "SequentialDigits",
    "add_pixel_noise",
    "masked_cross_entropy",
    "masked_class_accuracy",
    "DIGITS_SPLIT",
]

#: default (train, validation, test) sizes of the 8×8 digits stand-in (1,797 images in all)
DIGITS_SPLIT = (1000, 297, 500)


class EpochSampler:
    """Minibatch indices in the order of TF's ``DataSet.next_batch(batch_size, shuffle=True)``.

    A fresh permutation of ``range(n)`` is drawn from ``rng`` at the start of each epoch; batches are consecutive
    slices of it; a batch crossing the end of an epoch takes the epoch's remaining examples followed by the first
    ones of the next (reshuffled) epoch. ``rng`` is used only for the permutations.

    Args:
        n: number of training examples.
        rng: the Generator that draws the permutations (kept by reference).
    """

    def __init__(self, n: int, rng: np.random.Generator) -> None:
        if n <= 0:
            raise ValueError(f"cannot sample from an empty set (n={n})")
        self.n = int(n)
        self.rng = rng
        self.perm: np.ndarray | None = None
        self.pos = 0
        self.epochs_completed = 0

    def next_indices(self, batch_size: int) -> np.ndarray:
        """Indices of the next minibatch (``batch_size`` may exceed ``n``; it then spans several epochs)."""
        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        out = []
        need = int(batch_size)
        while need > 0:
            if self.perm is None or self.pos >= self.n:
                if self.perm is not None:
                    self.epochs_completed += 1
                self.perm = self.rng.permutation(self.n)
                self.pos = 0
            take = min(need, self.n - self.pos)
            out.append(self.perm[self.pos : self.pos + take])
            self.pos += take
            need -= take
        return np.concatenate(out)

    def state_dict(self) -> dict[str, Any]:
        """Position within the current epoch (the Generator's state is the caller's to save)."""
        return {
            "n": self.n,
            "perm": None if self.perm is None else self.perm.copy(),
            "pos": self.pos,
            "epochs_completed": self.epochs_completed,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if int(state["n"]) != self.n:
            raise ValueError(f"sampler state is for {state['n']} examples, this sampler has {self.n}")
        self.perm = None if state["perm"] is None else np.asarray(state["perm"], dtype=np.int64).copy()
        self.pos = int(state["pos"])
        self.epochs_completed = int(state["epochs_completed"])


class FiniteTrainingSet:
    """Mixin for tasks with a fixed finite training set of ``n_train`` examples drawn by an :class:`EpochSampler`.
    Subclasses implement ``train_batch``; the generic trainer's ``sample_batch`` is a training minibatch."""

    n_train: int
    _sampler: EpochSampler | None = None

    def train_batch(self, batch_size: int, rng: np.random.Generator) -> TaskBatch:
        raise NotImplementedError

    def sample_batch(self, batch_size: int, rng: np.random.Generator) -> TaskBatch:
        """The generic trainer's batch: a training minibatch (:meth:`train_batch`)."""
        return self.train_batch(batch_size, rng)

    def train_indices(self, batch_size: int, rng: np.random.Generator) -> np.ndarray:
        """Next minibatch indices into the training set; a new Generator object restarts the sampler."""
        if self._sampler is None or self._sampler.rng is not rng:
            self._sampler = EpochSampler(self.n_train, rng)
        return self._sampler.next_indices(batch_size)

    @property
    def epochs_completed(self) -> int:
        return 0 if self._sampler is None else self._sampler.epochs_completed

    def sampler_state(self) -> dict[str, Any] | None:
        """The sampler's position (``None`` before the first training batch); see :class:`EpochSampler`."""
        return None if self._sampler is None else self._sampler.state_dict()

    def load_sampler_state(self, state: dict[str, Any] | None, rng: np.random.Generator) -> None:
        """Restore a saved position and bind the sampler to ``rng`` (whose state the caller restores)."""
        if state is None:
            self._sampler = None
            return
        self._sampler = EpochSampler(self.n_train, rng)
        self._sampler.load_state_dict(state)


class GeneratedTrainingSet(FiniteTrainingSet):
    """Mixin for tasks of generated trials with a finite training set (:mod:`biocredit.tasks.cognitive`,
    :mod:`biocredit.tasks.pattern`).

    The ``n_train_trials`` training trials are generated once from the seed stream ``(seed, 0)`` and reused
    (minibatches by epoch reshuffling, :class:`EpochSampler`); :meth:`test_set` holds ``n_test`` trials from the
    stream ``(seed, 1)``; :meth:`test_batch` and :meth:`validation_batch` draw fresh trials
    from the ``rng`` given. Subclasses implement :meth:`generate`, set ``seed``, ``n_train_trials`` and ``n_test``,
    and then call :meth:`_generate_training_set` (last in ``__init__``, once :meth:`generate` can run).
    """

    seed: int
    n_train_trials: int
    n_test: int
    _test: tuple[TaskBatch, dict[str, np.ndarray]] | None = None

    def generate(self, n: int, rng: np.random.Generator) -> tuple[TaskBatch, dict[str, np.ndarray]]:
        """``n`` fresh trials from ``rng`` and their parameters."""
        raise NotImplementedError

    def _generate_training_set(self) -> None:
        self._train, self.train_info = self.generate(self.n_train_trials, np.random.default_rng([self.seed, 0]))
        self._test = None

    @property
    def n_train(self) -> int:  # type: ignore[override]
        return self.n_train_trials

    def train_batch(self, batch_size: int, rng: np.random.Generator) -> TaskBatch:
        """Next minibatch of the fixed training set (epoch reshuffling, see :class:`EpochSampler`)."""
        idx = torch.from_numpy(self.train_indices(batch_size, rng))
        b = self._train
        return TaskBatch(b.x[idx], b.y[idx], b.mask[idx], b.condition[idx])

    def train_set(self) -> TaskBatch:
        """All training trials (the same tensors on every call)."""
        return self._train

    def test_set(self) -> TaskBatch:
        """The fixed test set: ``n_test`` trials from the seed stream ``(seed, 1)`` (training's is ``(seed, 0)``)."""
        if self._test is None:
            self._test = self.generate(self.n_test, np.random.default_rng([self.seed, 1]))
        return self._test[0]

    @property
    def test_info(self) -> dict[str, np.ndarray]:
        self.test_set()
        assert self._test is not None
        return self._test[1]

    def test_batch(self, batch_size: int, rng: np.random.Generator) -> TaskBatch:
        """``batch_size`` fresh trials drawn from ``rng``."""
        return self.generate(batch_size, rng)[0]

    def validation_batch(self, batch_size: int, rng: np.random.Generator) -> TaskBatch:
        """Fresh trials from ``rng`` (same distribution as the test trials)."""
        return self.test_batch(batch_size, rng)


def masked_cross_entropy(output: torch.Tensor, batch: TaskBatch) -> torch.Tensor:
    """Softmax cross-entropy of the logits ``output (B, T, C)`` vs labels ``batch.y (B, T)``, averaged over entries
    where ``batch.mask`` is 1 (for a mask that is 1 only at the last step: the mean CE at the last step)."""
    n_classes = output.shape[-1]
    ce = F.cross_entropy(output.reshape(-1, n_classes), batch.y.reshape(-1), reduction="none")
    mask = batch.mask.reshape(-1).to(ce.dtype)
    return (ce * mask).sum() / mask.sum()


def masked_class_accuracy(output: torch.Tensor, batch: TaskBatch) -> float:
    """Fraction of masked (trial, step) entries whose argmax logit equals the label."""
    pred = output.detach().argmax(-1)
    sel = batch.mask > 0
    return float((pred[sel] == batch.y[sel]).double().mean())


def add_pixel_noise(images: np.ndarray, std: float, rng: np.random.Generator) -> np.ndarray:
    """``clip(images + N(0, std²), 0, 1)`` with i.i.d. noise per pixel, as float32."""
    noisy = np.asarray(images, dtype=np.float64) + rng.normal(0.0, std, size=np.shape(images))
    return np.clip(noisy, 0.0, 1.0).astype(np.float32)


class SequentialDigits(FiniteTrainingSet, EveryStepAnalysis, Task):
    """Row-by-row digit classification with a fixed training set, a validation set and a (noisy) test set.

    Args:
        train_images, validation_images, test_images: ``(n, H, W)`` pixel values in [0, 1].
        train_labels, validation_labels, test_labels: ``(n,)`` class labels in ``[0, n_classes)``.
        noise_std: σ of the pixel noise of the noisy test set (0.2 in the authors' code).
        noise_seed: seed of that noise (fixed, so evaluations are comparable).
        n_classes: number of classes (10).
        name: task name.
    """

    name = "smnist"
    n_out = 10
    dt_ms = 1.0

    def __init__(
        self,
        train_images: np.ndarray,
        train_labels: np.ndarray,
        validation_images: np.ndarray,
        validation_labels: np.ndarray,
        test_images: np.ndarray,
        test_labels: np.ndarray,
        *,
        noise_std: float = 0.2,
        noise_seed: int = 0,
        n_classes: int = 10,
        name: str = "smnist",
    ) -> None:
        self.name = name
        self.n_out = int(n_classes)
        self.noise_std = float(noise_std)
        self.noise_seed = int(noise_seed)
        self._data: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for split, (x, y) in {
            "train": (train_images, train_labels),
            "validation": (validation_images, validation_labels),
            "test": (test_images, test_labels),
        }.items():
            x = np.ascontiguousarray(x, dtype=np.float32)
            y = np.asarray(y, dtype=np.int64)
            if x.ndim != 3 or y.shape != (len(x),):
                raise ValueError(f"{split} images must be (n, H, W) and labels (n,); got {x.shape}, {y.shape}")
            if len(y) and (y.min() < 0 or y.max() >= self.n_out):
                raise ValueError(f"{split} labels must lie in [0, {self.n_out}), got {y.min()}..{y.max()}")
            if x.size and (x.min() < 0 or x.max() > 1):
                raise ValueError(f"{split} pixels must lie in [0, 1], got {x.min()}..{x.max()}")
            self._data[split] = (x, y)
        shapes = {x.shape[1:] for x, _ in self._data.values()}
        if len(shapes) != 1:
            raise ValueError(f"all splits must share one image size, got {sorted(shapes)}")
        if len(self._data["train"][0]) == 0:
            raise ValueError("the training set is empty")
        self.n_steps, self.n_in = self._data["train"][0].shape[1:]
        self._noisy_test: np.ndarray | None = None
        #: indices into the source data set of each split (set by :meth:`from_sklearn_digits`)
        self.split_indices: dict[str, np.ndarray] | None = None

    # ----------------------------------------------------------------- constructors
    @classmethod
    def from_mnist(
        cls,
        folder: str | os.PathLike,
        *,
        n_validation: int = 5000,
        n_train: int | None = None,
        n_test: int | None = None,
        noise_std: float = 0.2,
        noise_seed: int = 0,
    ) -> SequentialDigits:
        """MNIST from the four IDX files in ``folder``, split as TF's ``read_data_sets`` (55k/5k/10k).

        ``n_train`` / ``n_test`` keep only the first examples of those splits (smaller presets); ``None`` keeps all.
        """
        d = read_data_sets(folder, n_validation=n_validation)
        tr = slice(None) if n_train is None else slice(0, n_train)
        te = slice(None) if n_test is None else slice(0, n_test)
        return cls(
            d["train_images"][tr], d["train_labels"][tr],
            d["validation_images"], d["validation_labels"],
            d["test_images"][te], d["test_labels"][te],
            noise_std=noise_std, noise_seed=noise_seed, name="smnist",
        )

    @classmethod
    def from_sklearn_digits(
        cls,
        n_train: int = DIGITS_SPLIT[0],
        n_validation: int = DIGITS_SPLIT[1],
        n_test: int = DIGITS_SPLIT[2],
        *,
        seed: int = 0,
        noise_std: float = 0.2,
        noise_seed: int | None = None,
    ) -> SequentialDigits:
        """scikit-learn's 8×8 digits (UCI optdigits test part, 1,797 images, pixels 0–16 → /16), row by row.

        A permutation drawn from ``default_rng(seed)`` splits the images: its first ``n_test`` entries form the
        test set, the next ``n_validation`` the validation set, the next ``n_train`` the training set (defaults
        1000 / 297 / 500, all 1,797 images). The noisy test set's noise seed defaults to ``seed``.
        """
        from sklearn.datasets import load_digits

        digits = load_digits()
        images = (digits.images / 16.0).astype(np.float32)
        labels = digits.target.astype(np.int64)
        if min(n_train, n_validation, n_test) < 0 or n_train == 0:
            raise ValueError("split sizes must be non-negative and n_train positive")
        if n_train + n_validation + n_test > len(images):
            raise ValueError(
                f"n_train + n_validation + n_test = {n_train + n_validation + n_test} exceeds {len(images)} images"
            )
        perm = np.random.default_rng(seed).permutation(len(images))
        te, va = perm[:n_test], perm[n_test : n_test + n_validation]
        tr = perm[n_test + n_validation : n_test + n_validation + n_train]
        task = cls(
            images[tr], labels[tr], images[va], labels[va], images[te], labels[te],
            noise_std=noise_std, noise_seed=seed if noise_seed is None else noise_seed, name="sdigits",
        )
        task.split_indices = {"train": tr, "validation": va, "test": te}
        return task

    # ----------------------------------------------------------------- sizes
    @property
    def n_train(self) -> int:  # type: ignore[override]
        return len(self._data["train"][1])

    @property
    def n_validation(self) -> int:
        return len(self._data["validation"][1])

    @property
    def n_test(self) -> int:
        return len(self._data["test"][1])

    # ----------------------------------------------------------------- batches
    def encode(self, images: np.ndarray, labels: np.ndarray) -> TaskBatch:
        """Row-by-row batch: ``x[b, t, :] = images[b, t, :]``; label at every step; mask 1 at the last step only."""
        images = np.asarray(images, dtype=np.float32)
        labels = np.asarray(labels, dtype=np.int64)
        n, t_steps = len(labels), images.shape[1]
        mask = np.zeros((n, t_steps), dtype=np.float32)
        mask[:, -1] = 1.0
        return TaskBatch(
            x=torch.from_numpy(np.ascontiguousarray(images)),
            y=torch.from_numpy(np.repeat(labels[:, None], t_steps, axis=1)),
            mask=torch.from_numpy(mask),
            condition=torch.from_numpy(labels.copy()),
        )

    def _subset(self, images: np.ndarray, labels: np.ndarray, idx: np.ndarray | None) -> TaskBatch:
        if idx is None:
            return self.encode(images, labels)
        return self.encode(images[idx], labels[idx])

    @staticmethod
    def _random_idx(n: int, batch_size: int | None, rng: np.random.Generator | None) -> np.ndarray | None:
        """``batch_size`` distinct random indices (``None`` = the whole set, in order)."""
        if batch_size is None or batch_size >= n:
            return None
        if rng is None:
            raise ValueError("a random subset needs an rng")
        return np.sort(rng.choice(n, size=batch_size, replace=False))

    def train_batch(self, batch_size: int, rng: np.random.Generator) -> TaskBatch:
        """Next minibatch of the training set in TF ``next_batch`` order (see :class:`EpochSampler`)."""
        x, y = self._data["train"]
        return self._subset(x, y, self.train_indices(batch_size, rng))

    def train_set(self) -> TaskBatch:
        """The whole training set, in stored order."""
        return self.encode(*self._data["train"])

    def validation_set(self) -> TaskBatch:
        return self.encode(*self._data["validation"])

    def validation_batch(self, batch_size: int | None, rng: np.random.Generator | None = None) -> TaskBatch:
        """``batch_size`` distinct random validation images (the authors evaluate one random batch of 256)."""
        x, y = self._data["validation"]
        return self._subset(x, y, self._random_idx(len(y), batch_size, rng))

    def noisy_test_images(self) -> np.ndarray:
        """Test images with the task's fixed pixel noise (drawn once from ``noise_seed``, then cached)."""
        if self._noisy_test is None:
            self._noisy_test = add_pixel_noise(
                self._data["test"][0], self.noise_std, np.random.default_rng(self.noise_seed)
            )
        return self._noisy_test

    def test_set(self, noisy: bool = True) -> TaskBatch:
        """The whole test set: noise-corrupted (σ = ``noise_std``, fixed noise) by default, else clean."""
        x = self.noisy_test_images() if noisy else self._data["test"][0]
        return self.encode(x, self._data["test"][1])

    def test_batch(
        self, batch_size: int | None, rng: np.random.Generator | None = None, noisy: bool = True
    ) -> TaskBatch:
        """``batch_size`` distinct random test images (with the same fixed noise as :meth:`test_set`)."""
        x = self.noisy_test_images() if noisy else self._data["test"][0]
        y = self._data["test"][1]
        return self._subset(x, y, self._random_idx(len(y), batch_size, rng))

    def analysis_batch(self) -> TaskBatch:
        """The first clean test image of each class present, in class order."""
        x, y = self._data["test"]
        idx = np.array([np.flatnonzero(y == c)[0] for c in range(self.n_out) if np.any(y == c)], dtype=np.int64)
        return self.encode(x[idx], y[idx])

    # ----------------------------------------------------------------- scoring
    def loss(self, output: torch.Tensor, batch: TaskBatch) -> torch.Tensor:
        """Mean softmax cross-entropy at the last step (the masked step)."""
        return masked_cross_entropy(output, batch)

    def accuracy(self, output: torch.Tensor, batch: TaskBatch) -> float:
        """Argmax accuracy at the last step."""
        return masked_class_accuracy(output, batch)
