"""Shared figure settings: each rule's colour (its label is :data:`biocredit.runs.RULE_LABELS`, re-exported here),
the theme, and byte-stable, atomic saving."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

from biocredit.io import atomic_path  # noqa: E402
from biocredit.runs import RULE_LABELS  # noqa: E402, F401 - the labels beside the colours

RULE_COLORS = {
    "bptt": "#000000",
    "eprop": "#c51b8a",
    "eprop_random": "#7a0177",
    "tbptt": "#2c7fb8",
    "rflo": "#31a354",
    "mdgl": "#fd8d3c",
    "bptt_random": "#636363",
    "modprop": "#e6550d",
}


def rule_color(rule: str) -> str:
    """The rule's colour; rules without one get a stable colour from the default cycle."""
    if rule in RULE_COLORS:
        return RULE_COLORS[rule]
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    return cycle[sum(map(ord, rule)) % len(cycle)]


def setup() -> None:
    sns.set_theme(context="paper", style="ticks", font_scale=1.1)
    plt.rcParams["svg.hashsalt"] = "biocredit"
    plt.rcParams["figure.dpi"] = 100


def save(fig, *paths: str | Path) -> None:
    """Save ``fig`` to each path (format by suffix) without timestamps, atomically; then close it."""
    for p in paths:
        p = Path(p)
        meta = {"CreationDate": None} if p.suffix == ".pdf" else {"Software": None} if p.suffix == ".png" else {}
        with atomic_path(p) as tmp:
            fig.savefig(tmp, format=p.suffix.lstrip("."), bbox_inches="tight", metadata=meta, dpi=150)
    plt.close(fig)


def stripplot(*args, seed: int = 0, **kwargs):
    """``seaborn.stripplot`` with its jitter seeded: seaborn draws the jitter from NumPy's global random state, so
    the same data would otherwise give different (PNG/PDF) bytes on every rerun. The global state is restored."""
    import numpy as np

    state = np.random.get_state()  # noqa: NPY002 - seaborn draws from this legacy global state
    np.random.seed(seed)  # noqa: NPY002
    try:
        return sns.stripplot(*args, **kwargs)
    finally:
        np.random.set_state(state)  # noqa: NPY002
