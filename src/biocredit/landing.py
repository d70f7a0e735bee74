"""The report's landing page: the results section of both studies in reStructuredText (claims with verdicts, the
rule scorecard, the datasets used or skipped), included by the workflow description of ``snakemake --report``."""

from __future__ import annotations

import math
from collections.abc import Sequence

from biocredit.claims import FAILS, HOLDS, INCONCLUSIVE, NOT_TESTABLE
from biocredit.scorecard import METRICS

__all__ = ["landing_rst", "png_data_uri"]

B_TASK_SOURCES = {
    "smnist": "MNIST (downloaded or from the mirror, SHA-256 verified)",
    "sdigits": "scikit-learn's 8×8 digits (bundled with scikit-learn)",
}


def _cell(v) -> str:
    """A table cell: numbers to 3 significant digits, missing as an en dash, no line breaks or table markup."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_cell(x) for x in v) + "]"
    return " ".join(str(v).split()).replace("|", "/")


def _list_table(title: str, header: Sequence[str], rows: list[Sequence[str]], widths: Sequence[int]) -> str:
    lines = [f".. list-table:: {title}", "   :header-rows: 1", f"   :widths: {' '.join(map(str, widths))}", ""]
    for row in [header, *rows]:
        first, *rest = row
        lines.append(f"   * - {first}")
        lines += [f"     - {c}" for c in rest]
    return "\n".join(lines) + "\n"


def _heading(text: str, char: str = "-") -> str:
    return f"{text}\n{char * len(text)}\n"


def _image(uri: str, alt: str) -> str:
    """An image directive; a long URI (a data URI) is wrapped over lines, which docutils joins again, so that no
    line exceeds docutils' line-length limit."""
    lines = "\n".join(f"   {uri[i:i + 76]}" for i in range(0, len(uri), 76))
    return f".. image::\n{lines}\n   :alt: {alt}\n   :width: 100%\n"


def _verdict_of(row: dict) -> str:
    """A row's verdict (``verdict``; rows written before three values: from ``holds``)."""
    if "verdict" in row:
        return row["verdict"]
    return {True: HOLDS, False: FAILS}.get(row.get("holds"), NOT_TESTABLE)


def _verdict(row: dict) -> str:
    """A claim row's verdict in words (not testable: the grid cannot test the claim; the row's note says why)."""
    return {HOLDS: "**holds**", FAILS: "fails", INCONCLUSIVE: "*inconclusive*",
            NOT_TESTABLE: "not testable here"}.get(_verdict_of(row), "?")


def claims_table(claims: list[dict]) -> str:
    """The claims as a table: id, claim, statistic value, CI, its threshold, p, n and the verdict."""
    def threshold(c):
        if c.get("margin") is not None:
            return f"±{_cell(c['margin'])}"
        return f"> {_cell(c['sesoi'])}" if c.get("sesoi") is not None else "–"

    rows = [[_cell(c.get("id")), _cell(c.get("claim")), _cell(c.get("value")), _cell(c.get("ci")), threshold(c),
             _cell(c.get("p")), _cell(c.get("n")), _verdict(c)] for c in claims]
    counts = {v: sum(_verdict_of(c) == v for c in claims) for v in (HOLDS, FAILS, INCONCLUSIVE, NOT_TESTABLE)}
    untestable = (f", {counts[NOT_TESTABLE]} not testable on this grid (see their notes)"
                  if counts[NOT_TESTABLE] else "")
    intro = (f"Of {len(claims)} claims at this preset, {counts[HOLDS]} hold, {counts[FAILS]} fail and "
             f"{counts[INCONCLUSIVE]} are inconclusive{untestable}. A verdict is read off the claim's confidence "
             "interval against its threshold, stated in the config before any data: an equivalence claim holds when "
             "the interval lies within ±margin and fails when it lies outside; a directional claim holds when the "
             "interval lies beyond its smallest effect of interest and fails when it lies short of it; otherwise, or "
             "with fewer runs per rule than ``verdicts.min_runs``, the claim is inconclusive. Each row is computed by "
             "the workflow (``results/claims.json`` has every statistic in full).\n\n")
    return intro + _list_table("Claims and verdicts",
                               ["id", "claim", "value", "CI", "threshold", "p", "n", "verdict"], rows,
                               [8, 36, 7, 12, 7, 6, 4, 9])


def scorecard_table(rows: list[dict], metrics) -> str:
    """The scorecard as a table: one row per rule, one column per metric, ``mean [lo, hi]``."""
    def cell(row, key):
        mean, lo, hi = row[key], row[f"{key}_lo"], row[f"{key}_hi"]
        if not math.isfinite(mean):
            return "–"
        return f"{mean:.3g} [{lo:.3g}, {hi:.3g}]" if math.isfinite(lo) and math.isfinite(hi) else f"{mean:.3g}"

    header = ["rule"] + [" ".join(m.label.split()) for m in metrics]
    body = [[r["rule"]] + [cell(r, m.key) for m in metrics] for r in rows]
    return _list_table("Rule scorecard (mean over seeds [95% bootstrap CI]; – = not run)", header, body,
                       [10] + [10] * len(metrics))


def datasets_table(datasets: list[dict], b_tasks: Sequence[str]) -> str:
    """Study A's datasets (used, or skipped and why) and study B's tasks with where their data come from."""
    rows = [[_cell(d["dataset"]), "A", _cell(d["task"]), _cell(d["status"]), _cell(d.get("reason") or "")]
            for d in datasets]
    rows += [[t, "B", t, "used", B_TASK_SOURCES.get(t, "generated by the task (no recordings)")] for t in b_tasks]
    return _list_table("Datasets", ["dataset", "study", "task", "status", "reason / source"], rows,
                       [14, 5, 12, 8, 50])


def png_data_uri(png: bytes) -> str:
    """A PNG as a data URI, so that the page carries the figure itself (the report is one self-contained file)."""
    import base64

    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def landing_rst(claims: list[dict], datasets: list[dict], scorecard_rows: list[dict], scorecard_png: str, *,
                b_tasks: Sequence[str], preset: str, figures: Sequence[tuple[str, str]] = ()) -> str:
    """The landing page's results section as reStructuredText: the claims with their verdicts first, then the
    headline figures (``figures``: (caption, URI) pairs, e.g. A2 and B3), the scorecard (figure and table) and the
    datasets. URIs are data URIs (:func:`png_data_uri`) so that the page carries the figures itself."""
    skipped = [d["dataset"] for d in datasets if d.get("status") == "skipped"]
    parts = [_heading("Claims"), claims_table(claims)]
    if figures:
        parts.append(_heading("Headline figures"))
        for caption, uri in figures:
            parts += [f"**{caption}**\n", _image(uri, caption)]
    parts += [
        _heading("Rule scorecard"),
        "Every learning rule on every axis of both studies (rows: rules; a dash where a study does not run the "
        "rule). Study A: final task accuracy and Procrustes distance to the recordings at matched accuracy; study "
        "B: task accuracy, generalization gap, top Hessian eigenvalue and trace; both: the cosine of each update "
        "with the exact gradient and the wall-clock cost of one update. Mean over seeds with a 95% bootstrap CI "
        f"(``results/scorecard.csv``), preset **{preset}**.\n",
        _image(scorecard_png, "rule scorecard figure"),
        scorecard_table(scorecard_rows, METRICS),
        _heading("Datasets"),
        (f"Skipped: {', '.join(skipped)} (the reason is in the table; their jobs and figures are left out, nothing "
         "else is affected)." if skipped else "Every configured dataset was used.") + "\n",
        datasets_table(datasets, b_tasks),
    ]
    return "\n".join(parts)
