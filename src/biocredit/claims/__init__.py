"""Claim rows for ``results/claims.json``: each a measured statistic with its verdict, never a typed result.

Verdicts have three values (:data:`VERDICTS`): ``holds``, ``fails`` and ``inconclusive`` (an effect on its
margin, or too few runs to say), plus ``not testable`` where the grid cannot test a claim at all. They are read off
the interval a row stores, against thresholds stated in the config before any data:

- equivalence claims (:func:`equivalence_verdict`): holds when the CI lies within ±margin, fails when it lies
  entirely outside, inconclusive otherwise;
- directional claims (:func:`directional_verdict`): holds when the CI lies beyond the smallest effect of interest
  on the predicted side (with 0 as that effect: significant in the predicted direction); fails when the CI lies
  short of it (the effect is absent, reversed, or too small to matter); inconclusive when the CI holds it;
- composite claims (:func:`combine`): holds when every part holds, fails when any part fails, else inconclusive.

No verdict turns on float rounding: interval ends are compared with a tolerance (:data:`ROUNDING`), so a CI end
of −0.050000000000000155 lies on the margin ±0.05, not outside it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

__all__ = [
    "HOLDS",
    "FAILS",
    "INCONCLUSIVE",
    "NOT_TESTABLE",
    "VERDICTS",
    "ROUNDING",
    "UNTESTABLE",
    "claim_row",
    "collect_claims",
    "combine",
    "directional_verdict",
    "equivalence_holds",
    "equivalence_verdict",
    "untestable_reason",
]

HOLDS, FAILS, INCONCLUSIVE, NOT_TESTABLE = "holds", "fails", "inconclusive", "not testable"
VERDICTS = (HOLDS, FAILS, INCONCLUSIVE, NOT_TESTABLE)
#: absolute tolerance of every comparison of an interval end with a threshold (float rounding, not statistics)
ROUNDING = 1e-9

REQUIRED = ("id", "figure", "study", "claim", "statistic", "value", "n", "preset", "holds")
_FROM_BOOL = {True: HOLDS, False: FAILS, None: NOT_TESTABLE}
#: how the note of a claim the grid cannot test begins (``holds`` null); :func:`untestable_reason` reads it back
UNTESTABLE = "not testable on this grid: "


def _clean(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if hasattr(v, "item"):
        return _clean(v.item())
    return v


def claim_row(**fields) -> dict:
    """A claims.json row; checks the required fields are present. Non-finite numbers become ``null``.

    The verdict is ``verdict=`` (one of :data:`VERDICTS`) or, for rows not yet three-valued, ``holds=`` (True →
    holds, False → fails, None → not testable). The row stores both: ``verdict`` and ``holds`` (True when it
    holds, False when it fails, None when inconclusive or not testable). A row that is not testable (e.g. A4 on
    one arch row) must say why in ``note``, beginning with :data:`UNTESTABLE`."""
    fields = dict(fields)
    if "verdict" in fields:
        verdict = fields["verdict"]
        if verdict not in VERDICTS:
            raise ValueError(f"claim row {fields.get('id')}: verdict {verdict!r} is not one of {VERDICTS}")
        fields["holds"] = {HOLDS: True, FAILS: False}.get(verdict)
    elif "holds" in fields:
        fields["verdict"] = _FROM_BOOL[None if fields["holds"] is None else bool(fields["holds"])]
    missing = [k for k in REQUIRED if k not in fields]
    if missing:
        raise ValueError(f"claim row lacks {missing}")
    if fields["verdict"] == NOT_TESTABLE and not str(fields.get("note") or "").startswith(UNTESTABLE):
        raise ValueError(f"claim row {fields['id']}: an untestable claim needs a note saying why, "
                         f"beginning {UNTESTABLE!r}")
    row = {k: _clean(v) for k, v in fields.items()}
    row["holds"] = None if fields["holds"] is None else bool(fields["holds"])
    return row


def untestable_reason(row: dict) -> str | None:
    """Why the grid cannot test the claim of ``row`` (the first clause of its note, without the
    :data:`UNTESTABLE` prefix), or None when the row has a verdict."""
    if row.get("verdict", NOT_TESTABLE if row.get("holds") is None else HOLDS) != NOT_TESTABLE:
        return None
    return (row.get("note") or "no reason recorded").split(";")[0].removeprefix(UNTESTABLE)


def _finite_ci(ci) -> tuple[float, float] | None:
    lo, hi = (float("nan") if v is None else float(v) for v in ci)
    return (lo, hi) if math.isfinite(lo) and math.isfinite(hi) else None


def equivalence_verdict(ci, margin: float, *, enough: bool = True) -> str:
    """Equivalence by confidence interval: ``holds`` when the CI of a difference lies within ±``margin``,
    ``fails`` when it lies entirely outside (beyond +margin or below −margin), ``inconclusive`` when it crosses a
    margin or is not finite, or when ``enough`` is False (fewer runs than the minimum per group, e.g. the
    ``enough`` of :func:`biocredit.stats.mean_difference_ci`). Ends within :data:`ROUNDING` of a margin count as on
    it (inside)."""
    c = _finite_ci(ci)
    if c is None or not enough:
        return INCONCLUSIVE
    lo, hi = c
    m = abs(float(margin))
    if lo >= -m - ROUNDING and hi <= m + ROUNDING:
        return HOLDS
    if lo > m + ROUNDING or hi < -m - ROUNDING:
        return FAILS
    return INCONCLUSIVE


def equivalence_holds(ci, margin: float) -> bool:
    """Whether the whole CI of a difference lies within ±margin (:func:`equivalence_verdict` is ``holds``)."""
    return equivalence_verdict(ci, margin) == HOLDS


def directional_verdict(ci, *, sesoi: float = 0.0, direction: int = 1, enough: bool = True) -> str:
    """Verdict on a directional claim "the effect is > 0" (``direction=1``) or "< 0" (``direction=-1``) from the
    CI of the effect and the smallest effect of interest ``sesoi`` (≥ 0, in the effect's units):

    - ``holds``: the CI lies beyond ``sesoi`` on the predicted side (every effect it allows is at least the
      smallest of interest; with ``sesoi = 0``: significant in the predicted direction);
    - ``fails``: the CI lies short of ``sesoi`` (the effect is reversed, absent or smaller than what matters: the
      CI excludes the smallest effect of interest; with ``sesoi = 0``: significant in the other direction);
    - ``inconclusive``: otherwise (the CI holds ``sesoi``), a non-finite CI, or ``enough`` False (fewer runs than
      the minimum per group).

    ``holds`` and ``fails`` thus say on which side of ``sesoi`` the effect lies, so two intervals that both cover
    the true effect can never give one ``holds`` and the other ``fails``, and a narrower interval (more runs) never
    reverses a decided verdict. (A rule "holds when the CI excludes 0" would: an effect between 0 and ``sesoi``
    holds on a wide interval, then fails once the interval is narrow enough to exclude ``sesoi``.) Ends within
    :data:`ROUNDING` of ``sesoi`` count as touching it (inconclusive)."""
    if direction not in (1, -1):
        raise ValueError(f"direction must be 1 or -1, got {direction!r}")
    if sesoi < 0 or not math.isfinite(sesoi):
        raise ValueError(f"sesoi must be a finite number >= 0, got {sesoi!r}")
    c = _finite_ci(ci)
    if c is None or not enough:
        return INCONCLUSIVE
    lo, hi = sorted((direction * c[0], direction * c[1]))
    if hi < sesoi - ROUNDING:
        return FAILS
    if lo > sesoi + ROUNDING:
        return HOLDS
    return INCONCLUSIVE


def combine(verdicts) -> str:
    """A composite claim's verdict from its parts' (rule: holds when every part holds, fails when any part fails,
    else inconclusive; ``not testable`` parts make the whole not testable only if every part is)."""
    v = [x for x in verdicts]
    if not v:
        raise ValueError("combine needs at least one verdict")
    bad = [x for x in v if x not in VERDICTS]
    if bad:
        raise ValueError(f"unknown verdicts {bad}; expected one of {VERDICTS}")
    tested = [x for x in v if x != NOT_TESTABLE]
    if not tested:
        return NOT_TESTABLE
    if FAILS in tested:
        return FAILS
    if all(x == HOLDS for x in tested) and len(tested) == len(v):
        return HOLDS
    return INCONCLUSIVE


def collect_claims(paths: list[str | Path]) -> list[dict]:
    """Read per-claim JSON files (each a row or a list of rows) into one list sorted by id."""
    rows: list[dict] = []
    for p in paths:
        data = json.loads(Path(p).read_text())
        rows.extend(data if isinstance(data, list) else [data])
    for r in rows:
        missing = [k for k in REQUIRED if k not in r]
        if missing:
            raise ValueError(f"claim {r.get('id', '?')} lacks {missing}")
    return sorted(rows, key=lambda r: r["id"])
