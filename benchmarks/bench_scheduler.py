"""Snakemake's own CPU time while it schedules a DAG, at several ``--max-jobs-per-timespan`` settings.

    python benchmarks/bench_scheduler.py [--jobs 150 --seconds 0.5 --cores 2 --timespans 100/1s 100/5s 100/10s]

Why: in a default-preset ``make run`` at Snakemake's default rate limit the ``snakemake`` process itself used 36 % of
one core (930 CPU-s in the first 43 minutes, 168 threads, both growing as jobs finished; 2026-12-01, Snakemake 9.27).
With a job rate limit set (the default is ``100/1s``), every pass of the scheduler's loop that finds ready jobs
starts a ``threading.Timer`` of one timespan that wakes the loop again, and every finished job starts one more such
chain: after k finished jobs the loop runs about k times per timespan while jobs wait for cores, and each pass
re-evaluates every waiting job's resources and stats its inputs. A longer timespan makes the passes rarer; its price is
that Snakemake waits up to one timespan for the pending timers before it exits.
(The growing thread count and CPU match snakemake/snakemake#2967, open upstream.)

The DAG here is ``--jobs`` independent chains of two jobs that each sleep ``--seconds`` (no CPU of their own), run
at ``--cores``; for each timespan the script reports the snakemake process's own CPU seconds (user + system, read
from ``/proc`` until it exits; Linux only), its wall time and the most threads it had.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SNAKEFILE = """
rule all:
    input: expand("b/{{i}}.txt", i=range({n}))
rule a:
    output: "a/{{i}}.txt"
    shell: "sleep {s}; touch {{output}}"
rule b:
    input: "a/{{i}}.txt"
    output: "b/{{i}}.txt"
    shell: "sleep {s}; touch {{output}}"
"""


def _proc_cpu_threads(pid: int) -> tuple[float, int] | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        n_threads = len(os.listdir(f"/proc/{pid}/task"))
    except (FileNotFoundError, ProcessLookupError):
        return None
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick, n_threads  # utime + stime of the process itself


def run_once(workdir: Path, cores: int, timespan: str) -> tuple[float, float, int]:
    """Run the DAG in ``workdir`` once; return (snakemake's own CPU s, wall s, most threads)."""
    snakemake = Path(sys.executable).with_name("snakemake")
    cmd = [str(snakemake), "-s", str(workdir / "Snakefile"), "-d", str(workdir), "--cores", str(cores),
           "--max-jobs-per-timespan", timespan, "--quiet"]
    t0 = time.perf_counter()
    log = workdir / "snakemake.log"
    with open(log, "w") as out:  # a file, not a pipe: nobody reads a pipe while polling, and a full one would block
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        cpu, threads = 0.0, 0
        while proc.poll() is None:
            sample = _proc_cpu_threads(proc.pid)
            if sample is not None:
                cpu, threads = sample[0], max(threads, sample[1])
            time.sleep(0.1)
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"snakemake failed at {timespan}: {log.read_text()[-2000:]}")
    return cpu, wall, threads


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--jobs", type=int, default=150, help="chains of two sleeping jobs")
    p.add_argument("--seconds", type=float, default=0.5, help="each job's sleep")
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--timespans", nargs="+", default=["100/1s", "100/5s", "100/10s"])
    args = p.parse_args()
    if not Path("/proc/self/stat").exists():
        raise SystemExit("this benchmark reads /proc (Linux only)")
    print(f"machine: {platform.machine()} {platform.system()} | {os.cpu_count()} cores | load average "
          f"{os.getloadavg()[0]:.2f} at start | {time.strftime('%Y-%m-%d %H:%M')} | {2 * args.jobs + 1} jobs of "
          f"{args.seconds} s sleep at --cores {args.cores} "
          f"(ideal wall {2 * args.jobs * args.seconds / args.cores:.0f} s)")
    print("\n| --max-jobs-per-timespan | snakemake's own CPU (s) | wall (s) | most threads |")
    print("|---|---|---|---|")
    for timespan in args.timespans:
        with tempfile.TemporaryDirectory(prefix="bench-scheduler-") as tmp:
            work = Path(tmp)
            (work / "Snakefile").write_text(SNAKEFILE.format(n=args.jobs, s=args.seconds))
            cpu, wall, threads = run_once(work, args.cores, timespan)
        print(f"| {timespan} | {cpu:.1f} | {wall:.0f} | {threads} |")


if __name__ == "__main__":
    main()
