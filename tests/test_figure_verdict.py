"""The estimate-against-threshold panel beside claim figures (biocredit.figures.verdict), tested by its content."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from biocredit.figures.verdict import VERDICT_COLORS, add_verdict_panel, items_of_row  # noqa: E402


def test_panel_draws_each_estimate_its_interval_and_its_band():
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_hex

    fig, _ = plt.subplots()
    items = [{"label": "level 0.5", "value": 0.02, "ci": [0.01, 0.03], "verdict": "holds", "margin": 0.05},
             {"label": "level 0.95", "value": 0.05, "ci": [0.04, 0.06], "verdict": "inconclusive", "margin": 0.05},
             {"label": "e-prop below baseline", "value": 0.1, "ci": [0.05, 0.15], "verdict": "holds", "sesoi": 0.0}]
    ax = add_verdict_panel(fig, items)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["e-prop below baseline", "level 0.95", "level 0.5"]
    intervals = [ln for ln in ax.lines if ln.get_linewidth() == 2.5]
    assert [list(ln.get_xdata()) for ln in intervals] == [[0.01, 0.03], [0.04, 0.06], [0.05, 0.15]]
    assert [to_hex(ln.get_color()) for ln in intervals] == [VERDICT_COLORS["holds"], VERDICT_COLORS["inconclusive"],
                                                            VERDICT_COLORS["holds"]]
    bands = [c.get_paths()[0].vertices for c in ax.collections]
    assert len(bands) == 3
    np.testing.assert_allclose([bands[0][:, 0].min(), bands[0][:, 0].max()], [-0.05, 0.05])  # ±margin
    assert bands[2][:, 0].min() == pytest.approx(0.0)  # directional: beyond the SESOI
    assert [t.get_text() for t in ax.texts] == ["holds", "inconclusive", "holds"]
    plt.close(fig)


def test_items_of_study_a_rows():
    a3 = {"id": "A3-x", "margin": 0.05, "levels": [{"level": 0.5, "mean_diff": 0.01, "ci": [0, 0.02],
                                                     "verdict": "holds"}]}
    assert items_of_row(a3, "main") == [{"label": "main: level 0.5", "value": 0.01, "ci": [0, 0.02],
                                         "verdict": "holds", "margin": 0.05}]
    a6 = {"id": "A6-x", "metrics": {"cka": {"mean_diff": 0.01, "ci": [0, 0.02], "verdict": "holds",
                                            "margin": 0.0785}}}
    assert items_of_row(a6)[0]["margin"] == 0.0785
    a7 = {"id": "A7-x", "sesoi": 0.0, "rule_tests": {"bptt": {"margin_below_baseline": 0.2, "ci": [0.1, 0.3],
                                                              "verdict": "holds"}}}
    assert items_of_row(a7)[0]["sesoi"] == 0.0 and "margin" not in items_of_row(a7)[0]
    a2 = {"id": "A2-x", "value": 0.03, "ci": [0.02, 0.04], "verdict": "holds", "margin": 0.05}
    assert items_of_row(a2) == [{"label": "A2-x", "value": 0.03, "ci": [0.02, 0.04], "verdict": "holds",
                                 "margin": 0.05}]
