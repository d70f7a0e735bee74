"""The lines `make run` prints before and after Snakemake (biocredit.plan)."""

from __future__ import annotations

import subprocess

from biocredit.plan import MEASURED_MINUTES, end_message, job_counts, start_message
from tests.conftest import REPO

DRY_RUN = """Building DAG of jobs...
Job stats:
job                         count
------------------------  -------
train                         125
curvature                      70
activity                       55
figure_a2                       1
figure_b3                       1
all                             1
total                         253

Reasons:
"""


def test_the_job_table_of_a_dry_run_is_read_and_summarised():
    counts = job_counts(DRY_RUN)
    assert counts == {"train": 125, "curvature": 70, "activity": 55, "figure_a2": 1, "figure_b3": 1, "all": 1}
    msg = start_message(counts, "default", cores=4)
    assert "253 jobs to run for preset 'default': 125 training runs, 70 Hessian measurements, 2 figures" in msg
    assert "studies A (neural similarity), B (generalization and curvature)" in msg
    minutes, cores, _ = MEASURED_MINUTES["default"]
    assert f"expected about {minutes * cores / 4:.0f} min on 4 cores" in msg
    assert "results/claims.json" in msg and "results/logs/" in msg
    assert "no whole timing of preset 'mine'" in start_message(counts, "mine", cores=2)
    assert job_counts("Nothing to be done (all requested files are present and up to date).") == {}
    assert "nothing to do" in start_message({}, "default", cores=2)
    assert "results/report.html" in end_message() and "python -m biocredit.verdicts" in end_message()


def test_make_run_and_make_smoke_print_the_plan_before_and_the_places_after():
    for target in ("run", "smoke"):
        cmds = subprocess.run(["make", "-n", target], cwd=REPO, capture_output=True, text=True,
                              check=True).stdout.splitlines()
        plan = next(i for i, c in enumerate(cmds) if "biocredit.plan start" in c)
        run = next(i for i, c in enumerate(cmds) if "snakemake --cores" in c and " -n " not in c)
        end = next(i for i, c in enumerate(cmds) if "biocredit.plan end" in c)
        assert plan < run < end, cmds
