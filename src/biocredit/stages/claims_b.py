"""Stages of ``rules/claims_b.smk``: study B's claim rows B1–B7, one function per rule. Each reads a task's summary
(``results/generalization/{task}/summary.nc``), asks :mod:`biocredit.claims.study_b` for the row and writes it
(JSON). No drawing: the figure jobs (``stages/figures_b.py``) read the row written here."""

from __future__ import annotations

from biocredit.claims import study_b
from biocredit.io import write_json
from biocredit.stages.job import load_netcdf

__all__ = ["claim_b1", "claim_b2", "claim_b3", "claim_b4", "claim_b5", "claim_b6", "claim_b7"]


def _group_claim(name: str, doc: str):
    """The stage of a claim that reads the summary with the config's groups and thresholds (B1–B4, B7)."""
    claim = getattr(study_b, name)

    def stage(summary: str, out_claim: str, *, task: str, groups: dict, thresholds: dict, preset: str) -> None:
        write_json(claim(load_netcdf(summary), task=task, groups=groups, thresholds=thresholds, preset=preset),
                   out_claim)

    stage.__name__ = stage.__qualname__ = name
    stage.__doc__ = doc
    return stage


claim_b1 = _group_claim("claim_b1", "B1: comparable training performance.")
claim_b2 = _group_claim("claim_b2", "B2: bio rules generalize worse and more variably.")
claim_b3 = _group_claim("claim_b3", "B3: bio rules reach higher curvature (top Hessian eigenvalue).")
claim_b4 = _group_claim("claim_b4", "B4: the gap correlates with the top eigenvalue over runs.")
claim_b7 = _group_claim("claim_b7", "B7: the higher curvature shows in the Hessian trace too.")


def claim_b5(summary: str, out_claim: str, *, task: str, reference: str, lr_rules: list[str], tolerance: float,
             thresholds: dict, preset: str) -> None:
    """B5: the reference stays near the stability bound 2/η across learning rates."""
    write_json(study_b.claim_b5(load_netcdf(summary), task=task, reference=reference, lr_rules=lr_rules,
                                tolerance=tolerance, thresholds=thresholds, preset=preset), out_claim)


def claim_b6(summary: str, out_claim: str, *, task: str, reference: str, lr_rules: list[str], windows: list[int],
             thresholds: dict, preset: str) -> None:
    """B6: the remedies (learning rate, gradient terms kept) lower curvature and the gap."""
    write_json(study_b.claim_b6(load_netcdf(summary), task=task, reference=reference, lr_rules=lr_rules,
                                windows=windows, thresholds=thresholds, preset=preset), out_claim)
