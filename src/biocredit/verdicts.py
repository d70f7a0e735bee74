"""The verdict table of the README: one row per claim, one column per set of results (paper-scale slice, the
default preset on two seed sets, smoke), each cell the measured verdict with its statistic.

    python -m biocredit.verdicts "paper slice=docs/results/paper-slice-a/claims.json" \\
        "default=docs/results/default/claims.json" "previous default=docs/results/default-n200/claims.json"

prints a Markdown table. A claim that a column's results do not have is ``—`` there (that preset does not make the
figure, e.g. the study-A slice has no study-B rows). Several claims files for one column are joined with commas.
Cells show three values, **holds**, fails and *inconclusive* (rows written before verdicts had three values show
their ``holds``). ``--contradictions A B`` also counts the claims that hold in column A and fail in column B or the
other way round.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from biocredit.claims import FAILS, HOLDS, INCONCLUSIVE, NOT_TESTABLE, untestable_reason


def load_claims(paths: list[str | Path]) -> dict[str, dict]:
    """Claim rows by id from one or more claims files (``claims.json`` lists or single ``results/claims/*.json``
    rows). A repeated id is an error naming both files."""
    rows: dict[str, dict] = {}
    where: dict[str, str] = {}
    for path in paths:
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as err:
            raise ValueError(f"cannot read claims file {path}: {err}") from err
        for row in data if isinstance(data, list) else [data]:
            if not isinstance(row, dict) or "id" not in row or "holds" not in row:
                raise ValueError(f"{path}: not a claim row (needs 'id' and 'holds'): {str(row)[:120]}")
            if row["id"] in rows:
                raise ValueError(f"claim {row['id']} appears in both {where[row['id']]} and {path}")
            rows[row["id"]], where[row["id"]] = row, str(path)
    return rows


def _number(x) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:.3g}"


def verdict_of(row: dict) -> str:
    """A row's verdict: its ``verdict`` field, or for a row written before verdicts had three values, its ``holds``
    (True: holds, False: fails, None: not testable)."""
    if "verdict" in row:
        return row["verdict"]
    return {True: HOLDS, False: FAILS}.get(row.get("holds"), NOT_TESTABLE)


def cell(row: dict | None) -> str:
    """A claim row as a table cell: verdict (holds / fails / inconclusive), value, CI (or p), n, and the number of
    looks when the ``settle`` target decided it."""
    if row is None:
        return "—"
    reason = untestable_reason(row)  # the grid cannot test the claim (e.g. A4 on one arch row)
    if reason is not None:
        return f"not testable: {reason}"
    parts = [{HOLDS: "**holds**", FAILS: "fails", INCONCLUSIVE: "*inconclusive*"}.get(verdict_of(row), "?"),
             _number(row.get("value"))]
    ci = row.get("ci")
    if isinstance(ci, list | tuple) and len(ci) == 2:
        parts.append(f"[{_number(ci[0])}, {_number(ci[1])}]")
    elif row.get("p") is not None:
        parts.append(f"p={_number(row['p'])}")
    if row.get("n") is not None:
        parts.append(f"n={row['n']}")
    if row.get("looks"):
        parts.append(f"(look {len(row['looks'])})")
    return " ".join(parts)


def verdict_table(columns: dict[str, dict[str, dict]]) -> str:
    """Markdown table: claim id, what the paper says (the row's claim text), then one cell per column. Rows are the
    union of every column's ids, in order of first appearance."""
    ids: list[str] = []
    for rows in columns.values():
        ids += [i for i in rows if i not in ids]
    header = ["claim", "what the paper says", *columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for cid in ids:
        said = next(rows[cid]["claim"] for rows in columns.values() if cid in rows)
        cells = [cell(rows.get(cid)) for rows in columns.values()]
        lines.append("| " + " | ".join([cid, said.replace("|", "/"), *cells]) + " |")
    return "\n".join(lines) + "\n"


def contradictions(a: dict[str, dict], b: dict[str, dict]) -> list[str]:
    """The ids of the claims that hold in one set of rows and fail in the other."""
    return [cid for cid in a if cid in b and {verdict_of(a[cid]), verdict_of(b[cid])} == {HOLDS, FAILS}]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m biocredit.verdicts", description=__doc__.split("\n\n")[0])
    parser.add_argument("columns", nargs="+", metavar="NAME=FILE[,FILE...]",
                        help="a column: its heading, '=', and its claims file(s)")
    parser.add_argument("--contradictions", nargs=2, metavar=("A", "B"),
                        help="after the table, list the claims that hold in column A and fail in B, or the reverse")
    args = parser.parse_args(argv)
    columns = {}
    for spec in args.columns:
        name, sep, files = spec.partition("=")
        if not sep or not name or not files:
            parser.error(f"a column is NAME=FILE[,FILE...]; got {spec!r}")
        columns[name] = load_claims(files.split(","))
    sys.stdout.write(verdict_table(columns))
    if args.contradictions:
        a, b = args.contradictions
        missing = [c for c in (a, b) if c not in columns]
        if missing:
            parser.error(f"--contradictions names no column {missing}; columns: {list(columns)}")
        found = contradictions(columns[a], columns[b])
        sys.stdout.write(f"\nholds/fails contradictions between {a} and {b}: {len(found)}"
                         + (f" ({', '.join(found)})" if found else "") + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
