# Helpers of study B (generalization and curvature): the run grid, paths and params of its rules
# (rules/curvature.smk, generalization.smk, figures_b.smk). The grid itself is biocredit.runs.grid.
from biocredit.data.mnist import MNIST_FILENAMES

STUDY_B = _runs.STUDY_B
B_CFG = config[STUDY_B]
B_TASK_FIGURES = ["B1", "B2", "B3", "B4", "B7"]  # per task
B_REMEDY_FIGURES = ["B5", "B6"]  # on the remedies task
B_RUNS = _runs.grid(B_CFG, config["seed_offset"])  # seeds + the top-level seed_offset
B_GROUPS = _runs.groups_of(B_CFG)  # reference, bio group, separate rows (fixed in the config)


def b_runs_of(task):
    return [r for r in B_RUNS if r["task"] == task]


def b_run_path(r, kind):
    d = run_dir(STUDY_B, r["task"], r["arch"], r["rule"], r["seed"])
    return f"results/runs/{d}/metrics.nc" if kind == "metrics" else f"results/curvature/{d}/hessian.nc"


def task_files_b(task):
    """Files a study-B task is built from: MNIST's IDX files for smnist, nothing for generated tasks."""
    if task == "smnist":
        return [f"results/raw/mnist/{f}" for f in MNIST_FILENAMES.values()]
    return []


def final_outputs_b():
    figs = expand("results/figures/B/{fig}_{task}.png", fig=B_TASK_FIGURES, task=B_CFG["tasks"])
    return figs + expand("results/figures/B/{fig}_{task}.png", fig=B_REMEDY_FIGURES, task=B_CFG["remedies"]["task"])


def claim_files_b():
    files = expand("results/claims/{fig}-{task}.json", fig=B_TASK_FIGURES, task=B_CFG["tasks"])
    return files + expand("results/claims/{fig}-{task}.json", fig=B_REMEDY_FIGURES, task=B_CFG["remedies"]["task"])


def b_metrics(wildcards):
    """The metrics logs of one task's runs (in the order of b_runs)."""
    return [b_run_path(r, "metrics") for r in b_runs_of(wildcards.task)]


def b_hessians(wildcards):
    """The Hessian files of one task's runs (in the order of b_runs)."""
    return [b_run_path(r, "hessian") for r in b_runs_of(wildcards.task)]


def b_runs(wildcards):
    """One task's runs: biocredit.runs.grid rows."""
    return b_runs_of(wildcards.task)


def b_base_lr(wildcards):
    """The study's learning rate on the task (B3's stability line 2/η; the runs without an -lr variant)."""
    return _runs.base_lr(B_CFG, wildcards.task)


def b_figure(fig):
    """The png (in the report) and pdf paths of figure ``fig`` (B1 ... B7) for the {task} wildcard."""
    return {
        "png": report(
            f"results/figures/B/{fig}_{{task}}.png",
            caption=f"report/fig_{fig.lower()}.rst",
            category="Study B: generalization and curvature",
            labels={"figure": fig, "task": "{task}"},
        ),
        "pdf": f"results/figures/B/{fig}_{{task}}.pdf",
    }
