"""Replay of stored intervals: the claims files under docs/results/ read again by the three-valued rules, without
re-measuring anything. Each stored interval is read as it was stored (95%, the interval method of its day, no
multiplicity adjustment, old statistics such as A5's pair bootstrap), so this shows what the rules do with the
numbers we have, not what a rerun would give.

    python benchmarks/replay_verdicts.py > /tmp/replay.md

Rules per claim (thresholds from config.yaml): A2, A3 (per level, combined), A5 and B1 (per rule, combined):
equivalence of the stored CI against the margin (A5: similarity.dynamics.margin); A6: each metric's stored CI
against its own margin (similarity.metric_margins), then the agreement rule; B4: the stored Spearman ρ and n give a
Fisher-z CI (Bonett-Wright), directional against generalization.claims.thresholds.correlation; B2 (mean and spread
parts), B3, B7: no interval is stored, so significant (p < 0.05) in the claimed direction reads holds, significant
the other way fails, else inconclusive; A4, A7, B5, B6 store no interval to replay: their two-valued verdict is
kept and marked (kept). Printed: a table of replayed verdicts per file and the holds<->fails contradictions between
the seed sets that repeat one configuration.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import yaml
from scipy import stats as sps

from biocredit.claims import FAILS, HOLDS, INCONCLUSIVE, NOT_TESTABLE, combine, directional_verdict, equivalence_verdict
from biocredit.claims.study_a import a6_verdict

ROOT = Path(__file__).resolve().parents[1]
FILES = {
    "default 1-5": "docs/results/default/claims.json",
    "default 101-105": "docs/results/default-seed100/claims.json",
    "N=200 1-5": "docs/results/default-n200/claims.json",
    "N=200 101-105": "docs/results/default-n200-seed100/claims.json",
    "A 10 seeds 1-10": "docs/results/study-a-10seeds/claims-seeds1-10.json",
    "A 10 seeds 101-110": "docs/results/study-a-10seeds/claims-seeds101-110.json",
    "B 10 seeds 1-10": "docs/results/study-b-10seeds/claims-seeds1-10.json",
    "B 10 seeds 101-110": "docs/results/study-b-10seeds/claims-seeds101-110.json",
}
PAIRS = [("default 1-5", "default 101-105"), ("N=200 1-5", "N=200 101-105"),
         ("A 10 seeds 1-10", "A 10 seeds 101-110"), ("B 10 seeds 1-10", "B 10 seeds 101-110")]


def _thresholds() -> dict:
    cfg = yaml.safe_load((ROOT / "config.yaml").read_text())
    schema = yaml.safe_load((ROOT / "rules/schemas/config.schema.yaml").read_text())
    sim = schema["properties"]["similarity"]["properties"]
    corr = (schema["properties"]["generalization"]["properties"]["claims"]["properties"]["thresholds"]["properties"]
            ["correlation"]["default"])
    return {"margin": cfg["similarity"]["equivalence_margin"], "metric_margins": cfg["similarity"]["metric_margins"],
            "dsa_margin": cfg["similarity"].get("dynamics", {}).get("margin",
                                                                    sim["dynamics"]["properties"]["margin"]["default"]),
            "correlation": corr}


def _by_p(value, p, direction=1) -> str:
    if value is None or p is None or not math.isfinite(value):
        return INCONCLUSIVE
    if p < 0.05:
        return HOLDS if direction * value > 0 else FAILS
    return INCONCLUSIVE


def replay(row: dict, t: dict) -> tuple[str, bool]:
    """(verdict, replayed): the row's verdict under the three-valued rules from its stored numbers; ``replayed``
    False when nothing stored can be replayed and the stored verdict is kept."""
    fig = row["figure"]
    kept = {True: HOLDS, False: FAILS, None: NOT_TESTABLE}[row.get("holds")]
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
        return combine([_by_p(row.get("value"), row.get("p")),
                        _by_p((row.get("sd_ratio") or math.nan) - 1, row.get("p_spread"))]), True
    if fig in ("B3", "B7") and row.get("p") is not None:
        return _by_p(row.get("value"), row.get("p")), True
    if fig == "B4" and row.get("value") is not None and row.get("n", 0) > 3:
        rho, n = row["value"], row["n"]
        se, z = math.sqrt((1 + rho * rho / 2) / (n - 3)), sps.norm.ppf(0.975)
        ci = (math.tanh(math.atanh(rho) - z * se), math.tanh(math.atanh(rho) + z * se))
        return directional_verdict(ci, sesoi=t["correlation"]), True
    return kept, False


def main() -> None:
    t = _thresholds()
    columns = {}
    for name, path in FILES.items():
        rows = json.loads((ROOT / path).read_text())
        columns[name] = {r["id"]: (r, *replay(r, t)) for r in rows}
    ids = sorted({cid for col in columns.values() for cid in col})
    print("| claim | " + " | ".join(FILES) + " |")
    print("|" + "---|" * (len(FILES) + 1))
    for cid in ids:
        cells = []
        for col in columns.values():
            if cid not in col:
                cells.append("—")
                continue
            row, verdict, replayed = col[cid]
            old = {True: "holds", False: "fails", None: "n/t"}[row.get("holds")]
            cells.append(f"{verdict}" + ("" if replayed else " (kept)") + (f" (was {old})" if old != verdict else ""))
        print(f"| {cid} | " + " | ".join(cells) + " |")
    print("\n| seed sets | rows in both | holds↔fails, two-valued (stored) | holds↔fails, three-valued (replay) |")
    print("|---|---|---|---|")
    total = [0, 0, 0]
    for a, b in PAIRS:
        common = sorted(set(columns[a]) & set(columns[b]))
        two = [c for c in common if {columns[a][c][0]["holds"], columns[b][c][0]["holds"]} == {True, False}]
        three = [c for c in common if {columns[a][c][1], columns[b][c][1]} == {HOLDS, FAILS}]
        total = [total[0] + len(common), total[1] + len(two), total[2] + len(three)]
        print(f"| {a} vs {b} | {len(common)} | {len(two)} ({', '.join(two) or '–'}) | "
              f"{len(three)} ({', '.join(three) or '–'}) |")
    print(f"| all | {total[0]} | {total[1]} | {total[2]} |")


if __name__ == "__main__":
    main()
