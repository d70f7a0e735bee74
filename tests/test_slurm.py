"""The smoke workflow through a real (one-node) SLURM cluster with profiles/slurm, compared with the local run.

By default the SLURM run makes a slice of the smoke DAG that passes every kind of SLURM job (plain CPU jobs, GPU
training jobs, a group job) in about a minute: the A1 figure of the reach task (two training runs), one run's
activity -> compare -> normalized group, and the recordings' baselines. BIOCREDIT_SLURM_FULL=1 runs the whole smoke
DAG through SLURM instead (several minutes: the one fake GPU runs the training jobs one at a time) and then also
compares claims.json. Either way every file the SLURM run made must equal the local run's.

tests/slurm/start_cluster.sh starts slurmctld + slurmd + munged on this machine (root and apt needed; otherwise the
test is skipped with the script's reason). The profile is profiles/slurm with the settings of this cluster: partition
`debug`, no account, status by squeue (no accounting database), and `train` asking for the node's fake GPU
(gpu=1, gpu_model=fake) so that the GPU request path is exercised; device=cpu. The cluster is left running (the start
script is idempotent); `bash tests/slurm/stop_cluster.sh` stops it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from tests.slurm.smoke import SMOKE_CONFIGFILES, assert_same_results, run, smoke_repo, timed, workflow_env

pytestmark = [pytest.mark.slow, pytest.mark.slurm]

START = REPO / "tests" / "slurm" / "start_cluster.sh"
FULL = os.environ.get("BIOCREDIT_SLURM_FULL", "") not in ("", "0")
TARGETS = [] if FULL else [
    "results/figures/A/A1_reach.png",
    "results/similarity/runs/similarity/reach/base/bptt/seed1/normalized.nc",
    "results/similarity/datasets/hatsopoulos2007/baselines.nc",
]
SUBMITTED = re.compile(r"Job (\S+) has been submitted with SLURM jobid (\d+) \(log: (\S+)\)")

# profiles/slurm/config.yaml, adapted to the one-node test cluster (2 CPUs, one fake GPU, no accounting).
CLUSTER = {
    "slurm-status-command": "squeue",   # no slurmdbd, so no sacct; slurm.conf keeps finished jobs 1 h
    "slurm-no-account": True,
    "slurm-init-seconds-before-status-checks": 1,
    "slurm-keep-successful-logs": True,  # the job logs are part of the evidence below
    "retries": 0,                        # fail fast
    "keep-going": False,
    "jobs": 4,
    "cores": 2,                          # caps the threads a group job asks for: the node has 2 CPUs
    "latency-wait": 10,
    "config": {"device": "cpu"},         # SLURM sets CUDA_VISIBLE_DEVICES for the fake GPU
}


def cluster_profile(profile: dict) -> dict:
    """The test cluster's variant of profiles/slurm."""
    profile = {**profile, **CLUSTER}
    profile["default-resources"] = {**profile["default-resources"], "slurm_partition": "debug", "mem_mb": 1000}
    resources = {rule: {**res, "mem_mb": 1000} if "mem_mb" in res else dict(res)
                 for rule, res in profile["set-resources"].items()}
    resources["train"].update(gpu=1, gpu_model="fake", cpus_per_task=1, runtime=30)
    profile["set-resources"] = resources
    profile["set-threads"] = {**profile["set-threads"], "train": 1}  # as in the local run (threads: 1)
    return profile


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    basetemp = tmp_path_factory.getbasetemp()
    with timed("start the SLURM cluster", basetemp):
        proc = subprocess.run(["bash", str(START)], capture_output=True, text=True, timeout=600)
    print(proc.stdout)
    if proc.returncode == 2:
        pytest.skip(proc.stderr.strip().splitlines()[0].removeprefix("SKIP: "))
    assert proc.returncode == 0, f"{START} failed:\n{proc.stdout}\n{proc.stderr}"


def scontrol(jobid: str) -> dict[str, str]:
    out = subprocess.run(["scontrol", "show", "job", jobid], capture_output=True, text=True, check=True).stdout
    return dict(re.findall(r"(\w+)=(\S*)", out))


def test_smoke_through_slurm_equals_local_run(cluster, mirror, tmp_path_factory):
    basetemp = tmp_path_factory.getbasetemp()
    local = smoke_repo(basetemp, mirror)  # the session's local smoke run; its code is the copy SLURM runs too
    work = basetemp / "slurm-run"
    work.mkdir()
    profile_dir = work / "profile"
    profile_dir.mkdir()
    profile = cluster_profile(yaml.safe_load((local / "profiles/slurm/config.yaml").read_text()))
    (profile_dir / "config.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    log = basetemp / "slurm-run.log"
    cmd = [sys.executable, "-m", "snakemake", *TARGETS, "-s", local / "Snakefile", "-d", work,
           "--workflow-profile", profile_dir, "--configfile", *(local / f for f in SMOKE_CONFIGFILES.split())]
    try:
        with timed("SLURM smoke run", basetemp):
            out = run(cmd, work, workflow_env(mirror, local), log, timeout=1800 if FULL else 600).stdout
    finally:  # never leave this run's jobs queued (e.g. after a timeout)
        run_id = re.search(r"SLURM run ID: (\S+)", log.read_text() if log.exists() else "")
        if run_id:
            subprocess.run(["scancel", f"--name={run_id.group(1)}"], capture_output=True)

    # Every job but the local rules went through SLURM, and each finished there.
    submitted = SUBMITTED.findall(out)
    assert submitted, out[-3000:]
    ran = set(re.findall(r"Finished jobid: \d+ \(Rule: (\w+)\)", out))
    local_rules = set(re.findall(r"^localrule (\w+):", out, re.MULTILINE))  # e.g. download (needs internet)
    assert "train" not in local_rules
    inside_slurm = set()
    for _, jobid, slurm_log in submitted:
        info = scontrol(jobid)
        assert info["JobState"] == "COMPLETED" and info["Partition"] == "debug", (jobid, info)
        inside_slurm |= set(re.findall(r"Finished jobid: \d+ \(Rule: (\w+)\)", Path(slurm_log).read_text()))
    assert ran - local_rules and ran - local_rules <= inside_slurm, (ran, local_rules, inside_slurm)

    # The training jobs asked SLURM for the fake GPU: sbatch --gpus=fake:1 is stored as TresPerJob=gres:gpu:fake:1.
    train_jobs = [jobid for _, jobid, slurm_log in submitted if "/rule_train/" in slurm_log]
    assert len(train_jobs) == len(list((work / "results/runs").rglob("checkpoints.pt"))) >= 2
    for jobid in train_jobs:
        assert scontrol(jobid).get("TresPerJob") == "gres:gpu:fake:1", scontrol(jobid)
    others = [jobid for _, jobid, slurm_log in submitted if "/rule_train/" not in slurm_log]
    assert others and all("gpu" not in scontrol(j).get("TresPerJob", "") for j in others)

    assert any("/group_per_run" in slurm_log for _, _, slurm_log in submitted), "no group job was submitted"
    with timed("compare SLURM and local results", basetemp):
        counts = assert_same_results(work, local, complete=FULL)
    print(f"SLURM run = local run: {counts}; {len(submitted)} SLURM jobs; log: {log}")
