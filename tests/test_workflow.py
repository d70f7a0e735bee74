"""The workflow as a user runs it: lint, dry run of the default config, the smoke preset end to end."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
import xarray as xr

from biocredit.plan import job_counts
from tests.conftest import REPO, data_mirror, merged_config

SNAKEMAKE = [sys.executable, "-m", "snakemake"]
SMOKE = REPO / "tests" / "smoke" / "config.yaml"


def snakemake(*args, cwd=REPO, env=None, check=True):
    proc = subprocess.run(
        [*SNAKEMAKE, *args], cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=900
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n"
                             f"{proc.stderr[-3000:]}")
    return proc


def test_lint_is_clean():
    out = snakemake("--lint", check=False)
    assert out.returncode == 0, out.stdout + out.stderr


def test_dry_run_of_default_config(tmp_path):
    out = snakemake("-n", "-s", str(REPO / "Snakefile"), "-d", str(tmp_path), "--configfile", str(REPO / "config.yaml"))
    text = out.stdout + out.stderr
    assert "train" in text and "figure_a2" in text


def test_unknown_config_key_is_named(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("similarity:\n  seedz: [1]\n")
    out = snakemake("-n", "-d", str(tmp_path), "--configfile", str(REPO / "config.yaml"), str(bad), check=False)
    assert out.returncode != 0
    assert "seedz" in out.stdout + out.stderr


def test_wrong_type_is_named(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("similarity:\n  training:\n    lr: fast\n")
    out = snakemake("-n", "-d", str(tmp_path), "--configfile", str(REPO / "config.yaml"), str(bad), check=False)
    assert out.returncode != 0
    assert "fast" in out.stdout + out.stderr


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """The smoke preset run once in a copy of the workflow (Snakefile, rules, scripts, the library's sources, config
    files), so that tests may edit the copy's library files: (snakemake arguments, environment, results folder,
    workflow copy). Jobs import the installed library; the copy's src/biocredit holds what the rules list as
    ``lib()`` inputs."""
    mirror = data_mirror()
    if mirror is None:
        pytest.skip("no data mirror: set BIOCREDIT_DATA_MIRROR or place shared/data beside the repository")
    work = tmp_path_factory.mktemp("smoke")
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for folder in ("rules", "scripts", "src", "envs", "profiles", "tests/smoke"):
        shutil.copytree(REPO / folder, work / folder, ignore=ignore)
    for f in ("Snakefile", "config.yaml"):
        shutil.copy2(REPO / f, work / f)
    args = ["-s", str(work / "Snakefile"), "-d", str(work), "--configfile", str(work / "config.yaml"),
            str(work / "tests/smoke/config.yaml"), "--cores", "2"]
    env = {"BIOCREDIT_DATA_MIRROR": str(mirror)}
    snakemake(*args, env=env, cwd=work)
    return args, env, work / "results", work


@pytest.mark.slow
def test_smoke_preset_runs_whole_dag_then_has_nothing_to_do(smoke):
    args, env, res, work = smoke
    claims = json.loads((res / "claims.json").read_text())
    row = {r["id"]: r for r in claims}["A2-hatsopoulos2007"]
    assert row["preset"] == "smoke" and row["n"] == 4  # runs of the first arch
    # 2 seeds per rule are fewer than verdicts.min_runs: the smoke preset decides nothing, whatever its interval
    assert row["verdict"] == "inconclusive" and row["holds"] is None and "too few runs" in row["note"]
    assert row["value"] is not None and len(row["ci"]) == 2
    sensitivity = {r["id"]: r for r in claims}["A3-hatsopoulos2007-equal-lr"]  # BPTT at the study's lr too
    assert "bptt-lr0.005" in sensitivity["note"] and sensitivity["verdict"] == "inconclusive"
    assert (res / "figures/A/A2_hatsopoulos2007.png").stat().st_size > 10_000
    assert (res / "figures/A/A1_reach.png").stat().st_size > 10_000
    assert (res / "figures/A/A3_hatsopoulos2007.png").stat().st_size > 10_000
    assert {f"A{k}-hatsopoulos2007" for k in range(2, 8)} <= {r["id"] for r in claims}
    for k in (4, 5, 6, 7):
        assert (res / f"figures/A/A{k}_hatsopoulos2007.png").stat().st_size > 10_000
    with xr.open_dataset(res / "data/hatsopoulos2007.nc") as ds:
        assert ds["rate"].dims == ("unit", "time", "condition") and ds.sizes["unit"] == 141
        assert ds.attrs["sha256"].startswith("42ba0083")
    with xr.open_dataset(res / "activity/similarity/reach/base/eprop/seed1/activity.nc") as act:
        assert act["rate"].dims == ("checkpoint", "unit", "time", "condition")
        assert float(act.time[0]) == -800 and act.sizes["unit"] == 16
    again = snakemake(*args, "-n", env=env, cwd=work)
    assert "Nothing to be done" in again.stdout + again.stderr


@pytest.mark.slow
def test_a_copied_project_folder_has_nothing_to_do(smoke, tmp_path):
    """A finished run copied (or moved) to another folder, times kept, is still up to date there: the rules' inputs
    are relative to the project folder, not absolute paths that differ in the copy (they would rerun every job)."""
    args, env, _, work = smoke
    copy = tmp_path / "copied"
    shutil.copytree(work, copy, symlinks=True)
    moved = [str(copy / os.path.relpath(a, work)) if a.startswith(f"{work}") else a for a in args]
    out = snakemake(*moved, "-n", env=env, cwd=copy)
    assert "Nothing to be done" in out.stdout + out.stderr, job_counts(out.stdout + out.stderr)




def _jobs_after_editing(smoke, module: str) -> dict[str, int]:
    """The jobs ``snakemake -n`` plans (rule -> count) after an edit of library module ``module`` (a path under
    src/biocredit of the workflow copy): a comment line added, as a rewording would. Snakemake reruns a job whose
    input changed in content (a newer time alone, with the recorded checksum, does not); the file is put back."""
    args, env, _, work = smoke
    path = work / "src" / "biocredit" / module
    text = path.read_text()
    try:
        path.write_text(text + "\n# reworded\n")
        out = snakemake(*args, "-n", env=env, cwd=work)
    finally:
        path.write_text(text)
    return job_counts(out.stdout + out.stderr)


FIGURES_A = {f"figure_a{k}" for k in range(1, 8)}
FIGURES_B = {f"figure_b{k}" for k in range(1, 8)}
CLAIMS_A = {f"claim_a{k}" for k in range(2, 8)}  # A1 has no claim
CLAIMS_B = {f"claim_b{k}" for k in range(1, 8)}
CLAIM_DOWNSTREAM = {"claims", "report_landing", "all"}  # they read the claim files the claim jobs rewrite
FIGURE_DOWNSTREAM = {"report_landing", "all"}  # the landing page shows the headline figures


@pytest.mark.slow
@pytest.mark.parametrize(("module", "jobs_of_study"), [("claims/study_b.py", CLAIMS_B | FIGURES_B),
                                                       ("claims/study_a.py", CLAIMS_A | FIGURES_A)])
def test_rewording_a_claim_reruns_only_claim_and_figure_jobs(smoke, module, jobs_of_study):
    """A claim module is an input of its study's claim jobs, whose rows the figure jobs draw (and of the study-A
    figure jobs, which take the claim's accuracy grid from it), and of nothing that trains, measures or summarizes:
    no train, curvature, activity, network or summary job reruns."""
    jobs = _jobs_after_editing(smoke, module)
    assert set(jobs) == jobs_of_study | CLAIM_DOWNSTREAM, jobs
    assert all(jobs[f] == 1 for f in jobs_of_study)  # one dataset (A) or one task (B) in the smoke preset


@pytest.mark.slow
@pytest.mark.parametrize(("module", "figures"), [("figures/generalization.py", FIGURES_B),
                                                 ("figures/dynamics.py", FIGURES_A),
                                                 ("figures/verdict.py", FIGURES_A),
                                                 ("figures/tasks.py", FIGURES_A)])
def test_editing_a_figure_module_reruns_its_figures(smoke, module, figures):
    """A figure module redraws its study's figures (the stage module of figures_a.smk / figures_b.smk imports it),
    and only them: no claim job (the rows, and claims.json, stay), no summary, no measurement (A5's DSA and spectra,
    A1's forward passes), no training or curvature job, not the other study's figures."""
    jobs = _jobs_after_editing(smoke, module)
    assert set(jobs) == figures | FIGURE_DOWNSTREAM, jobs


@pytest.mark.slow
def test_editing_a5s_drawing_reruns_no_dsa_job(smoke):
    """Changing how A5 is drawn (a colour, a panel) does not run DSA again: the pairwise distances are the
    ``network_dynamics`` summary, and its job does not import the drawing."""
    jobs = _jobs_after_editing(smoke, "figures/dynamics.py")
    assert "figure_a5" in jobs and not {"network_dynamics", "claim_a5", "activity", "train"} & set(jobs), jobs


@pytest.mark.slow
def test_editing_the_curvature_measurement_reruns_curvature_not_training(smoke):
    """The other direction: checkpoint_curvature feeds the Hessian jobs and what reads them, never training."""
    from biocredit.runs import grid

    jobs = _jobs_after_editing(smoke, "curvature/checkpoint.py")
    n_b_runs = len(grid(merged_config(str(SMOKE.relative_to(REPO)))["generalization"]))  # one Hessian job a run
    assert jobs["curvature"] == n_b_runs and "train" not in jobs and "activity" not in jobs
    assert {"summarize_generalization", "scorecard"} <= set(jobs) and not FIGURES_A & set(jobs)


def test_paper_preset_expands_the_grid(tmp_path):
    # no mirror: downloadable data (Hatsopoulos, Mante) are planned; Sussillo (not public, not configured) is not
    out = snakemake("-n", "-d", str(tmp_path), "--configfile", str(REPO / "config.yaml"),
                    str(REPO / "presets/paper.yaml"), env={"BIOCREDIT_DATA_MIRROR": ""})
    text = out.stdout + out.stderr
    outputs = [line for line in text.splitlines() if line.strip().startswith("output:")]
    study_a_runs = [line for line in outputs if "results/runs/similarity/" in line and "checkpoints.pt" in line]
    # reach: seven arch rows (g0 0.5/1/1.5/2, tanh, Dale, sparse) x two rules x five seeds; Mante: the paper's
    # N=400 row x two rules x five seeds; plus the equal-learning-rate check (BPTT at e-prop's lr on each dataset's
    # first arch row, similarity.equal_lr_check) x five seeds
    assert len(study_a_runs) == 7 * 2 * 5 + 2 * 5 + 2 * 5
    assert sum("/bptt-lr0.0003/" in line for line in study_a_runs) == 2 * 5
    assert sum("runs/similarity/mante/base400/" in line for line in study_a_runs) == 3 * 5  # with the check
    assert sum("runs/similarity/reach/dale/" in line for line in study_a_runs) == 10
    assert any("results/runs/generalization/smnist/" in line for line in outputs)  # study B on MNIST


@pytest.mark.parametrize("slice_file", [None, "presets/paper-slice-a.yaml", "presets/paper-slice-a-bptt1e-3.yaml"])
def test_paper_preset_trains_study_a_for_every_update(slice_file):
    """The authors train every reach run for all 1000 updates: the paper preset (and its slices) must switch off the
    default preset's early stop, which a merged config file would otherwise inherit from config.yaml."""
    from biocredit.runs import similarity_run_config
    from biocredit.train import make_train_config

    default = make_train_config(similarity_run_config(merged_config(), "reach", "base", "eprop")["train_cfg"])
    assert default.stop_at == 0.95  # the default does stop early, so the preset has something to undo
    config = merged_config("presets/paper.yaml", *([slice_file] if slice_file else []))
    for rule in ("bptt", "eprop"):
        cfg = make_train_config(similarity_run_config(config, "reach", "base", rule)["train_cfg"])
        assert cfg.stop_at is None and cfg.n_updates == 1000, (rule, cfg)


def test_modprop_on_an_arch_without_dale_is_refused_naming_why(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("similarity:\n  rules: [bptt, modprop]\n")
    out = snakemake("-n", "-d", str(tmp_path), "--configfile", str(REPO / "config.yaml"), str(bad), check=False)
    text = out.stdout + out.stderr
    assert out.returncode != 0
    assert "'modprop' cannot train arch" in text and "ReLU" in text and "similarity.rules" in text


def test_modprop_preset_plans_its_grid(tmp_path):
    out = snakemake("-n", "-d", str(tmp_path), "--configfile", str(REPO / "config.yaml"),
                    str(REPO / "presets/modprop.yaml"), env={"BIOCREDIT_DATA_MIRROR": ""})
    text = out.stdout + out.stderr
    runs = {line.strip() for line in text.splitlines()
            if line.strip().startswith("output:") and "results/runs/similarity/" in line and "checkpoints.pt" in line}
    import yaml

    seeds = yaml.safe_load((REPO / "config.yaml").read_text())["similarity"]["seeds"]  # the preset keeps them
    # reach on relu_dale x (bptt, modprop, bptt_random, and BPTT at e-prop's lr for the equal-lr check) x the seeds
    assert len(runs) == 4 * len(seeds)
    assert sum("/bptt-lr0.0003/" in line for line in runs) == len(seeds)
    assert all("/reach/relu_dale/" in line for line in runs)
    assert sum("/modprop/" in line for line in runs) == len(seeds)


@pytest.mark.slow
def test_rule_training_overrides_one_rules_training_only(tmp_path, mirror):
    """similarity.rule_training: the authors pair BPTT at lr 1e-3 with e-prop at 3e-4 on the reach task. The override
    reaches that rule's runs only (their metrics log records the training settings); a key that `training` does not
    have is an error naming it."""
    extra = tmp_path / "extra.yaml"
    # with the preset's early stop on (study A's stop metric is the test accuracy; a level every run passes at once)
    extra.write_text("similarity:\n  rule_training: {bptt: {lr: 0.05}}\n  training: {stop_at: -10.0}\n")
    runs = "results/runs/similarity/reach/base/{}/seed1/metrics.nc"
    snakemake("-s", str(REPO / "Snakefile"), "-d", str(tmp_path), "--configfile", str(REPO / "config.yaml"),
              str(SMOKE), str(extra), "--cores", "1", runs.format("bptt"), runs.format("eprop"),
              env={"BIOCREDIT_DATA_MIRROR": str(mirror)})
    lrs = {}
    for rule in ("bptt", "eprop"):
        with xr.open_dataset(tmp_path / runs.format(rule)) as m:
            lrs[rule] = json.loads(m.attrs["train_cfg"])["lr"]
            assert m.attrs["stopped_at"] < 30 and m.attrs["reached_criterion"] == 1  # smoke: 30 updates
    assert lrs == {"bptt": 0.05, "eprop": 0.005}  # eprop keeps the smoke preset's training.lr
    extra.write_text("similarity:\n  rule_training: {bptt: {learning_rate: 0.05}}\n")
    out = snakemake("-n", "-d", str(tmp_path), "--configfile", str(REPO / "config.yaml"), str(SMOKE), str(extra),
                    check=False)
    assert out.returncode != 0 and "similarity.rule_training.bptt.learning_rate" in out.stdout + out.stderr


@pytest.mark.parametrize("slice_file", [None, "presets/paper-slice-b.yaml"])
def test_paper_preset_runs_study_b_as_the_authors(slice_file):
    """Study B at paper scale: all 55k MNIST training images (config.yaml's default keeps the first n_train), the
    authors' 10k / 16k fixed budgets without a stop, 41 evaluations, the Hessian on the validation batch."""
    from biocredit.runs import groups_of, run_config

    config = merged_config("presets/paper.yaml", *([slice_file] if slice_file else []))
    assert merged_config()["tasks"]["smnist"]["n_train"] is not None  # the default keeps fewer, to be undone
    b = config["generalization"]
    for rule, n in (("bptt", 10000), ("tbptt-w10", 10000), ("eprop", 16000), ("rflo", 16000), ("mdgl", 16000)):
        run = run_config(config, "smnist", b["arch"], rule)
        assert run["task_cfg"].get("n_train") is None
        tc = run["train_cfg"]
        assert tc["n_updates"] == n and "stop_at" not in tc and len(tc["checkpoints"]) == 41, (rule, tc)
        assert (tc["lr"], tc["batch_size"], tc["weight_decay"], tc["optimizer"]) == (0.01, 256, 0.01, "sgd")
    assert config["archs"][b["arch"]]["n_hidden"] == 128 and b["curvature"]["batch"] == "validation"
    assert groups_of(b) == {"reference": "bptt", "bio": ["eprop", "rflo", "mdgl"], "separate": ["tbptt-w10"]}


def test_extensions_preset_marks_its_tasks(tmp_path):
    out = snakemake("-n", "-d", str(tmp_path), "--configfile", str(REPO / "config.yaml"),
                    str(REPO / "presets/extensions.yaml"), env={"BIOCREDIT_DATA_MIRROR": ""})
    text = out.stdout + out.stderr
    for task in ("sdigits", "decision", "pattern"):
        assert f"results/claims/B2-{task}.json" in text
    from biocredit.claims.study_b import extension_note

    assert extension_note("decision")["extension"] and extension_note("smnist") == {}
