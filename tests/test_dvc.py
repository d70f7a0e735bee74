"""DVC around the workflow: `dvc repro` of the smoke preset, push to a remote, a fresh clone pulls the results, and
after the post-pull `--touch` step Snakemake has nothing to do and `dvc status` is clean. Also metrics and params."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest
import yaml

from biocredit.claims import VERDICTS
from tests.slurm.smoke import SMOKE_CONFIGFILES, mirror_or_skip, run, smoke_repo, timed, workflow_env

pytestmark = pytest.mark.slow

DVC = [sys.executable, "-m", "dvc"]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
SMOKE_ARGS = ["--configfile", *SMOKE_CONFIGFILES.split()]


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return smoke_repo(tmp_path_factory.getbasetemp(), mirror_or_skip())


def result_files(root: Path) -> set[str]:
    """Every file under results/ but the logs (not versioned), the report (made by test_report) and DVC's
    .gitignore files."""
    files = {str(p.relative_to(root)) for p in (root / "results").rglob("*") if p.is_file()}
    return {f for f in files if not f.startswith("results/logs/") and f != "results/report.html"
            and not f.endswith(".gitignore")}


def nothing_to_do(out: str) -> bool:
    return "Nothing to be done" in out


def test_repro_records_both_stages_with_the_smoke_preset(repo, mirror, tmp_path):
    env, log = workflow_env(mirror, repo), tmp_path / "dvc.log"
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    assert set(lock["stages"]) == {"data", "studies"}
    for stage in lock["stages"].values():
        assert stage["cmd"].endswith(SMOKE_CONFIGFILES) or f"{SMOKE_CONFIGFILES} " in stage["cmd"]
    outs = {o["path"] for o in lock["stages"]["studies"]["outs"]}
    assert {"results/runs", "results/claims.json", "results/claims"} <= outs
    assert lock["stages"]["studies"]["params"]["config.yaml"]["preset"] == "default"  # config.yaml's own keys
    assert "up to date" in run([*DVC, "status"], repo, env, log).stdout
    assert nothing_to_do(run([*SNAKEMAKE, "-n", *SMOKE_ARGS], repo, env, log).stdout)
    again = run([*DVC, "repro"], repo, env, log).stdout
    assert "didn't change, skipping" in again


def test_push_clone_pull_touch_then_nothing_to_do(repo, mirror, tmp_path):
    env, log = workflow_env(mirror, repo), tmp_path / "roundtrip.log"
    basetemp = tmp_path.parent
    remote, clone = tmp_path / "remote", tmp_path / "clone"
    with timed("DVC round trip (push, clone, pull, touch, checks)", basetemp):
        run([*DVC, "remote", "add", "-f", "-d", "store", remote], repo, env, log)
        run([*DVC, "push"], repo, env, log)
        run(["git", "add", "-A"], repo, env, log)
        run(["git", "add", "-f", "dvc.lock", "results/claims.json"], repo, env, log)  # results/ is git-ignored
        run(["git", "commit", "-q", "-m", "smoke results"], repo, env, log)

        run(["git", "clone", "-q", repo, clone], tmp_path, env, log)
        assert not (clone / "results/runs").exists()
        env = workflow_env(mirror, clone)
        run([*DVC, "pull"], clone, env, log)
        for rel in ("results/claims.json", "results/data/hatsopoulos2007.nc", "results/benchmarks"):
            assert (clone / rel).exists(), rel
        assert (clone / "results/claims.json").read_text() == (repo / "results/claims.json").read_text()
        unversioned = result_files(repo) - result_files(clone)
        assert not unversioned, f"made by `dvc repro` but not versioned by DVC: {sorted(unversioned)[:20]}"
        before = run([*SNAKEMAKE, "-n", *SMOKE_ARGS], clone, env, log).stdout
        print(f"snakemake -n right after dvc pull: {'nothing to do' if nothing_to_do(before) else 'would rerun'}")

        # The post-pull step (`make dvc-pull`): the command that made the results, from dvc.lock, with --touch.
        cmd = yaml.safe_load((clone / "dvc.lock").read_text())["stages"]["studies"]["cmd"]
        run([*shlex.split(cmd), "--touch"], clone, env, log)
        after = run([*SNAKEMAKE, "-n", *SMOKE_ARGS], clone, env, log).stdout
        assert nothing_to_do(after), after[-3000:]
        assert result_files(clone) == result_files(repo)  # --touch made no file
        assert "up to date" in run([*DVC, "status"], clone, env, log).stdout
        assert run(["git", "status", "--porcelain"], clone, env, log).stdout == ""


def test_metrics_show_lists_the_claims(repo, mirror, tmp_path):
    out = run([*DVC, "metrics", "show", "--json"], repo, workflow_env(mirror, repo), tmp_path / "metrics.log").stdout
    metrics = json.loads(out)[""]["data"]
    assert "results/claims.json" in metrics
    a2 = metrics["results/claims/A2-hatsopoulos2007.json"]["data"]
    assert a2["id"] == "A2-hatsopoulos2007" and a2["verdict"] in VERDICTS and a2["preset"] == "smoke"
    table = run([*DVC, "metrics", "show"], repo, workflow_env(mirror, repo), tmp_path / "metrics.log").stdout
    assert "results/claims.json" in table and "A2-hatsopoulos2007" in table


def test_params_diff_names_a_changed_config_key(repo, mirror, tmp_path):
    env, log = workflow_env(mirror, repo), tmp_path / "params.log"
    config = repo / "config.yaml"
    original = config.read_text()
    edited = original.replace("  n_split_half: 100\n", "  n_split_half: 7\n")
    assert edited != original, "config.yaml no longer has 'n_split_half: 100'"
    try:
        config.write_text(edited)
        diff = run([*DVC, "params", "diff"], repo, env, log).stdout
        assert "similarity.n_split_half" in diff and "100" in diff and "7" in diff, diff
        status = run([*DVC, "status"], repo, env, log).stdout
        assert "studies" in status and "changed deps" in status, status
    finally:
        config.write_text(original)
    assert run([*DVC, "params", "diff"], repo, env, log).stdout.strip() == ""


def test_rerun_of_figures_and_checkpoint_saves_leave_dvc_status_clean(repo, mirror, tmp_path):
    """Forcing the jittered figures (A3, A4, A5) to be made again gives the same bytes, so DVC sees no change
    (issue 13: seaborn's jitter was unseeded)."""
    env, log = workflow_env(mirror, repo), tmp_path / "rerun.log"
    run([*SNAKEMAKE, *SMOKE_ARGS, "--cores", "2", "--forcerun", "figure_a3", "figure_a4", "figure_a5"], repo, env,
        log)
    status = run([*DVC, "status"], repo, env, log).stdout
    assert "up to date" in status, status
