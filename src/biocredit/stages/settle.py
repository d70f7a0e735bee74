"""Stages of ``rules/settle.smk``: one look of the ``settle`` target (the claims of study A still inconclusive,
computed again on more seeds at the look's interval level) and the settled claims (:mod:`biocredit.claims.settle`).
"""

from __future__ import annotations

import json
from pathlib import Path

from biocredit.claims import study_a
from biocredit.claims.settle import final_rows, record_look
from biocredit.dynamics import activity_at_level, level_accuracy, pairwise_dynamics
from biocredit.io import write_json
from biocredit.similarity.matched import stack_run_files, stack_runs
from biocredit.stages.job import load_netcdf as _load

__all__ = ["settle_look", "settle_claims", "claim_ids"]


def claim_ids(dataset: str, sensitivity: dict | None) -> list[str]:
    """The claims of a dataset that the settle target decides (A4 has no interval: it is not among them)."""
    ids = [f"{f}-{dataset}" for f in ("A2", "A3", "A5", "A6", "A7")]
    if sensitivity:
        ids += [f"A2-{dataset}-equal-lr", f"A3-{dataset}-equal-lr"]
    return sorted(ids)




def settle_look(runs: list[str], metrics: list[str], normalized: list[str], activities: list[str],
                previous: str | None, out: str, *, dataset: str, look: int, plan: dict, arch: str, rules: list[str],
                sensitivity: dict[str, str], n_grid: int, fractions: list[float], margin: float,
                margins: dict[str, float], dynamics: dict, baseline_sesoi: float, verdicts: dict,
                preset: str) -> None:
    """Look ``look`` (1-based) of the settle target for one dataset: the claims still pending after the previous
    look (all at the first) computed on the runs given, their intervals at the look's level; writes the state
    (:func:`biocredit.claims.settle.record_look`)."""
    prev = json.loads(Path(previous).read_text()) if previous else None
    pending = set(prev["pending"]) if prev else set(claim_ids(dataset, sensitivity))
    level = plan["levels"][int(look) - 1]
    common = dict(dataset=dataset, preset=f"{preset}, settle look {look}", verdicts=verdicts)
    summary = stack_run_files(runs, metrics).sel(arch=[arch])
    sens_rules = [sensitivity.get(r, r) for r in rules]
    note = f"sensitivity row: {', '.join(f'{r} as {n}' for r, n in sensitivity.items())}"
    rows = {}
    for suffix, compared in [("", rules)] + ([("-equal-lr", sens_rules)] if sensitivity else []):
        extra = {"id_suffix": suffix, "note": note} if suffix else {}
        if f"A2-{dataset}{suffix}" in pending:
            rows[f"A2-{dataset}{suffix}"] = study_a.claim_a2(summary, arch=arch, rules=compared, n_grid=n_grid,
                                                             margin=margin, level=level, **common, **extra)[0]
        if f"A3-{dataset}{suffix}" in pending:
            rows[f"A3-{dataset}{suffix}"] = study_a.claim_a3(summary, arch=arch, rules=compared,
                                                             fractions=fractions, margin=margin, level=level,
                                                             **common, **extra)[0]
    main = summary.sel(rule=rules)
    if f"A6-{dataset}" in pending:
        rows[f"A6-{dataset}"] = study_a.claim_a6(main, arch=arch, rules=rules, n_grid=n_grid, margins=margins,
                                                 level=level, **common)[0]
    if f"A7-{dataset}" in pending:
        with_data = stack_runs([_load(p) for p in normalized]).sel(arch=arch).sel(rule=rules)
        rows[f"A7-{dataset}"] = study_a.claim_a7(with_data, rules=rules, sesoi=baseline_sesoi, level=level, **common)
    if f"A5-{dataset}" in pending:
        target = level_accuracy(main, dynamics["level"])
        rates = {k: rate for k, (_, _, rate) in activity_at_level(activities, target, rules).items()}
        pairs = pairwise_dynamics(rates, rank=dynamics["rank"], dsa=dynamics.get("dsa"))
        rows[f"A5-{dataset}"] = study_a.claim_a5(main, pairs, rules=rules, level=dynamics["level"],
                                                 margin=dynamics["margin"], rank=dynamics["rank"],
                                                 dsa=dynamics.get("dsa"), ci_level=level, **common)
    write_json(record_look(prev, rows, look=int(look), plan_=plan), out)


def settle_claims(states: list[str], out: str) -> None:
    """The settled claim rows of every dataset (each with its looks) from each dataset's final look."""
    write_json(final_rows([json.loads(Path(p).read_text()) for p in states]), out)
