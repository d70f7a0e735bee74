"""Claim rows for ``results/claims.json``: each a measured statistic with its verdict, never a typed result."""

from __future__ import annotations

import json
import math
from pathlib import Path

__all__ = ["UNTESTABLE", "claim_row", "collect_claims", "equivalence_holds", "untestable_reason"]

REQUIRED = ("id", "figure", "study", "claim", "statistic", "value", "n", "preset", "holds")
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

    ``holds`` is True or False, or None where the grid cannot test the claim at all (e.g. A4 on one arch row);
    such a row must say why in ``note``, beginning with :data:`UNTESTABLE`."""
    missing = [k for k in REQUIRED if k not in fields]
    if missing:
        raise ValueError(f"claim row lacks {missing}")
    if fields["holds"] is None and not str(fields.get("note") or "").startswith(UNTESTABLE):
        raise ValueError(f"claim row {fields['id']}: an untestable claim (holds=None) needs a note saying why, "
                         f"beginning {UNTESTABLE!r}")
    row = {k: _clean(v) for k, v in fields.items()}
    row["holds"] = None if fields["holds"] is None else bool(fields["holds"])
    return row


def untestable_reason(row: dict) -> str | None:
    """Why the grid cannot test the claim of ``row`` (the first clause of its note, without the
    :data:`UNTESTABLE` prefix), or None when the row has a verdict."""
    if row.get("holds") is not None:
        return None
    return (row.get("note") or "no reason recorded").split(";")[0].removeprefix(UNTESTABLE)


def equivalence_holds(ci: tuple[float, float] | list[float], margin: float) -> bool:
    """Equivalence by confidence interval: the whole CI of a difference lies within ±margin."""
    lo, hi = ci
    return bool(math.isfinite(lo) and math.isfinite(hi) and -margin <= lo and hi <= margin)


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
