"""Stages of ``rules/claims_a.smk``: study A's claim rows A2–A7, one function per rule. Each reads its summaries,
asks :mod:`biocredit.claims.study_a` for the row and writes it (JSON); A2 and A3 also write their
equal-learning-rate sensitivity rows (a list; empty when the config has no such runs). No drawing: the figure jobs
(``stages/figures_a.py``) read the rows written here."""

from __future__ import annotations

from biocredit.claims import study_a
from biocredit.io import write_json
from biocredit.similarity.matched import stack_runs
from biocredit.stages.job import load_netcdf

__all__ = ["claim_a2", "claim_a3", "claim_a4", "claim_a5", "claim_a6", "claim_a7"]


def _sensitivity_rules(rules: list[str], sensitivity: dict[str, str] | None) -> list[str]:
    """The compared rules with each rule that has an equal-learning-rate run replaced by that run's name."""
    return [(sensitivity or {}).get(r, r) for r in rules]


def _sensitivity_note(rules: list[str], sensitivity: dict[str, str]) -> str:
    runs = ", ".join(f"{r} as {name}" for r, name in sensitivity.items() if r in rules)
    return (f"sensitivity row: every rule at the study's learning rate ({runs}) instead of the pairing of "
            "similarity.rule_training")


def _write_with_sensitivity(claim, summary_ds, out_claim: str, out_sensitivity: str, rules: list[str],
                            sensitivity: dict[str, str] | None, common: dict) -> None:
    """Write ``claim``'s row on ``rules`` and, with ``sensitivity``, the same claim with each rule's equal-lr run."""
    row = claim(summary_ds, rules=rules, **common)[0]
    extra = [claim(summary_ds, rules=_sensitivity_rules(rules, sensitivity), id_suffix="-equal-lr",
                   note=_sensitivity_note(rules, sensitivity), **common)[0]] if sensitivity else []
    write_json(row, out_claim)
    write_json(extra, out_sensitivity)


def claim_a2(summary: str, out_claim: str, out_sensitivity: str, *, dataset: str, arch: str, rules: list[str],
             n_grid: int, margin: float, preset: str, verdicts: dict | None = None,
             sensitivity: dict[str, str] | None = None) -> None:
    """A2 for one dataset (e-prop's distance matches BPTT's at matched accuracy) and, with ``sensitivity`` (rule →
    equal-learning-rate run name), its sensitivity rows."""
    common = dict(dataset=dataset, arch=arch, n_grid=n_grid, margin=margin, preset=preset, verdicts=verdicts)
    _write_with_sensitivity(study_a.claim_a2, load_netcdf(summary, arch), out_claim, out_sensitivity, rules,
                            sensitivity, common)


def claim_a3(summary: str, out_claim: str, out_sensitivity: str, *, dataset: str, arch: str, rules: list[str],
             fractions: list[float], margin: float, preset: str, verdicts: dict | None = None,
             sensitivity: dict[str, str] | None = None) -> None:
    """A3 for one dataset (no meaningful difference at matched accuracy levels) and, with ``sensitivity``, its
    equal-learning-rate rows."""
    common = dict(dataset=dataset, arch=arch, fractions=fractions, margin=margin, preset=preset, verdicts=verdicts)
    _write_with_sensitivity(study_a.claim_a3, load_netcdf(summary, arch), out_claim, out_sensitivity, rules,
                            sensitivity, common)


def claim_a4(summary: str, out_claim: str, *, dataset: str, archs: dict[str, dict], rules: list[str], level: float,
             preset: str) -> None:
    """A4: initialisation and architecture explain more of the distance at a matched level than the rule (the
    rules of the grid: sensitivity runs of the summary are left out)."""
    write_json(study_a.claim_a4(load_netcdf(summary), dataset=dataset, archs=archs, level=level, preset=preset,
                                rules=rules)[0], out_claim)


def claim_a5(summary: str, dynamics: str, out_claim: str, *, dataset: str, arch: str, rules: list[str],
             level: float, margin: float, rank: int, preset: str, dsa: dict | None = None,
             verdicts: dict | None = None) -> None:
    """A5: similar dynamics at matched accuracy, tested on the pairwise DSA distances of the ``dynamics`` summary
    (rule ``network_dynamics``)."""
    write_json(study_a.claim_a5(load_netcdf(summary, arch).sel(rule=rules), load_netcdf(dynamics), dataset=dataset,
                                rules=rules, level=level, margin=margin, rank=rank, preset=preset, dsa=dsa,
                                verdicts=verdicts), out_claim)


def claim_a6(summary: str, out_claim: str, *, dataset: str, arch: str, rules: list[str], n_grid: int,
             margins: dict[str, float], preset: str, verdicts: dict | None = None) -> None:
    """A6: A2's verdict under Procrustes, CKA and CCA distances does not depend on the metric."""
    write_json(study_a.claim_a6(load_netcdf(summary, arch).sel(rule=rules), dataset=dataset, arch=arch, rules=rules,
                                n_grid=n_grid, margins=margins, preset=preset, verdicts=verdicts)[0], out_claim)


def claim_a7(runs: list[str], out_claim: str, *, dataset: str, arch: str, rules: list[str], preset: str,
             sesoi: float = 0.0, verdicts: dict | None = None) -> None:
    """A7: at their best checkpoints, every rule's runs are closer to the data than the normalised cross-condition
    baseline."""
    summary = stack_runs([load_netcdf(p) for p in runs]).sel(arch=arch).sel(rule=rules)
    write_json(study_a.claim_a7(summary, dataset=dataset, rules=rules, preset=preset, sesoi=sesoi,
                                verdicts=verdicts), out_claim)
