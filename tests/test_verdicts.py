"""The README's verdict table: rows are the union of claims, cells the measured verdicts, missing claims '—'."""

from __future__ import annotations

import json

import pytest

from biocredit.verdicts import load_claims, main, verdict_table


def _row(cid, holds, value=0.01, ci=(-0.02, 0.04), n=10):
    return {"id": cid, "claim": f"paper says {cid}", "holds": holds, "value": value, "ci": list(ci), "n": n}


def test_table_has_one_row_per_claim_and_dashes_where_a_column_lacks_it():
    default = {"A2-x": _row("A2-x", True), "B1-y": _row("B1-y", False, value=-0.2, ci=(-0.3, -0.1), n=30)}
    sliced = {"A2-x": _row("A2-x", False, value=0.08)}
    lines = verdict_table({"slice": sliced, "default": default}).splitlines()
    assert lines[0] == "| claim | what the paper says | slice | default |"
    assert len(lines) == 4  # header, rule, two claims
    a2, b1 = lines[2], lines[3]
    assert a2.startswith("| A2-x | paper says A2-x | fails 0.08 [-0.02, 0.04] n=10 | **holds** 0.01")
    assert b1.split(" | ")[2] == "—" and "fails -0.2 [-0.3, -0.1] n=30" in b1


def test_files_are_read_and_repeated_ids_are_refused(tmp_path):
    one, two = tmp_path / "one.json", tmp_path / "two.json"
    one.write_text(json.dumps([_row("A2-x", True)]))
    two.write_text(json.dumps(_row("A2-x", False)))  # a single results/claims/*.json row
    assert load_claims([one])["A2-x"]["holds"] is True
    with pytest.raises(ValueError, match="A2-x.*one.json.*two.json"):
        load_claims([one, two])
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"id": "A2-x"}]))
    with pytest.raises(ValueError, match="bad.json"):
        load_claims([bad])


def test_command_line_prints_the_table(tmp_path, capsys):
    f = tmp_path / "c.json"
    f.write_text(json.dumps([_row("A3-x", True, n=5)]))
    assert main([f"default={f}"]) == 0
    assert "| A3-x | paper says A3-x | **holds** 0.01 [-0.02, 0.04] n=5 |" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main([str(f)])  # no NAME=


def test_an_untestable_claim_shows_why_not_a_verdict():
    from biocredit.verdicts import cell

    row = {"id": "A4-x", "holds": None, "value": 0.9, "n": 9,
           "note": "not testable on this grid: one arch row; level not reached by every seed in: base"}
    assert cell(row) == "not testable: one arch row"


def test_three_values_and_contradictions(tmp_path, capsys):
    from biocredit.verdicts import cell, contradictions

    inconclusive = _row("A3-x", None) | {"verdict": "inconclusive"}
    assert cell(inconclusive).startswith("*inconclusive* 0.01 [-0.02, 0.04]")
    settled = _row("A3-x", True) | {"verdict": "holds", "looks": [{"n": 10}, {"n": 15}]}
    assert cell(settled).endswith("n=10 (look 2)")
    a = {"A2-x": _row("A2-x", True), "A3-x": inconclusive, "B1-y": _row("B1-y", False)}
    b = {"A2-x": _row("A2-x", False), "A3-x": _row("A3-x", False), "B1-y": _row("B1-y", False)}
    assert contradictions(a, b) == ["A2-x"]  # inconclusive against fails is no contradiction
    fa, fb = tmp_path / "a.json", tmp_path / "b.json"
    fa.write_text(json.dumps(list(a.values())))
    fb.write_text(json.dumps(list(b.values())))
    assert main([f"one={fa}", f"two={fb}", "--contradictions", "one", "two"]) == 0
    assert "holds/fails contradictions between one and two: 1 (A2-x)" in capsys.readouterr().out


def test_replay_reads_stored_two_valued_rows_with_the_three_valued_rules(tmp_path, capsys):
    """A row stored before verdicts had three values: its stored CI is read against the margin (equivalence), so a
    CI crossing the margin that the two-valued rule called 'fails' becomes inconclusive; a row that already has a
    verdict is left alone; ``#A`` keeps study A's rows of a file."""
    from biocredit.verdicts import replay, replay_thresholds

    t = {"margin": 0.05, "metric_margins": {"cka": 0.0785, "cca": 0.0555}, "dsa_margin": 0.0785,
         "correlation": 0.1, "alpha": 0.05}
    inside = _row("A2-x", True, value=0.01, ci=(-0.02, 0.04)) | {"figure": "A2"}
    across = _row("A2-y", False, value=0.045, ci=(0.03, 0.06)) | {"figure": "A2"}
    outside = _row("A2-z", False, value=0.09, ci=(0.06, 0.12)) | {"figure": "A2"}
    assert replay(inside, t) == ("holds", True)
    assert replay(across, t) == ("inconclusive", True)
    assert replay(outside, t) == ("fails", True)
    new = _row("A2-w", None) | {"verdict": "inconclusive"}
    assert replay(new, t) == ("inconclusive", False)
    # B4: Fisher-z interval of rho = 0.5 with n = 10 crosses 0.1 (se = sqrt(1.125/7) = 0.40; z = 0.549 +- 0.79)
    b4 = {"id": "B4-t", "figure": "B4", "holds": True, "value": 0.5, "n": 10, "claim": "c"}
    assert replay(b4, t) == ("inconclusive", True)

    f = tmp_path / "c.json"
    f.write_text(json.dumps([across, outside, {"id": "B1-s", "figure": "B1", "holds": True, "claim": "b",
                                               "rules": [{"ci": [-0.01, 0.02]}], "margin": 0.05}]))
    cfg = tmp_path / "config.yaml"
    cfg.write_text("similarity: {equivalence_margin: 0.05}\n")
    schema = tmp_path / "rules/schemas/config.schema.yaml"
    schema.parent.mkdir(parents=True)
    schema.write_text(json.dumps({"properties": {
        "similarity": {"properties": {"equivalence_margin": {"default": 0.05},
                                      "metric_margins": {"default": {"cka": 0.0785, "cca": 0.0555}},
                                      "dynamics": {"properties": {"margin": {"default": 0.0785}}}}},
        "generalization": {"properties": {"claims": {"properties": {"sesoi_correlation": {"default": 0.1}}}}},
        "verdicts": {"properties": {"level": {"default": 0.95}}}}}))
    assert replay_thresholds(cfg)["margin"] == 0.05
    assert main([f"old={f}#A", "--replay", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "| A2-y | paper says A2-y | *inconclusive*† 0.045 [0.03, 0.06] n=10 |" in out
    assert "| A2-z | paper says A2-z | fails† 0.09" in out and "B1-s" not in out


def test_an_old_row_without_an_interval_keeps_its_verdict_marked_two_valued():
    from biocredit.verdicts import cell, replayed

    t = {"margin": 0.05, "metric_margins": {}, "dsa_margin": 0.0785, "correlation": 0.1, "alpha": 0.05}
    old = {"id": "A7-x", "figure": "A7", "holds": True, "value": 0.1, "n": 10, "claim": "c"}
    new = old | {"verdict": "holds"}
    rows = replayed({"old": old, "new": new}, t)
    assert cell(rows["old"]) == "**holds**‡ 0.1 n=10" and cell(rows["new"]) == "**holds** 0.1 n=10"


def test_a_folder_of_claim_files_is_one_column(tmp_path):
    d = tmp_path / "claims"
    d.mkdir()
    (d / "B2-t.json").write_text(json.dumps(_row("B2-t", False)))
    (d / "A2-t.json").write_text(json.dumps(_row("A2-t", True)))
    assert list(load_claims([d])) == ["A2-t", "B2-t"]  # name order
    assert list(load_claims([f"{d}#B"])) == ["B2-t"]
