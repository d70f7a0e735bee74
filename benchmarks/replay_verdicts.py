"""Replay of stored intervals: the claims files under docs/results/ read again by the three-valued rules, without
re-measuring anything. Each stored interval is read as it was stored (95%, the interval method of its day, no
multiplicity adjustment, old statistics such as A5's pair bootstrap), so this shows what the rules do with the
numbers we have, not what a rerun would give.

    python benchmarks/replay_verdicts.py > /tmp/replay.md

The rules per claim are biocredit.verdicts.replay's (thresholds from config.yaml); A4, A7, B5, B6 store no interval
to replay: their two-valued verdict is kept and marked (kept). Printed: a table of replayed verdicts per file and
the holds<->fails contradictions between the seed sets that repeat one configuration.
"""

from __future__ import annotations

import json
from pathlib import Path

from biocredit.claims import FAILS, HOLDS
from biocredit.verdicts import replay, replay_thresholds

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


def main() -> None:
    t = replay_thresholds(ROOT / "config.yaml")
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
