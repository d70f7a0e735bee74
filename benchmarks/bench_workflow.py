"""Wall time of a whole preset (smoke, default) and the per-job time and peak memory Snakemake measured.

    python benchmarks/bench_workflow.py --preset smoke            # runs the smoke DAG in a fresh temp folder
    python benchmarks/bench_workflow.py --preset default --cores 2
    python benchmarks/bench_workflow.py --summarize results       # only the table, from an existing run's folder

The run goes into its own working folder (``-d``), so an existing ``results/`` is not touched. With a data mirror
(``$BIOCREDIT_DATA_MIRROR``, or ``../shared/data`` beside the repository as the Makefile does) nothing is
downloaded. Per-job figures come from the ``benchmark:`` files of the train and curvature rules
(``results/benchmarks/``): seconds and the job's peak resident memory (``max_rss``, MB), which is what the
profiles' ``mem_mb`` should follow (``suggested mem_mb`` = 1.5 × the largest, rounded up to 500 MB).
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PRESETS = {"smoke": ["tests/smoke/config.yaml"], "default": [], "paper": ["presets/paper.yaml"]}


def run_preset(preset: str, cores: int, workdir: Path) -> tuple[float, int]:
    """Run the whole DAG of ``preset`` in ``workdir``; return (wall seconds, jobs run)."""
    env = dict(os.environ)
    mirror = REPO.parent / "shared" / "data"
    if not env.get("BIOCREDIT_DATA_MIRROR") and mirror.is_dir():
        env["BIOCREDIT_DATA_MIRROR"] = str(mirror)
    env.setdefault("MPLBACKEND", "Agg")
    snakemake = Path(sys.executable).with_name("snakemake")
    configs = [str(REPO / "config.yaml"), *(str(REPO / c) for c in PRESETS[preset])]
    cmd = [str(snakemake), "-s", str(REPO / "Snakefile"), "-d", str(workdir), "--cores", str(cores),
           "--configfile", *configs]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    log = proc.stdout + proc.stderr
    (workdir / "bench_workflow.log").write_text(log)
    if proc.returncode:
        raise SystemExit(f"snakemake failed (exit {proc.returncode}); log: {workdir / 'bench_workflow.log'}\n"
                         + log[-3000:])
    return wall, log.count("Finished job")


def job_table(results: Path) -> dict[str, list[tuple[float, float]]]:
    """``{rule: [(seconds, max_rss MB), ...]}`` from the benchmark files under ``results/benchmarks``."""
    rows = defaultdict(list)
    for path in sorted((results / "benchmarks").glob("**/*.tsv")):
        rule = path.relative_to(results / "benchmarks").parts[0]
        with open(path) as fh:
            for rec in csv.DictReader(fh, delimiter="\t"):
                rss = float(rec["max_rss"]) if rec.get("max_rss") not in (None, "", "NA", "-") else math.nan
                rows[rule].append((float(rec["s"]), rss))
    return dict(rows)


def job_breakdown(results: Path) -> dict[tuple[str, ...], list[float]]:
    """``{(rule, study, learning rule): [seconds, ...]}``: where the benchmarked jobs' time goes (a train or curvature
    job's benchmark file is ``results/benchmarks/{rule}/{study}/{task}/{arch}/{run_name}/seed{seed}.tsv``)."""
    from biocredit.runs import parse_variant

    rows = defaultdict(list)
    for path in sorted((results / "benchmarks").glob("**/*.tsv")):
        parts = path.relative_to(results / "benchmarks").parts
        key = (parts[0], parts[1], parse_variant(parts[4])["rule"]) if len(parts) == 6 else (parts[0], "", "")
        with open(path) as fh:
            rows[key] += [float(rec["s"]) for rec in csv.DictReader(fh, delimiter="\t")]
    return dict(rows)


def print_breakdown(rows: dict[tuple[str, ...], list[float]]) -> None:
    total = sum(sum(v) for v in rows.values())
    print("| job | study | learning rule | jobs | sum s | share of benchmarked job time |")
    print("|---|---|---|---|---|---|")
    for key, secs in sorted(rows.items(), key=lambda kv: -sum(kv[1])):
        print(f"| {' | '.join(key)} | {len(secs)} | {sum(secs):.0f} | {100 * sum(secs) / total:.1f} % |")


def print_job_table(rows: dict[str, list[tuple[float, float]]]) -> None:
    print("| rule | jobs | median s | max s | sum s | max peak RSS (MB) | suggested mem_mb |")
    print("|---|---|---|---|---|---|---|")
    for rule, recs in sorted(rows.items()):
        secs = [s for s, _ in recs]
        rss = [r for _, r in recs if not math.isnan(r)]
        peak = max(rss) if rss else math.nan
        suggest = "-" if math.isnan(peak) else str(int(math.ceil(1.5 * peak / 500) * 500))
        print(f"| {rule} | {len(recs)} | {statistics.median(secs):.1f} | {max(secs):.1f} | {sum(secs):.0f} | "
              f"{peak:.0f} | {suggest} |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", choices=sorted(PRESETS), default="smoke")
    p.add_argument("--cores", type=int, default=os.cpu_count())
    p.add_argument("--workdir", type=Path, help="run here (default: a temporary folder, removed unless --keep)")
    p.add_argument("--keep", action="store_true", help="keep the temporary working folder")
    p.add_argument("--summarize", type=Path, metavar="RESULTS", help="only print the per-job table of a results/")
    args = p.parse_args()
    print(f"machine: {platform.machine()} {platform.system()} {platform.release()} | {os.cpu_count()} cores | "
          f"load average {os.getloadavg()[0]:.2f} at start | {time.strftime('%Y-%m-%d %H:%M')}")
    if args.summarize:
        print(f"\n### per-job figures of {args.summarize}\n")
        print_job_table(job_table(args.summarize))
        print()
        print_breakdown(job_breakdown(args.summarize))
        return
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix=f"biocredit-{args.preset}-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        wall, n_jobs = run_preset(args.preset, args.cores, workdir)
        print(f"\n### preset {args.preset}: {n_jobs} jobs, {wall:.0f} s wall ({wall / 60:.1f} min), "
              f"--cores {args.cores}, load average {os.getloadavg()[0]:.2f} at the end\n")
        print_job_table(job_table(workdir / "results"))
        print()
        print_breakdown(job_breakdown(workdir / "results"))
    finally:
        if args.workdir is None and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
