"""The verdict table of the README: one row per claim, one column per set of results (paper-scale slice, the
default preset on two seed sets, smoke), each cell the measured verdict with its statistic.

    python -m biocredit.verdicts "paper slice=docs/results/paper-slice-a/claims.json" \\
        "default=docs/results/default/claims.json" "previous default=docs/results/default-n200/claims.json"

prints a Markdown table. A claim that a column's results do not have is ``—`` there (that preset does not make the
figure, e.g. the study-A slice has no study-B rows). Several claims files for one column are joined with commas.
A file may be a folder (every ``*.json`` in it) and may end in ``#PREFIX`` to keep only the claims whose id starts
with it (``claims.json#A``: study A's rows).
Cells show three values, **holds**, fails and *inconclusive*. Rows written before verdicts had three values show
their two-valued ``holds``, or with ``--replay config.yaml`` the verdict the three-valued rules give their stored
numbers (:func:`replay`; marked ``†``; ``‡``: an old row with no interval to replay, its two-valued verdict kept).
``--contradictions A B`` also counts the claims that hold in column A and fail in column B or the other way round.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import yaml
from scipy import stats as sps

from biocredit.claims import (
    FAILS,
    HOLDS,
    INCONCLUSIVE,
    NOT_TESTABLE,
    combine,
    directional_verdict,
    equivalence_verdict,
    untestable_reason,
)
from biocredit.claims.study_a import a6_verdict

SCHEMA = Path("rules/schemas/config.schema.yaml")  # relative to the directory of the config file


def load_claims(paths: list[str | Path]) -> dict[str, dict]:
    """Claim rows by id from one or more claims files (``claims.json`` lists or single ``results/claims/*.json``
    rows). A repeated id is an error naming both files."""
    rows: dict[str, dict] = {}
    where: dict[str, str] = {}
    files: list[tuple[str, str]] = []
    for spec in paths:
        path, _, prefix = str(spec).partition("#")
        if Path(path).is_dir():  # a folder: every claims file in it, in name order
            files += [(str(f), prefix) for f in sorted(Path(path).glob("*.json"))]
        else:
            files.append((path, prefix))
    for path, prefix in files:
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as err:
            raise ValueError(f"cannot read claims file {path}: {err}") from err
        for row in data if isinstance(data, list) else [data]:
            if not isinstance(row, dict) or "id" not in row or "holds" not in row:
                raise ValueError(f"{path}: not a claim row (needs 'id' and 'holds'): {str(row)[:120]}")
            if not row["id"].startswith(prefix):
                continue
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


def replay_thresholds(config_path: str | Path) -> dict:
    """The thresholds :func:`replay` needs, from a config file (with the schema's defaults for keys it leaves out;
    the schema is ``rules/schemas/config.schema.yaml`` beside the config file)."""
    config_path = Path(config_path)
    try:
        cfg = yaml.safe_load(config_path.read_text())
        schema = yaml.safe_load((config_path.parent / SCHEMA).read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ValueError(f"cannot read the config or its schema for --replay ({config_path}): {err}") from err

    def default(*keys):
        node = schema
        for k in keys:
            node = node["properties"][k]
        return node["default"]

    sim, gen = cfg.get("similarity", {}), cfg.get("generalization", {})
    return {"margin": sim.get("equivalence_margin", default("similarity", "equivalence_margin")),
            "metric_margins": sim.get("metric_margins", default("similarity", "metric_margins")),
            "dsa_margin": sim.get("dynamics", {}).get("margin", default("similarity", "dynamics", "margin")),
            "correlation": gen.get("claims", {}).get(
                "sesoi_correlation", default("generalization", "claims", "sesoi_correlation")),
            "alpha": 1 - cfg.get("verdicts", {}).get("level", default("verdicts", "level"))}


def _by_p(value, p, direction: int = 1, alpha: float = 0.05) -> str:
    if value is None or p is None or not math.isfinite(value):
        return INCONCLUSIVE
    if p < alpha:
        return HOLDS if direction * value > 0 else FAILS
    return INCONCLUSIVE


def replay(row: dict, t: dict) -> tuple[str, bool]:
    """(verdict, replayed): the verdict the three-valued rules give a row written before verdicts had three values,
    from the numbers it stored, without re-measuring; ``replayed`` is False when nothing stored can be replayed and
    the stored two-valued verdict is kept. ``t``: :func:`replay_thresholds`.

    Each stored interval is read as stored (its level and method of the day, no multiplicity adjustment). Per claim:
    A2, A3 (per level, combined), A5, B1 (per rule, combined): equivalence of the stored CI against the margin;
    A6: each metric's CI against its own margin, then :func:`~biocredit.claims.study_a.a6_verdict`; B4: a Fisher-z
    CI (Bonett-Wright) from the stored Spearman rho and n, directional against the smallest correlation of interest;
    B2 (mean and spread), B3, B7 stored p-values only: significant in the claimed direction holds, the other way
    fails, else inconclusive. A row that already has a three-valued ``verdict`` is returned as it is."""
    if "verdict" in row:
        return row["verdict"], False
    fig = row.get("figure", row["id"].split("-")[0])
    kept = {True: HOLDS, False: FAILS}.get(row.get("holds"), NOT_TESTABLE)
    alpha = t.get("alpha", 0.05)
    if fig == "A2" and row.get("ci"):
        return equivalence_verdict(row["ci"], row.get("margin", t["margin"])), True
    if fig == "A3" and row.get("levels"):
        return combine([equivalence_verdict(lv["ci"], row.get("margin", t["margin"])) for lv in row["levels"]]), True
    if fig == "A5" and row.get("ci"):
        return equivalence_verdict(row["ci"], t["dsa_margin"]), True
    if fig == "A6" and row.get("metrics"):
        margins = {"procrustes": t["margin"], **t["metric_margins"]}
        return a6_verdict({m: equivalence_verdict(v["ci"], margins[m]) for m, v in row["metrics"].items()}), True
    if fig == "B1" and isinstance(row.get("rules"), list):
        return combine([equivalence_verdict(r["ci"], row.get("margin", 0.05)) for r in row["rules"]]), True
    if fig == "B2" and "p_spread" in row:
        return combine([_by_p(row.get("value"), row.get("p"), alpha=alpha),
                        _by_p((row.get("sd_ratio") or math.nan) - 1, row.get("p_spread"), alpha=alpha)]), True
    if fig in ("B3", "B7") and row.get("p") is not None:
        return _by_p(row.get("value"), row.get("p"), alpha=alpha), True
    if fig == "B4" and row.get("value") is not None and row.get("n", 0) > 3:
        rho, n = row["value"], row["n"]
        se, z = math.sqrt((1 + rho * rho / 2) / (n - 3)), sps.norm.ppf(1 - alpha / 2)
        ci = (math.tanh(math.atanh(rho) - z * se), math.tanh(math.atanh(rho) + z * se))
        return directional_verdict(ci, sesoi=t["correlation"]), True
    return kept, False


def replayed(rows: dict[str, dict], t: dict) -> dict[str, dict]:
    """Rows with the replayed three-valued verdict (and ``replayed: True``) where :func:`replay` could replay one;
    an old row without an interval to replay keeps its two-valued verdict, marked ``two_valued: True``."""
    out = {}
    for cid, row in rows.items():
        verdict, done = replay(row, t)
        if done:
            out[cid] = row | {"verdict": verdict, "replayed": True}
        else:
            out[cid] = row if "verdict" in row else row | {"two_valued": True}
    return out


def cell(row: dict | None) -> str:
    """A claim row as a table cell: verdict (holds / fails / inconclusive), value, CI (or p), n, and the number of
    looks when the ``settle`` target decided it."""
    if row is None:
        return "—"
    reason = untestable_reason(row)  # the grid cannot test the claim (e.g. A4 on one arch row)
    if reason is not None:
        return f"not testable: {reason}"
    parts = [{HOLDS: "**holds**", FAILS: "fails", INCONCLUSIVE: "*inconclusive*"}.get(verdict_of(row), "?")
             + ("†" if row.get("replayed") else "‡" if row.get("two_valued") else ""), _number(row.get("value"))]
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
    parser.add_argument("--replay", metavar="CONFIG",
                        help="read rows written before verdicts had three values with the three-valued rules, at "
                        "the thresholds of this config file (cells marked †)")
    parser.add_argument("--contradictions", nargs=2, metavar=("A", "B"),
                        help="after the table, list the claims that hold in column A and fail in B, or the reverse")
    args = parser.parse_args(argv)
    columns = {}
    for spec in args.columns:
        name, sep, files = spec.partition("=")
        if not sep or not name or not files:
            parser.error(f"a column is NAME=FILE[,FILE...]; got {spec!r}")
        columns[name] = load_claims(files.split(","))
    if args.replay:
        thresholds = replay_thresholds(args.replay)
        columns = {name: replayed(rows, thresholds) for name, rows in columns.items()}
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
