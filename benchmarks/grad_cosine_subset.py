"""What measuring ``grad_cosine`` at every k-th checkpoint changes, read off runs that measured it at every one.

``training.grad_cosine_every: k`` skips the exact forward and backward of a non-BPTT rule at all but every k-th
checkpoint; training itself is the same for every k (``tests/test_train.py``), so a run logged with k = 1 holds
every subset's numbers: its grad_cosine at checkpoints 0, k, 2k, … of the schedule. This script takes such runs
(a ``results/`` of a workflow run with ``grad_cosine_every: 1``) and prints, per study, task, arch and run name,
the quantity the scorecard and claim B7 read (each run's mean over its checkpoints, then the mean over seeds with
the scorecard's 95 % percentile-bootstrap CI) at k = 1 and at each k asked, with the shift as a fraction of the CI's
half-width and the exact passes per run that remain.

    python benchmarks/grad_cosine_subset.py results --k 2 3 5 10 --study similarity
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np
import xarray as xr

from biocredit.io import open_netcdf
from biocredit.runs import parse_variant
from biocredit.scorecard import run_grad_cosine
from biocredit.stats import bootstrap_ci

RUN_RE = re.compile(r"runs/(?P<study>[^/]+)/(?P<task>[^/]+)/(?P<arch>[^/]+)/(?P<run>[^/]+)/seed(?P<seed>\d+)"
                    r"/metrics\.nc$")


def run_logs(results: Path) -> dict[tuple, list[tuple[xr.Dataset, int]]]:
    """Each group's runs: (metrics log, checkpoints followed by an update), by (study, task, arch, run name)."""
    groups: dict[tuple, list] = {}
    for path in sorted(results.glob("runs/*/*/*/*/seed*/metrics.nc")):
        m = RUN_RE.search(path.as_posix())
        if m is None:
            continue
        with open_netcdf(path) as ds:
            ds = ds[["grad_cosine"]].load().assign_attrs(ds.attrs)
        every = json.loads(ds.attrs["train_config"]).get("grad_cosine_every", 1)
        if every != 1:
            raise SystemExit(f"{path}: logged with grad_cosine_every={every}; this script needs runs that "
                             "measured grad_cosine at every checkpoint")
        updated = int(np.count_nonzero(ds["checkpoint"].values < int(ds.attrs["stopped_at"])))
        groups.setdefault((m["study"], m["task"], m["arch"], m["run"]), []).append((ds, updated))
    return groups


def summary(runs: list[tuple[xr.Dataset, int]], k: int) -> tuple[float, float, float, float]:
    """(mean over runs of :func:`~biocredit.scorecard.run_grad_cosine` at every k-th checkpoint, CI low, CI high,
    exact passes per run), the CI as the scorecard's (bootstrap over runs, seed 0)."""
    x = np.array([run_grad_cosine(ds, every=k) for ds, _ in runs])
    x = x[np.isfinite(x)]
    lo, hi = bootstrap_ci(x) if x.size >= 2 else (np.nan, np.nan)
    passes = float(np.mean([len(range(0, updated, k)) for _, updated in runs]))
    return (float(x.mean()) if x.size else np.nan), lo, hi, passes


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", type=Path, help="a results/ folder of runs logged with grad_cosine_every: 1")
    ap.add_argument("--k", type=int, nargs="+", default=[2, 3, 5, 10])
    ap.add_argument("--study", help="only this study's runs (similarity or generalization)")
    args = ap.parse_args(argv)
    groups = run_logs(args.results)
    if not groups:
        print(f"no runs under {args.results}/runs", file=sys.stderr)
        return 1
    head = "| study | task | arch | run | n | k=1 mean [95% CI] | exact passes/run |"
    head += "".join(f" k={k}: shift/half-width (passes) |" for k in args.k)
    print(head)
    print("|" + "---|" * (7 + len(args.k)))
    worst = {k: 0.0 for k in args.k}
    for (study, task, arch, run), curves in sorted(groups.items()):
        if args.study and study != args.study:
            continue
        mean, lo, hi, passes = summary(curves, 1)
        if not np.isfinite(mean):
            continue
        exact = parse_variant(run)["rule"] != "bptt"  # BPTT's update is the gradient: no extra pass, cosine 1
        half = (hi - lo) / 2
        cells = []
        for k in args.k:
            m_k, _, _, p_k = summary(curves, k)
            if not np.isfinite(half):
                cells.append(" n/a (n < 2) |")
                continue
            ratio = abs(m_k - mean) / half if half > 0 else (0.0 if m_k == mean else np.inf)
            worst[k] = max(worst[k], ratio)
            cells.append(f" {ratio:.2f} ({p_k if exact else 0:.0f}) |")
        print(f"| {study} | {task} | {arch} | {run} | {len(curves)} | {mean:.4f} [{lo:.4f}, {hi:.4f}] | "
              f"{passes if exact else 0:.0f} |" + "".join(cells))
    print()
    print("largest shift / CI half-width over all rows: "
          + ", ".join(f"k={k}: {worst[k]:.2f}" for k in args.k) + "  (within the CI when < 1)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
