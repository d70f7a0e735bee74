"""Stages of ``rules/figures_b.smk``: study B's figures B1–B7, each with its claim row. Each function reads a
task's summary, asks :mod:`biocredit.claims.study_b` for the row, draws the figure from the summary and the row
(:mod:`biocredit.figures.generalization`) and writes the figure (PNG, PDF) and the row (JSON). B1–B4 and B7 are
drawn for every task, B5 and B6 for the remedies task."""

from __future__ import annotations

from biocredit.claims import study_b
from biocredit.figures import generalization as fg
from biocredit.figures.style import save
from biocredit.io import write_json
from biocredit.runs import terms_axis
from biocredit.stages._job import load_netcdf as _load

__all__ = ["figure_b1", "figure_b2", "figure_b3", "figure_b4", "figure_b5", "figure_b6", "figure_b7"]


def _write(fig, row: dict, out_png: str, out_pdf: str, out_claim: str) -> None:
    save(fig, out_png, out_pdf)
    write_json(row, out_claim)


def figure_b1(summary: str, out_png: str, out_pdf: str, out_claim: str, *, task: str, rules: list[str],
              groups: dict, thresholds: dict, preset: str) -> None:
    """B1: training and held-out performance over training per rule; claim: comparable training performance."""
    ds = _load(summary)
    row = study_b.claim_b1(ds, task=task, groups=groups, thresholds=thresholds, preset=preset)
    _write(fg.training_curves(ds, rules, task, row), row, out_png, out_pdf, out_claim)


def figure_b2(summary: str, out_png: str, out_pdf: str, out_claim: str, *, task: str, rules: list[str],
              groups: dict, thresholds: dict, preset: str) -> None:
    """B2: the generalization gap per rule; claim: bio rules generalize worse and more variably."""
    ds = _load(summary)
    row = study_b.claim_b2(ds, task=task, groups=groups, thresholds=thresholds, preset=preset)
    _write(fg.gap_by_rule(ds, rules, task, row), row, out_png, out_pdf, out_claim)


def figure_b3(summary: str, out_png: str, out_pdf: str, out_claim: str, *, task: str, rules: list[str],
              groups: dict, thresholds: dict, lr: float, preset: str) -> None:
    """B3: the top Hessian eigenvalue per rule over training, with the stability bound 2/``lr``; claim: bio rules
    reach higher curvature."""
    ds = _load(summary)
    row = study_b.claim_b3(ds, task=task, groups=groups, thresholds=thresholds, preset=preset)
    _write(fg.curvature_by_rule(ds, rules, task, lr, row), row, out_png, out_pdf, out_claim)


def figure_b4(summary: str, out_png: str, out_pdf: str, out_claim: str, *, task: str, rules: list[str],
              groups: dict, thresholds: dict, preset: str) -> None:
    """B4: the gap against the top eigenvalue over runs; claim: they correlate."""
    ds = _load(summary)
    row = study_b.claim_b4(ds, task=task, groups=groups, thresholds=thresholds, preset=preset)
    _write(fg.gap_vs_curvature(ds, rules, task, row), row, out_png, out_pdf, out_claim)


def figure_b5(summary: str, out_png: str, out_pdf: str, out_claim: str, *, task: str, reference: str,
              lr_rules: list[str], tolerance: float, thresholds: dict, preset: str) -> None:
    """B5: curvature against the learning rate and the bound 2/η; claim: the reference stays near it."""
    ds = _load(summary)
    row = study_b.claim_b5(ds, task=task, reference=reference, lr_rules=lr_rules, tolerance=tolerance,
                           thresholds=thresholds, preset=preset)
    _write(fg.curvature_vs_lr(ds, lr_rules, task, row), row, out_png, out_pdf, out_claim)


def figure_b6(summary: str, out_png: str, out_pdf: str, out_claim: str, *, task: str, reference: str,
              lr_rules: list[str], windows: list[int], thresholds: dict, preset: str) -> None:
    """B6: the remedies (learning rate, gradient terms kept); claim: they lower curvature and the gap."""
    ds = _load(summary)
    row = study_b.claim_b6(ds, task=task, reference=reference, lr_rules=lr_rules, windows=windows,
                           thresholds=thresholds, preset=preset)
    _write(fg.remedies(ds, lr_rules, terms_axis(windows), task, row), row, out_png, out_pdf, out_claim)


def figure_b7(summary: str, out_png: str, out_pdf: str, out_claim: str, *, task: str, rules: list[str],
              groups: dict, thresholds: dict, preset: str) -> None:
    """B7: Hessian trace, spectral density and gradient alignment; claim: the trace is higher too."""
    ds = _load(summary)
    row = study_b.claim_b7(ds, task=task, groups=groups, thresholds=thresholds, preset=preset)
    _write(fg.diagnostics(ds, rules, task, row), row, out_png, out_pdf, out_claim)
