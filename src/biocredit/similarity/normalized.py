"""The "normalised-with-data" model-to-data distance (spec section 6.3).

A raw distance between a model and recorded neurons mixes how brain-like the model is with how well a finite,
noisy sample of neurons can be matched at all. The authors normalise by the split-half distance of the data
itself: per iteration the recorded units are split into two disjoint random halves ``idx1``, ``idx2`` of
``n_sample = floor(n_data / 2)`` units each, and

- ``d1 = d(data[idx1], data[idx2])``                  (data vs. data: a noise-ceiling-like reference),
- ``d2 = d(data[idx1], model[n_sample random units])`` (data vs. model, same number of units),
- ``d3 = d(data[idx1], crossCondAvg[idx2])``           (data vs. the cross-condition-average baseline),

giving the normalised distance ``(d2 - d1) / (1 - d1)`` and the baseline ``(d3 - d1) / (1 - d1)``: 0 means the
model is as close to the data as the data is to itself, 1 means maximally far. The distance ``d`` defaults to
the angular Procrustes shape distance (Williams et al. 2021, "Generalized shape metrics on neural
representations"; :func:`~biocredit.similarity.procrustes.procrustes_distance`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .baselines import cross_condition_average
from .procrustes import as_samples, procrustes_distance

__all__ = ["normalized_with_data"]


def normalized_with_data(
    model_rate: np.ndarray,
    data_rate: np.ndarray,
    n_iter: int = 100,
    seed: int = 0,
    metric: Callable[[np.ndarray, np.ndarray], float] = procrustes_distance,
) -> dict[str, float | np.ndarray]:
    """Model-to-data distance normalised by the data's own split-half distance (spec 6.3).

    Args:
        model_rate: model activity ``rate(unit, time, condition)``.
        data_rate: recorded activity ``rate(unit, time, condition)``; same ``(time, condition)`` as the model.
        n_iter: number of random splits (100 in the paper).
        seed: seed of ``numpy.random.default_rng`` (the authors use the model index ``imodel``).
        metric: distance between two samples × features matrices (rows ``(condition, time)`` as produced by
            :func:`~biocredit.similarity.procrustes.as_samples`), with values in ``[0, 1]``.

    Random draws, in this order per iteration, from one ``rng = numpy.random.default_rng(seed)``:

    1. ``perm = rng.permutation(n_data)``; ``idx1 = perm[:n_sample]``, ``idx2 = perm[n_sample:2 * n_sample]``
       with ``n_sample = n_data // 2``;
    2. if the model has at least ``n_sample`` units, ``model_idx = rng.choice(n_model, n_sample,
       replace=False)``; otherwise all model units are used and nothing is drawn.

    The cross-condition average is computed once, from all data units
    (:func:`~biocredit.similarity.baselines.cross_condition_average`).

    Returns:
        A dict with ``mean`` and ``std`` (population std, ``ddof=0``) of the per-iteration values
        ``(d2 - d1) / (1 - d1)``, ``values`` (array of length ``n_iter``), ``baseline_mean``, ``baseline_std``
        and ``baseline_values`` for ``(d3 - d1) / (1 - d1)``, and ``split_half`` (the ``d1`` values).

    Raises:
        ValueError: if the arrays are not 3-D, disagree in ``(time, condition)``, the data has fewer than 2
            units, or ``n_iter < 1``.
    """
    model_rate = np.asarray(model_rate, dtype=np.float64)
    data_rate = np.asarray(data_rate, dtype=np.float64)
    for name, r in (("model_rate", model_rate), ("data_rate", data_rate)):
        if r.ndim != 3:
            raise ValueError(f"{name} must have shape (unit, time, condition); got {r.shape}")
    if model_rate.shape[1:] != data_rate.shape[1:]:
        raise ValueError(
            f"model and data must agree in (time, condition); got {model_rate.shape} and {data_rate.shape}"
        )
    n_data = data_rate.shape[0]
    n_model = model_rate.shape[0]
    if n_data < 2:
        raise ValueError(f"the data needs at least 2 units to be split in halves; got {n_data}")
    if n_iter < 1:
        raise ValueError(f"n_iter must be positive; got {n_iter}")
    n_sample = n_data // 2

    data_s = as_samples(data_rate)  # (T*C, n_data); unit selection = column selection
    model_s = as_samples(model_rate)
    avg_s = as_samples(cross_condition_average(data_rate))

    rng = np.random.default_rng(seed)
    values = np.empty(n_iter)
    baseline = np.empty(n_iter)
    split_half = np.empty(n_iter)
    for i in range(n_iter):
        perm = rng.permutation(n_data)
        idx1, idx2 = perm[:n_sample], perm[n_sample : 2 * n_sample]
        if n_model >= n_sample:
            model_idx = rng.choice(n_model, size=n_sample, replace=False)
        else:
            model_idx = np.arange(n_model)
        half1 = data_s[:, idx1]
        # np.float64 so that d1 == 1 gives inf/nan rather than ZeroDivisionError.
        d1 = np.float64(metric(half1, data_s[:, idx2]))
        d2 = np.float64(metric(half1, model_s[:, model_idx]))
        d3 = np.float64(metric(half1, avg_s[:, idx2]))
        split_half[i] = d1
        with np.errstate(divide="ignore", invalid="ignore"):
            values[i] = (d2 - d1) / (1.0 - d1)
            baseline[i] = (d3 - d1) / (1.0 - d1)
    return {
        "mean": float(np.mean(values)),
        "std": float(np.std(values)),
        "values": values,
        "baseline_mean": float(np.mean(baseline)),
        "baseline_std": float(np.std(baseline)),
        "baseline_values": baseline,
        "split_half": split_half,
    }
