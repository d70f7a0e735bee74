"""What a run is about to do, and where to look when it is done: the lines ``make run`` and ``make smoke`` print
before and after Snakemake.

    snakemake -n --quiet rules | python -m biocredit.plan start --preset default --cores 2
    python -m biocredit.plan end

``start`` reads the job table of a Snakemake dry run (``Job stats:``) and prints how many jobs of which kind will
run, for which studies, the expected wall time on this many cores (from the last whole timing of that preset, see
``docs/performance.md``) and where the results will be; ``end`` prints where to look.
"""

from __future__ import annotations

import argparse
import os
import sys

# Last whole timing of each preset on the project's 2-core VM: (minutes, cores, when and what). Update it with a new
# timing (docs/performance.md has the measurement behind each number).
MEASURED_MINUTES = {
    "default": (116.0, 2, "2026-12-03: 116 min wall, 221 CPU-min, from a fresh clone with set-up (code of 538ebe3, "
                "grad_cosine then at every checkpoint)"),
    "smoke": (2.1, 2, "2026-12-01: 127 s on a quiet machine"),
}
STUDY_A_JOBS = ("preprocess", "activity", "compare", "baselines", "normalized", "summarize_similarity")
STUDY_B_JOBS = ("curvature", "summarize_generalization", "download_mnist")


def job_counts(dry_run: str) -> dict[str, int]:
    """Jobs per Snakemake rule from the ``Job stats:`` table of a dry run (empty when nothing is to be done)."""
    if "Job stats:" not in dry_run:
        return {}
    counts: dict[str, int] = {}
    for line in dry_run.split("Job stats:", 1)[1].splitlines()[3:]:
        parts = line.split()
        if len(parts) != 2 or parts[0] == "total" or not parts[1].isdigit():
            break
        counts[parts[0]] = int(parts[1])
    return counts


def start_message(counts: dict[str, int], preset: str, cores: int) -> str:
    """The lines printed before a run: jobs by kind, studies, expected time on ``cores`` cores, where results go."""
    if not counts:
        return "biocredit: nothing to do, every output is up to date (results/, report: make report)\n"
    total = sum(counts.values())
    studies = [name for name, jobs in (("A (neural similarity)", STUDY_A_JOBS), ("B (generalization and curvature)",
                                                                                STUDY_B_JOBS))
               if any(counts.get(j) for j in jobs)]
    figures = sum(n for rule, n in counts.items() if rule.startswith("figure_"))
    lines = [f"biocredit: {total} jobs to run for preset '{preset}': {counts.get('train', 0)} training runs, "
             f"{counts.get('curvature', 0)} Hessian measurements, {figures} figures with their claims; "
             f"studies {', '.join(studies) or 'none'}."]
    if preset in MEASURED_MINUTES:
        minutes, measured_cores, note = MEASURED_MINUTES[preset]
        expected = minutes * measured_cores / max(cores, 1)
        lines.append(f"biocredit: expected about {expected:.0f} min on {cores} cores if every job runs "
                     f"(measured {minutes:g} min on {measured_cores} cores, {note}; docs/performance.md).")
    else:
        lines.append(f"biocredit: no whole timing of preset '{preset}' yet (docs/performance.md has per-job costs).")
    lines.append("biocredit: results go to results/ (figures results/figures/, claims results/claims.json); "
                 "progress lines below, each job's log under results/logs/.")
    return "\n".join(lines) + "\n"


def end_message() -> str:
    """The lines printed after a run: where to look."""
    return ("biocredit: done. Look at\n"
            "  results/claims.json           each claim: verdict (holds / fails / inconclusive), value, CI\n"
            "  python -m biocredit.verdicts results=results/claims.json   the same as a table\n"
            "  results/figures/A, results/figures/B   the figures (png and pdf)\n"
            "  make report                   results/report.html: verdicts and figures with captions\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m biocredit.plan", description=__doc__.split("\n\n")[0])
    parser.add_argument("when", choices=("start", "end"))
    parser.add_argument("--preset", default="default", help="the config's preset name (config key 'preset')")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1, help="cores Snakemake will use")
    args = parser.parse_args(argv)
    if args.when == "start":
        sys.stdout.write(start_message(job_counts(sys.stdin.read()), args.preset, args.cores))
    else:
        sys.stdout.write(end_message())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
