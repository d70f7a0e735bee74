# Helpers of study B (generalization and curvature): the run grid, paths and params. Included by
# rules/generalization.smk; the science and the grid itself live in biocredit.study_b.
from biocredit import study_b as _study_b
from biocredit.data.mnist import MNIST_FILENAMES

STUDY_B = _study_b.STUDY
B_CFG = config[STUDY_B]
B_TASK_FIGURES = ["B1", "B2", "B3", "B4", "B7"]  # per task
B_REMEDY_FIGURES = ["B5", "B6"]  # on the remedies task
B_RUNS = _study_b.grid(B_CFG, config["seed_offset"])  # seeds + the top-level seed_offset


def b_runs_of(task):
    return [r for r in B_RUNS if r["task"] == task]


def b_run_path(r, kind):
    d = run_dir(STUDY_B, r["task"], r["arch"], r["rule"], r["seed"])
    return f"results/runs/{d}/metrics.nc" if kind == "metrics" else f"results/curvature/{d}/hessian.nc"


def run_params_b(wildcards):
    """run_params of a study-B run: the variant name resolved into rule, options and training config."""
    return _study_b.run_config(config, wildcards.task, wildcards.arch, wildcards.rule_name)


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


def _b_outputs(figs):
    """png (in the report), pdf and claim paths of figures `figs` for the {task} wildcard."""
    out = {}
    for f in figs:
        out[f"{f}_png"] = report(
            f"results/figures/B/{f}_{{task}}.png",
            caption=f"report/fig_{f.lower()}.rst",
            category="Study B: generalization and curvature",
            labels={"figure": f, "task": "{task}"},
        )
        out[f"{f}_pdf"] = f"results/figures/B/{f}_{{task}}.pdf"
        out[f"{f}_claim"] = f"results/claims/{f}-{{task}}.json"
    return out
