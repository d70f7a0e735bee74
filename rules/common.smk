# Helpers shared by every stage: config validation, the run grid, paths, and library inputs.
import os
from pathlib import Path

from snakemake.logging import logger
from snakemake.utils import validate

from biocredit.data import REMOTE_FILES, remote_file

validate(config, schema="schemas/config.schema.yaml")

ROOT = Path(workflow.basedir)
LIB = ROOT / "src" / "biocredit"
STUDY_A = "similarity"
A_FIGURES = ["A2", "A3", "A4", "A5", "A6", "A7"]  # per-dataset figures of study A, each with a claim row
ENV = "../envs/biocredit.yaml"


wildcard_constraints:
    study="similarity|generalization",
    task="[a-z0-9_]+",
    arch="[A-Za-z0-9_]+",
    rule_name=r"[a-z0-9_]+(-w[0-9]+)?(-lr[0-9]+(\.[0-9]+)?)?",  # study B variants: tbptt-w4, eprop-lr0.05
    seed=r"\d+",
    dataset="[a-z0-9_]+",


def lib(*modules):
    """Library files a rule depends on (a folder means all its modules), so that a fix in biocredit reruns what
    it affects."""
    paths = [LIB / m for m in modules]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise ValueError(f"lib(): no such library module {missing}")
    files = []
    for p in paths:
        files += sorted(str(f) for f in p.glob("*.py")) if p.is_dir() else [str(p)]
    return files


def raw_path(dataset):
    return f"results/raw/{remote_file(dataset).relpath}"


def dataset_of(task):
    return config["tasks"][task]["dataset"]


def missing_user_data(dataset):
    """Why a user-supplied dataset cannot be used ('' when all its files are given and exist)."""
    files = config["user_data"].get(dataset, {})
    unset = [k for k, v in files.items() if not v]
    if unset:
        return f"user_data.{dataset}.{{{','.join(unset)}}} not set (the data are not public)"
    absent = [v for v in files.values() if not Path(str(v).split(":")[0]).is_file()]
    return f"file(s) not found: {', '.join(absent)}" if absent else ""


def mirror_folder():
    """The data mirror in force: $BIOCREDIT_DATA_MIRROR, else the config key, else None (download)."""
    value = os.environ.get("BIOCREDIT_DATA_MIRROR") or config["data"]["mirror"]
    return Path(value) if value else None


def missing_download(dataset):
    """Why a downloadable dataset cannot be had ('' if it can): only knowable when a mirror is in force."""
    mirror = mirror_folder()
    if mirror is None or Path(raw_path(dataset)).exists():
        return ""
    relpath = remote_file(dataset).relpath
    if (mirror / relpath).is_file():
        return ""
    return f"not in the data mirror ({mirror / relpath}); unset the mirror to download it"


def dataset_status():
    """Every dataset study A names, with 'used' or the reason it is skipped."""
    status = {}
    for task in config["similarity"]["tasks"]:
        d = dataset_of(task)
        reason = missing_user_data(d) if d in config["user_data"] else missing_download(d)
        status[d] = {"dataset": d, "task": task, "status": "skipped" if reason else "used", "reason": reason}
    return status


SKIPPED = {d: s["reason"] for d, s in dataset_status().items() if s["status"] == "skipped"}
for _d, _why in SKIPPED.items():
    logger.warning(f"biocredit: skipping dataset {_d} and its jobs: {_why}")


def raw_input(wildcards):
    """The downloaded file, or for a user-supplied dataset its files by role."""
    if wildcards.dataset in config["user_data"]:
        return {k: str(v).split(":")[0] for k, v in config["user_data"][wildcards.dataset].items()}
    return {"raw": raw_path(wildcards.dataset)}


def raw_files(wildcards):
    """What the loader gets: the downloaded path, or the user's file specs (with any `:variable`)."""
    if wildcards.dataset in config["user_data"]:
        return dict(config["user_data"][wildcards.dataset])
    return raw_path(wildcards.dataset)


def run_dir(study, task, arch, rule_name, seed):
    return f"{study}/{task}/{arch}/{rule_name}/seed{seed}"


def similarity_tasks():
    """Study A's tasks whose recordings are available."""
    return [t for t in config["similarity"]["tasks"] if dataset_of(t) not in SKIPPED]


def archs_of(task):
    s = config["similarity"]
    return s["task_archs"].get(task, s["archs"])


def seeds_a():
    """Study A's seeds: the configured ones plus the top-level seed_offset (run paths carry the result)."""
    return [int(s) + int(config["seed_offset"]) for s in config["similarity"]["seeds"]]


def similarity_runs():
    """Every (task, arch, rule, seed) of study A, as run directories."""
    s = config["similarity"]
    return [
        run_dir(STUDY_A, task, arch, r, seed)
        for task in similarity_tasks()
        for arch in archs_of(task)
        for r in s["rules"]
        for seed in seeds_a()
    ]


def similarity_datasets():
    return sorted({dataset_of(t) for t in similarity_tasks()})


def runs_of_dataset(dataset):
    return [r for r in similarity_runs() if dataset_of(r.split("/")[1]) == dataset]


def a1_checkpoints(wildcards):
    """Checkpoints of the first arch and seed, one per rule, for the task overview figure."""
    s = config["similarity"]
    arch = archs_of(wildcards.task)[0]
    return [
        f"results/runs/{run_dir(STUDY_A, wildcards.task, arch, r, seeds_a()[0])}/checkpoints.pt"
        for r in s["rules"]
    ]


def final_outputs():
    figs = expand("results/figures/A/{fig}_{dataset}.png", fig=A_FIGURES, dataset=similarity_datasets())
    figs += expand("results/figures/A/A1_{task}.png", task=similarity_tasks())
    return figs + ["results/claims.json", "results/datasets.json"]


def task_data(wildcards):
    """The preprocessed recordings a run's task is built from (study B's tasks: task_files_b, generalization.smk)."""
    if "dataset" not in config["tasks"][wildcards.task]:
        return task_files_b(wildcards.task)
    return f"results/data/{dataset_of(wildcards.task)}.nc"


def study_config(study):
    return config[study]


def run_params(wildcards):
    """Everything that defines a run besides its wildcards (changes here rerun the run)."""
    if wildcards.study == STUDY_B:
        return run_params_b(wildcards)  # rules/generalization.smk
    return {
        "task_cfg": config["tasks"][wildcards.task],
        "arch_cfg": config["archs"][wildcards.arch],
        "train_cfg": study_config(wildcards.study)["training"]
        | study_config(wildcards.study).get("task_training", {}).get(wildcards.task, {}),
        "rule_options": config["rule_options"].get(wildcards.rule_name, {}),
    }


def task_params(wildcards):
    return config["tasks"][wildcards.task]


def similarity_inputs(wildcards):
    return [f"results/similarity/runs/{r}/procrustes.nc" for r in runs_of_dataset(wildcards.dataset)]


def first_arch(wildcards):
    """The architecture whose runs the per-dataset figures show (the first of the task's list)."""
    task = next(t for t in similarity_tasks() if dataset_of(t) == wildcards.dataset)
    return archs_of(task)[0]


def normalized_inputs(wildcards):
    return [f"results/similarity/runs/{r}/normalized.nc" for r in _first_arch_runs(wildcards)]


def arch_rows(wildcards):
    """The arch table rows of a dataset's runs (for figure A4's factors)."""
    task = next(t for t in similarity_tasks() if dataset_of(t) == wildcards.dataset)
    return {a: config["archs"][a] for a in archs_of(task)}


def _first_arch_runs(wildcards):
    arch = first_arch(wildcards)
    return [r for r in runs_of_dataset(wildcards.dataset) if r.split("/")[2] == arch]


def a5_activities(wildcards):
    return [f"results/activity/{r}/activity.nc" for r in _first_arch_runs(wildcards)]


def a5_checkpoints(wildcards):
    return [f"results/runs/{r}/checkpoints.pt" for r in _first_arch_runs(wildcards)]


def similarity_metrics(wildcards):
    return [f"results/runs/{r}/metrics.nc" for r in runs_of_dataset(wildcards.dataset)]


def claim_files():
    return expand("results/claims/{fig}-{dataset}.json", fig=A_FIGURES, dataset=similarity_datasets()) + (
        claim_files_b()  # rules/generalization.smk
    )
