"""Procrustes shape distance (Williams et al. 2021, "Generalized shape metrics on neural representations")
between ``rate(unit, time, condition)`` arrays, and the baselines it is read against."""

from .baselines import (
    cross_condition_average,
    cross_condition_baseline,
    split_half_distances,
    split_half_indices,
)
from .cca import canonical_correlations, cca_distance
from .cka import angular_cka_distance, cka_distance, linear_cka
from .compare import checkpoint_distances, data_baselines
from .normalized import normalized_with_data
from .procrustes import as_samples, procrustes_distance, shape_distance

__all__ = [
    "as_samples",
    "procrustes_distance",
    "shape_distance",
    "cross_condition_average",
    "cross_condition_baseline",
    "split_half_indices",
    "split_half_distances",
    "checkpoint_distances",
    "data_baselines",
    "linear_cka",
    "cka_distance",
    "angular_cka_distance",
    "canonical_correlations",
    "cca_distance",
    "normalized_with_data",
]
