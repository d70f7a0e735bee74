"""The estimate of a claim drawn against its threshold, beside a claim's figure: one row per part of the claim (a
level of A3, a metric of A6, a rule of A7, a sensitivity row), each its estimate with its confidence interval over
the region where it would hold (±margin for an equivalence claim, beyond the smallest effect of interest for a
directional one), coloured and labelled by its verdict. Used by both studies' figures (:func:`add_verdict_panel`);
:func:`items_of_row` reads a study-A claim row."""

from __future__ import annotations

import math

import numpy as np

from biocredit.claims import FAILS, HOLDS, INCONCLUSIVE, NOT_TESTABLE

__all__ = ["VERDICT_COLORS", "add_verdict_panel", "items_of_row", "verdict_panel"]

VERDICT_COLORS = {HOLDS: "#1a9850", FAILS: "#d73027", INCONCLUSIVE: "#e08214", NOT_TESTABLE: "#8c8c8c"}


def _finite(x) -> bool:
    return x is not None and isinstance(x, (int, float)) and math.isfinite(x)


def verdict_panel(ax, items: list[dict], *, xlabel: str = "estimate [CI]") -> None:
    """Draw ``items`` on ``ax``, top to bottom. Each item: ``label``, ``value``, ``ci`` (two numbers, or NaN),
    ``verdict``, and either ``margin`` (equivalence: the band ±margin is shaded) or ``sesoi`` (directional: the
    region beyond it on the predicted side, ``direction`` 1 or −1, is shaded)."""
    n = len(items)
    ends = [0.0]
    for it in items:
        ends += [v for v in (it.get("value"), *(it.get("ci") or [])) if _finite(v)]
        ends += [s * it["margin"] for s in (-1, 1) if _finite(it.get("margin"))]
        ends += [it["sesoi"]] if _finite(it.get("sesoi")) else []
    lo, hi = min(ends), max(ends)
    pad = 0.15 * (hi - lo or 1.0)
    lo, hi = lo - pad, hi + pad
    for k, it in enumerate(items):
        y = n - 1 - k
        colour = VERDICT_COLORS.get(it.get("verdict"), VERDICT_COLORS[NOT_TESTABLE])
        if _finite(it.get("margin")):
            m = abs(it["margin"])
            ax.fill_between([-m, m], y - 0.35, y + 0.35, color="#d9f0d3", lw=0, label="_band")
            ax.plot([-m, -m], [y - 0.35, y + 0.35], color="#5aae61", lw=1)
            ax.plot([m, m], [y - 0.35, y + 0.35], color="#5aae61", lw=1)
        elif _finite(it.get("sesoi")):
            s, d = it["sesoi"], it.get("direction", 1)
            ax.fill_between([s, hi] if d > 0 else [lo, -s], y - 0.35, y + 0.35, color="#d9f0d3", lw=0)
            ax.plot([d * s, d * s], [y - 0.35, y + 0.35], color="#5aae61", lw=1)
        ci = it.get("ci") or [np.nan, np.nan]
        if all(_finite(v) for v in ci):
            ax.plot(ci, [y, y], color=colour, lw=2.5, solid_capstyle="butt")
        if _finite(it.get("value")):
            ax.plot([it["value"]], [y], "o", color=colour, ms=6)
        ax.text(hi, y + 0.38, str(it.get("verdict", "")), ha="right", va="bottom", fontsize=7, color=colour)
    ax.axvline(0.0, color="#404040", lw=0.6, ls=":")
    ax.set_xlim(lo, hi)
    ax.set_ylim(-0.7, n - 0.2)
    ax.set_yticks(range(n))
    ax.set_yticklabels([it["label"] for it in reversed(items)], fontsize=7)
    ax.set_xlabel(xlabel, fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    ax.set_title("estimate vs threshold\n(shaded: where it holds)", fontsize=8)


def add_verdict_panel(fig, items: list[dict], *, xlabel: str = "estimate [CI]"):
    """A :func:`verdict_panel` on a new axes to the right of ``fig``'s (saving with a tight bounding box takes it
    in). Returns the axes."""
    height = min(0.9, 0.12 + 0.11 * max(1, len(items)))
    ax = fig.add_axes((1.12, 0.5 - height / 2, 0.38, height))
    verdict_panel(ax, items, xlabel=xlabel)
    return ax


def items_of_row(row: dict, label: str | None = None) -> list[dict]:
    """The panel's items of a study-A claim row: A3 one per level, A6 one per metric, A7 one per rule, otherwise
    one (A2, A5); ``label`` names the row's item(s) (e.g. a sensitivity row's name)."""
    prefix = f"{label}: " if label else ""
    if row.get("levels"):
        return [{"label": f"{prefix}level {t['level']:g}", "value": t.get("mean_diff"), "ci": t.get("ci"),
                 "verdict": t.get("verdict"), "margin": row.get("margin")} for t in row["levels"]]
    if row.get("metrics"):
        return [{"label": f"{prefix}{m}", "value": t.get("mean_diff"), "ci": t.get("ci"), "verdict": t.get("verdict"),
                 "margin": t.get("margin")} for m, t in row["metrics"].items()]
    if row.get("rule_tests"):
        return [{"label": f"{prefix}{r} below baseline", "value": t.get("margin_below_baseline"), "ci": t.get("ci"),
                 "verdict": t.get("verdict"), "sesoi": row.get("sesoi", 0.0)} for r, t in row["rule_tests"].items()]
    return [{"label": label or row.get("id", ""), "value": row.get("value"), "ci": row.get("ci"),
             "verdict": row.get("verdict"), "margin": row.get("margin")}]
