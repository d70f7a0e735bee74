"""Seeds only where a claim is undecided: the plan and the bookkeeping of the ``settle`` target.

The first look is at the preset's seeds; each further look adds ``batch`` seeds per rule, up to ``max_seeds``. At look
``k`` every claim still inconclusive is computed again on all seeds so far, its interval at the look's level
(:func:`biocredit.sequential.look_levels`: the error rate ``1 − level`` spent over the planned looks, so that the
verdicts of all looks together keep it). A claim whose verdict is holds, fails or not testable is settled and keeps
that look's row; the others go on to the next look, and after the last look keep their last row, inconclusive.
Each final row records its ``looks`` (look, runs per rule, interval level, verdict, value, CI) and its ``n``.
"""

from __future__ import annotations

from biocredit.claims import FAILS, HOLDS, INCONCLUSIVE, NOT_TESTABLE
from biocredit.sequential import look_levels, look_sizes

__all__ = ["plan", "look_seeds", "record_look", "final_rows"]

SETTLED = (HOLDS, FAILS, NOT_TESTABLE)


def plan(n_seeds: int, *, batch: int, max_seeds: int, level: float, spending: str) -> dict:
    """The looks: seeds per rule at each (``sizes``), information fractions and each look's confidence level."""
    if max_seeds < n_seeds:
        raise ValueError(f"settle.max_seeds ({max_seeds}) is below the preset's {n_seeds} seeds per rule")
    sizes = look_sizes(n_seeds, batch, max_seeds)
    fractions = [s / sizes[-1] for s in sizes]
    levels = [float(x) for x in look_levels(fractions, 1.0 - level, spending)]
    return {"sizes": sizes, "fractions": fractions, "levels": levels, "spending": spending, "level": level}


def look_seeds(seeds: list[int], size: int) -> list[int]:
    """The first ``size`` seeds of the preset's ``seeds`` followed by new ones (one past the largest, upward)."""
    seeds = [int(s) for s in seeds]
    extra = list(range(max(seeds) + 1, max(seeds) + 1 + max(0, size - len(seeds))))
    return (seeds + extra)[:size]


def record_look(previous: dict | None, rows: dict[str, dict], *, look: int, plan_: dict) -> dict:
    """The state after look ``look`` (1-based): every claim's latest row and its looks so far, which claims are still
    pending, and whether the target is done (nothing pending, or the last look)."""
    state = {"look": look, "plan": plan_, "rows": dict((previous or {}).get("rows", {})),
             "looks": {k: list(v) for k, v in (previous or {}).get("looks", {}).items()}}
    for cid, row in rows.items():
        state["rows"][cid] = row
        state["looks"].setdefault(cid, []).append(
            {"look": look, "n_per_rule": plan_["sizes"][look - 1], "ci_level": plan_["levels"][look - 1],
             "verdict": row["verdict"], "value": row.get("value"), "ci": row.get("ci"), "n": row.get("n")})
    state["pending"] = sorted(cid for cid, row in state["rows"].items() if row["verdict"] not in SETTLED)
    state["done"] = not state["pending"] or look >= len(plan_["sizes"])
    return state


def final_rows(states: list[dict]) -> list[dict]:
    """Each claim's settled row (or its last, inconclusive one) with ``looks`` and ``settled_at``, from the final
    state of every dataset."""
    out = []
    for state in states:
        for cid, row in sorted(state["rows"].items()):
            looks = state["looks"][cid]
            settled = row["verdict"] in SETTLED
            out.append(row | {"looks": looks, "settled_at": looks[-1]["look"] if settled else None,
                              "settle": {"spending": state["plan"]["spending"], "sizes": state["plan"]["sizes"],
                                         "levels": state["plan"]["levels"],
                                         "still": None if settled else INCONCLUSIVE}})
    return sorted(out, key=lambda r: r["id"])
