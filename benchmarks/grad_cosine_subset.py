"""What measuring ``grad_cosine`` at every k-th checkpoint changes, read off runs that measured it at every one.

``training.grad_cosine_every: k`` skips the exact forward and backward of a non-BPTT rule at all but every k-th
checkpoint; training itself is the same for every k (``tests/test_train.py``), so a run logged with k = 1 holds
every subset's numbers: its grad_cosine at checkpoints 0, k, 2k, … of the schedule. This script takes such runs
(a ``results/`` of a workflow run with ``grad_cosine_every: 1``) and prints, per study, task, arch and run name,
the quantity the scorecard and claim B7 read (each run's mean over its checkpoints, then the mean over seeds with
the scorecard's 95 % percentile-bootstrap CI) at k = 1 and at each k asked, with the shift as a fraction of the CI's
half-width and the exact passes per run that remain.

    python benchmarks/grad_cosine_subset.py results --k 2 3 5 10
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

from biocredit.io import open_netcdf
from biocredit.runs import parse_variant
from biocredit.stats import bootstrap_ci

RUN_RE = re.compile(r"runs/(?P<study>[^/]+)/(?P<task>[^/]+)/(?P<arch>[^/]+)/(?P<run>[^/]+)/seed(?P<seed>\d+)"
                    r"/metrics\.nc$")


def run_curves(results: Path) -> dict[tuple, list[tuple[np.ndarray, int]]]:
    """Each group's runs: (grad_cosine per checkpoint, checkpoints that had an update), by (study, task, arch, run)."""
    groups: dict[tuple, list] = {}
    for path in sorted(results.glob("runs/*/*/*/*/seed*/metrics.nc")):
        m = RUN_RE.search(path.as_posix())
        if m is None:
            continue
        with open_netcdf(path) as ds:
            cfg = json.loads(ds.attrs["train_config"])
            if cfg.get("grad_cosine_every", 1) != 1:
                raise SystemExit(f"{path}: logged with grad_cosine_every={cfg['grad_cosine_every']}; this script "
                                 "needs runs that measured grad_cosine at every checkpoint")
            cos = np.asarray(ds["grad_cosine"].values, dtype=np.float64)
            steps = np.asarray(ds["checkpoint"].values)
            last = int(ds.attrs["stopped_at"])
        updated = int(np.count_nonzero(steps < last))  # checkpoints followed by an update of the run
        groups.setdefault((m["study"], m["task"], m["arch"], m["run"]), []).append((cos, updated))
    return groups


def summary(curves: list[tuple[np.ndarray, int]], k: int) -> tuple[float, float, float, float]:
    """(mean over runs of each run's mean grad_cosine at every k-th checkpoint, CI low, CI high, exact passes per
    run) — the CI as the scorecard's (bootstrap over runs, seed 0)."""
    per_run = []
    for cos, _ in curves:
        kept = cos[::k]
        kept = kept[np.isfinite(kept)]
        per_run.append(kept.mean() if kept.size else np.nan)
    x = np.array(per_run)
    x = x[np.isfinite(x)]
    lo, hi = bootstrap_ci(x) if x.size >= 2 else (np.nan, np.nan)
    passes = float(np.mean([len(range(0, updated, k)) for _, updated in curves]))
    return (float(x.mean()) if x.size else np.nan), lo, hi, passes


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", type=Path, help="a results/ folder of runs logged with grad_cosine_every: 1")
    ap.add_argument("--k", type=int, nargs="+", default=[2, 3, 5, 10])
    args = ap.parse_args(argv)
    groups = run_curves(args.results)
    if not groups:
        print(f"no runs under {args.results}/runs", file=sys.stderr)
        return 1
    head = "| study | task | arch | run | n | k=1 mean [95% CI] | exact passes/run |"
    head += "".join(f" k={k}: shift/half-width (passes) |" for k in args.k)
    print(head)
    print("|" + "---|" * (7 + len(args.k)))
    worst = {k: 0.0 for k in args.k}
    for (study, task, arch, run), curves in sorted(groups.items()):
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
