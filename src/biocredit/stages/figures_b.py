"""Stages of ``rules/figures_b.smk``: study B's figures B1–B7. Each function reads a task's summary and the figure's
claim row (written by the claim job, ``stages/claims_b.py``), draws them with
:mod:`biocredit.figures.generalization` and writes the figure (PNG, PDF); it computes no statistic. B1–B4 and B7
are drawn for every task, B5 and B6 for the remedies task."""

from __future__ import annotations

from biocredit.figures import generalization as fg
from biocredit.figures.style import save
from biocredit.runs import terms_axis
from biocredit.stages.job import load_json, load_netcdf

__all__ = ["figure_b1", "figure_b2", "figure_b3", "figure_b4", "figure_b5", "figure_b6", "figure_b7"]


def _read(summary: str, claim: str):
    return load_netcdf(summary), load_json(claim)


def figure_b1(summary: str, claim: str, out_png: str, out_pdf: str, *, task: str, rules: list[str]) -> None:
    """B1: training and held-out performance over training per rule."""
    ds, row = _read(summary, claim)
    save(fg.training_curves(ds, rules, task, row), out_png, out_pdf)


def figure_b2(summary: str, claim: str, out_png: str, out_pdf: str, *, task: str, rules: list[str]) -> None:
    """B2: the generalization gap per rule."""
    ds, row = _read(summary, claim)
    save(fg.gap_by_rule(ds, rules, task, row), out_png, out_pdf)


def figure_b3(summary: str, claim: str, out_png: str, out_pdf: str, *, task: str, rules: list[str],
              lr: float) -> None:
    """B3: the top Hessian eigenvalue per rule over training, with the stability bound 2/``lr``."""
    ds, row = _read(summary, claim)
    save(fg.curvature_by_rule(ds, rules, task, lr, row), out_png, out_pdf)


def figure_b4(summary: str, claim: str, out_png: str, out_pdf: str, *, task: str, rules: list[str]) -> None:
    """B4: the gap against the top eigenvalue over runs, titled with the claim row's correlations."""
    ds, row = _read(summary, claim)
    save(fg.gap_vs_curvature(ds, rules, task, row), out_png, out_pdf)


def figure_b5(summary: str, claim: str, out_png: str, out_pdf: str, *, task: str, lr_rules: list[str]) -> None:
    """B5: curvature against the learning rate and the bound 2/η."""
    ds, row = _read(summary, claim)
    save(fg.curvature_vs_lr(ds, lr_rules, task, row), out_png, out_pdf)


def figure_b6(summary: str, claim: str, out_png: str, out_pdf: str, *, task: str, lr_rules: list[str],
              windows: list[int]) -> None:
    """B6: the remedies (learning rate, gradient terms kept)."""
    ds, row = _read(summary, claim)
    save(fg.remedies(ds, lr_rules, terms_axis(windows), task, row), out_png, out_pdf)


def figure_b7(summary: str, claim: str, out_png: str, out_pdf: str, *, task: str, rules: list[str]) -> None:
    """B7: Hessian trace, spectral density and gradient alignment."""
    ds, row = _read(summary, claim)
    save(fg.diagnostics(ds, rules, task, row), out_png, out_pdf)
