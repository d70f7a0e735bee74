"""Compare two `results/` folders of the smoke preset, made before and after a change that should not alter the
science: every JSON equal (claims with their verdicts and numbers), every NetCDF of the first folder with the same
data variables and coordinates in the second (attributes are not compared: they hold versions and times), every
PNG with the same pixels, every CSV the same bytes. Files only in the second folder are listed as new.

    python tests/smoke/compare_results.py BEFORE/results AFTER/results

Exits 1 when anything differs or is missing, and says what."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _json(a: Path, b: Path) -> str:
    return "" if json.loads(a.read_text()) == json.loads(b.read_text()) else "contents differ"


def _netcdf(a: Path, b: Path) -> str:
    import xarray as xr

    with xr.open_dataset(a) as x, xr.open_dataset(b) as y:
        x, y = x.load(), y.load()
    if set(x.data_vars) != set(y.data_vars):
        return f"data variables {sorted(x.data_vars)} vs {sorted(y.data_vars)}"
    bad = [v for v in x.data_vars if not x[v].drop_attrs().equals(y[v].drop_attrs())]
    bad += [f"coord {c}" for c in x.coords if c not in y.coords or not x[c].drop_attrs().equals(y[c].drop_attrs())]
    return f"differ: {bad}" if bad else ""


def _png(a: Path, b: Path) -> str:
    import numpy as np
    from matplotlib.image import imread

    x, y = imread(a), imread(b)
    if x.shape != y.shape:
        return f"size {x.shape} vs {y.shape}"
    n = int((np.abs(x - y) > 0).any(axis=-1).sum()) if x.ndim == 3 else int((x != y).sum())
    return f"{n} pixels differ (max |diff| {float(np.abs(x - y).max()):.3g})" if n else ""


def _bytes(a: Path, b: Path) -> str:
    return "" if a.read_bytes() == b.read_bytes() else "bytes differ"


CHECKS = {".json": _json, ".nc": _netcdf, ".png": _png, ".csv": _bytes}


def compare(before: Path, after: Path) -> list[str]:
    """One line per file checked: 'same', what differs, 'missing' or 'new'."""
    lines = []
    for suffix, check in CHECKS.items():
        old = {p.relative_to(before) for p in before.rglob(f"*{suffix}")}
        new = {p.relative_to(after) for p in after.rglob(f"*{suffix}")}
        for rel in sorted(old):
            if rel not in new:
                lines.append(f"MISSING {rel}")
                continue
            why = check(before / rel, after / rel)
            lines.append(f"DIFFERS {rel}: {why}" if why else f"same    {rel}")
        lines += [f"new     {rel}" for rel in sorted(new - old)]
    return lines


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    lines = compare(Path(argv[0]), Path(argv[1]))
    print("\n".join(lines))
    counts = {k: sum(line.startswith(k) for line in lines) for k in ("same", "DIFFERS", "MISSING", "new")}
    print(", ".join(f"{n} {k.lower()}" for k, n in counts.items()))
    return 1 if counts["DIFFERS"] or counts["MISSING"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
