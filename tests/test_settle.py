"""The bookkeeping of the settle target (biocredit.claims.settle): looks, seeds, pending claims, settled rows."""

from __future__ import annotations

import pytest

from biocredit.claims.settle import final_rows, look_seeds, plan, record_look


def test_plan_and_seeds():
    p = plan(5, batch=5, max_seeds=20, level=0.95, spending="pocock")
    assert p["sizes"] == [5, 10, 15, 20] and p["fractions"] == [0.25, 0.5, 0.75, 1.0]
    assert all(0.95 < lv < 0.99 for lv in p["levels"])  # Pocock: nearly flat, each stricter than 95%
    assert plan(5, batch=5, max_seeds=5, level=0.95, spending="pocock")["levels"] == pytest.approx([0.95])
    with pytest.raises(ValueError, match="max_seeds"):
        plan(5, batch=5, max_seeds=4, level=0.95, spending="pocock")
    assert look_seeds([1, 2, 3, 4, 5], 5) == [1, 2, 3, 4, 5]
    assert look_seeds([1, 2, 3, 4, 5], 10) == list(range(1, 11))
    assert look_seeds([3, 1], 4) == [3, 1, 4, 5]


def _row(cid, verdict, n=10):
    return {"id": cid, "verdict": verdict, "value": 0.01, "ci": [0.0, 0.02], "n": n}


def test_claims_leave_the_looks_once_settled():
    p = plan(5, batch=5, max_seeds=15, level=0.95, spending="pocock")
    s1 = record_look(None, {"A2-x": _row("A2-x", "holds"), "A3-x": _row("A3-x", "inconclusive"),
                            "A4-x": _row("A4-x", "not testable")}, look=1, plan_=p)
    assert s1["pending"] == ["A3-x"] and not s1["done"]
    s2 = record_look(s1, {"A3-x": _row("A3-x", "inconclusive", n=20)}, look=2, plan_=p)
    assert s2["pending"] == ["A3-x"] and not s2["done"]
    s3 = record_look(s2, {"A3-x": _row("A3-x", "fails", n=30)}, look=3, plan_=p)
    assert s3["pending"] == [] and s3["done"]
    rows = {r["id"]: r for r in final_rows([s3])}
    assert rows["A2-x"]["settled_at"] == 1 and len(rows["A2-x"]["looks"]) == 1
    assert rows["A3-x"]["settled_at"] == 3 and [lk["n_per_rule"] for lk in rows["A3-x"]["looks"]] == [5, 10, 15]
    assert rows["A3-x"]["verdict"] == "fails" and rows["A3-x"]["n"] == 30
    assert rows["A3-x"]["looks"][1]["ci_level"] == p["levels"][1]


def test_the_last_look_ends_the_target_with_claims_still_inconclusive():
    p = plan(5, batch=5, max_seeds=10, level=0.95, spending="obrien-fleming")
    s1 = record_look(None, {"A3-x": _row("A3-x", "inconclusive")}, look=1, plan_=p)
    s2 = record_look(s1, {"A3-x": _row("A3-x", "inconclusive")}, look=2, plan_=p)
    assert s2["done"] and s2["pending"] == ["A3-x"]
    (row,) = final_rows([s2])
    assert row["verdict"] == "inconclusive" and row["settled_at"] is None and len(row["looks"]) == 2
