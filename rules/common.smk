# Helpers shared by every stage: config validation, the run grid of study A, paths, and library inputs (lib()).
import os
from pathlib import Path

from snakemake.logging import logger
from snakemake.utils import validate

from biocredit import runs as _runs
from biocredit import _imports
from biocredit._imports import import_closure
from biocredit.data import remote_file
from biocredit.learning import RULES, check_config_rules

validate(config, schema="schemas/config.schema.yaml")
check_config_rules(config)  # rules x arch rows: ModProp trains ReLU units with Dale's law only


def config_files(relative=False):
    """The config files in force, for messages (config.yaml, then every --configfile). ``relative``: relative to
    the working directory where they lie inside it, for text that becomes a job parameter (a skip reason), so that
    it is the same in a moved copy of the project."""
    if relative:
        return ", ".join(recorded_configfiles())
    files = [str(f) for f in getattr(workflow, "configfiles", None) or []]
    return ", ".join(dict.fromkeys(files)) or "config.yaml"


def recorded_configfiles():
    """The config files in force, relative to the working directory where they lie inside it (for
    results/configfiles.txt)."""
    cwd = Path.cwd().resolve()
    out = []
    for f in getattr(workflow, "configfiles", None) or ["config.yaml"]:
        path = Path(f).resolve()
        out.append(str(path.relative_to(cwd)) if path.is_relative_to(cwd) else str(path))
    return list(dict.fromkeys(out))


def warn_other_preset():
    """A warning when results/ was made with other config files than this call's (e.g. `snakemake --report` without
    the --configfile options of `make smoke`): say which ones made it."""
    recorded = Path("results/configfiles.txt")
    if recorded.is_file():
        made_with = recorded.read_text().split()
        if made_with != recorded_configfiles():
            logger.warning(
                f"biocredit: results/ was made with --configfile {' '.join(made_with)}; this call uses "
                f"{' '.join(recorded_configfiles())} (to report on those results: snakemake --configfile "
                f"{' '.join(made_with)} --report results/report.html, or `make report`)"
            )


def check_references():
    """Every arch, task and learning-rule name a study uses is a row of its table (or a known learning rule); else
    an error naming the key, the missing name and the config files, before any job is planned."""
    tables = {"archs": set(config["archs"]), "tasks": set(config["tasks"]), "rules": set(RULES)}
    refs = []  # (key, name, table)
    s, g = config["similarity"], config["generalization"]
    refs += [("similarity.tasks", t, "tasks") for t in s["tasks"]]
    refs += [("similarity.archs", a, "archs") for a in s["archs"]]
    for task, archs in s.get("task_archs", {}).items():
        refs += [("similarity.task_archs (key)", task, "tasks")]
        refs += [(f"similarity.task_archs.{task}", a, "archs") for a in archs]
    refs += [("similarity.task_training (key)", t, "tasks") for t in s.get("task_training", {})]
    refs += [("similarity.rules", r, "rules") for r in s["rules"]]
    refs += [("similarity.rule_training (key)", r, "rules") for r in s.get("rule_training", {})]
    refs += [("generalization.tasks", t, "tasks") for t in g["tasks"]]
    refs += [("generalization.arch", g["arch"], "archs")]
    for task, arch in g.get("task_arch", {}).items():
        refs += [("generalization.task_arch (key)", task, "tasks"), (f"generalization.task_arch.{task}", arch, "archs")]
    refs += [("generalization.task_training (key)", t, "tasks") for t in g.get("task_training", {})]
    refs += [("generalization.rules", str(r).split("-")[0], "rules") for r in g["rules"]]
    remedies = g.get("remedies", {})
    if remedies.get("task"):
        refs += [("generalization.remedies.task", remedies["task"], "tasks")]
    refs += [("generalization.remedies.lr_rules", r, "rules") for r in remedies.get("lr_rules", [])]
    refs += [("rule_options (key)", r, "rules") for r in config.get("rule_options", {})]
    bad = [
        f"{key} names {name!r}, which is not in `{table}` (known: {', '.join(sorted(tables[table]))})"
        for key, name, table in refs
        if name not in tables[table]
    ]
    bad += unknown_training_keys()
    if bad:
        lines = "\n  ".join(bad)
        raise ValueError(f"biocredit config error in {config_files()}:\n  {lines}")


def unknown_training_keys():
    """Keys of the per-task and per-rule overrides of study A's `training` that `training` does not have (the
    schema cannot check them: its defaults would fill every override)."""
    import yaml

    schema = yaml.safe_load((Path(workflow.basedir) / "rules" / "schemas" / "config.schema.yaml").read_text())
    known = set(schema["properties"]["similarity"]["properties"]["training"]["properties"])
    s = config["similarity"]
    return [
        f"similarity.{section}.{name}.{key} is not a key of similarity.training (known: {', '.join(sorted(known))})"
        for section in ("task_training", "rule_training")
        for name, overrides in s.get(section, {}).items()
        for key in overrides
        if key not in known
    ]


check_references()
warn_other_preset()

# The library's files as inputs, relative to the working directory (the project folder when run as the README
# says): Snakemake records each output's input paths, so absolute ones would rerun every job of a project folder
# that was moved or copied elsewhere (tests/test_workflow.py: a copied finished run has nothing to do).
LIB = Path(os.path.relpath(Path(workflow.basedir) / "src" / "biocredit"))
STUDY_A = _runs.STUDY_A
A_FIGURES = ["A2", "A3", "A4", "A5", "A6", "A7"]  # per-dataset figures of study A, each with a claim row
ENV = "../envs/biocredit.yaml"


wildcard_constraints:
    study="similarity|generalization",
    task="[a-z0-9_]+",
    arch="[A-Za-z0-9_]+",
    run_name=r"[a-z0-9_]+(-w[0-9]+)?(-lr[0-9]+(\.[0-9]+)?)?",  # a learning rule with its variant, e.g. tbptt-w4, eprop-lr0.05
    seed=r"\d+",
    dataset="[a-z0-9_]+",


def lib(stage):
    """The library files a rule's job imports: those of its stage module (``lib("stages.train")``) and of
    ``stages.job`` (every script's set-up), with everything they import, transitively (biocredit._imports; checked
    against the modules an import really loads by tests/test_rule_inputs.py). An edit to one of them reruns the
    rule's jobs; an edit elsewhere in the library does not."""
    return [str(LIB / f.relative_to(_imports.ROOT)) for f in import_closure(stage, "stages.job")]


def raw_path(dataset):
    return f"results/raw/{remote_file(dataset).relpath}"


def dataset_of(task):
    return config["tasks"][task]["dataset"]


def missing_user_data(dataset):
    """Why a user-supplied dataset is skipped ('' when all its files are given). A path that is given but does not
    exist is an error naming its config key, not a skip."""
    files = config["user_data"].get(dataset, {})
    unset = [k for k, v in files.items() if not v]
    if unset:
        return f"user_data.{dataset}.{{{','.join(unset)}}} not set (the data are not public)"
    absent = [
        f"user_data.{dataset}.{k} = {v} (no such file: {str(v).split(':')[0]})"
        for k, v in files.items()
        if not Path(str(v).split(":")[0]).is_file()
    ]
    if absent:
        listed = "; ".join(absent)
        raise ValueError(
            f"biocredit config error in {config_files()}: {listed}. Fix the path(s), or set them to "
            f"null to skip {dataset}."
        )
    return ""


def mirror_folder():
    """The data mirror in force: $BIOCREDIT_DATA_MIRROR, else the config key, else None (download). A mirror that is
    named but is not a folder is an error."""
    env = os.environ.get("BIOCREDIT_DATA_MIRROR")
    value = env or config["data"]["mirror"]
    if not value:
        return None
    folder = Path(value).expanduser()
    if not folder.is_dir():
        origin = "$BIOCREDIT_DATA_MIRROR" if env else f"data.mirror in {config_files()}"
        raise ValueError(
            f"biocredit: the data mirror {folder} (from {origin}) is not a folder; fix it, or unset it "
            "to download from the upstream URLs"
        )
    return folder


def missing_download(dataset):
    """'' if a downloadable dataset can be had; an error naming the path looked at and the URL when a mirror is in
    force and lacks it (without a mirror, the download job fails if the URL cannot be reached)."""
    mirror = mirror_folder()
    if mirror is None or Path(raw_path(dataset)).exists():
        return ""
    entry = remote_file(dataset)
    if (mirror / entry.relpath).is_file():
        return ""
    raise ValueError(
        f"biocredit: dataset {dataset} is not in the data mirror: looked for {mirror / entry.relpath} (upstream URL "
        f"{entry.url}). Put the file there, unset the mirror (BIOCREDIT_DATA_MIRROR / data.mirror) to download it, "
        f"or skip the dataset explicitly with `data: {{skip: [{dataset}]}}` in a config file."
    )


def dataset_status():
    """Every dataset study A names, with 'used' or the reason it is skipped (data.skip, or user data left unset);
    any other missing dataset is an error (see missing_download, missing_user_data)."""
    status = {}
    skip = config["data"].get("skip", [])
    known = {dataset_of(t) for t in config["tasks"] if "dataset" in config["tasks"][t]}
    unknown = [d for d in skip if d not in known]
    if unknown:
        raise ValueError(
            f"biocredit config error in {config_files()}: data.skip names unknown dataset(s) {unknown} "
            f"(datasets of the tasks table: {', '.join(sorted(known))})"
        )
    for task in config["similarity"]["tasks"]:
        d = dataset_of(task)
        if d in skip:
            reason = f"data.skip lists it ({config_files(relative=True)})"
        else:
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


def run_dir(study, task, arch, run_name, seed):
    return f"{study}/{task}/{arch}/{run_name}/seed{seed}"


def similarity_tasks():
    """Study A's tasks whose recordings are available."""
    return [t for t in config["similarity"]["tasks"] if dataset_of(t) not in SKIPPED]


def archs_of(task):
    return _runs.similarity_archs(config[STUDY_A], task)


def seeds_a():
    """Study A's seeds: the configured ones plus the top-level seed_offset (run paths carry the result)."""
    return [int(s) + int(config["seed_offset"]) for s in config["similarity"]["seeds"]]


def similarity_runs():
    """Every (task, arch, rule, seed) of study A, as run directories."""
    return [
        run_dir(STUDY_A, r["task"], r["arch"], r["rule"], r["seed"])
        for r in _runs.similarity_grid(config[STUDY_A], similarity_tasks(), config["seed_offset"])
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
        f"results/runs/{run_dir(STUDY_A, wildcards.task, arch, r, seeds_a()[0])}/checkpoints.pt" for r in s["rules"]
    ]


def final_outputs():
    figs = expand("results/figures/A/{fig}_{dataset}.png", fig=A_FIGURES, dataset=similarity_datasets())
    figs += expand("results/figures/A/A1_{task}.png", task=similarity_tasks())
    return figs + ["results/claims.json", "results/datasets.json", "results/configfiles.txt"]


def task_data(wildcards):
    """The preprocessed recordings a run's task is built from (study B's tasks: task_files_b, common_b.smk)."""
    if "dataset" not in config["tasks"][wildcards.task]:
        return task_files_b(wildcards.task)
    return f"results/data/{dataset_of(wildcards.task)}.nc"


def run_params(wildcards):
    """Everything that defines a run besides its wildcards (changes here rerun the run): biocredit.runs assembles
    it for either study."""
    if wildcards.study == STUDY_B:
        return _runs.run_config(config, wildcards.task, wildcards.arch, wildcards.run_name)
    return _runs.similarity_run_config(config, wildcards.task, wildcards.arch, wildcards.run_name)


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
    """The runs of the first arch row of a dataset, of the configured rules (not the equal-lr sensitivity runs)."""
    arch, rules = first_arch(wildcards), config["similarity"]["rules"]
    return [r for r in runs_of_dataset(wildcards.dataset) if Path(r).parts[2] == arch and Path(r).parts[3] in rules]


def equal_lr_of_dataset(wildcards):
    """{rule: equal-learning-rate run name} of a dataset's task (biocredit.runs.equal_lr_runs; empty when off)."""
    task = next(t for t in similarity_tasks() if dataset_of(t) == wildcards.dataset)
    return _runs.equal_lr_runs(config[STUDY_A], task)


def a6_margins():
    """A6's margin per metric: Procrustes' is the equivalence margin, CKA's and CCA's their own keys."""
    s = config["similarity"]
    return {"procrustes": s["equivalence_margin"], **s["metric_margins"]}


def a5_activities(wildcards):
    return [f"results/activity/{r}/activity.nc" for r in _first_arch_runs(wildcards)]


def a5_checkpoints(wildcards):
    return [f"results/runs/{r}/checkpoints.pt" for r in _first_arch_runs(wildcards)]


def similarity_metrics(wildcards):
    return [f"results/runs/{r}/metrics.nc" for r in runs_of_dataset(wildcards.dataset)]


def claim_files():
    sensitivity = expand(
        "results/claims/{fig}-{dataset}-sensitivity.json", fig=["A2", "A3"], dataset=similarity_datasets()
    )
    return (
        expand("results/claims/{fig}-{dataset}.json", fig=A_FIGURES, dataset=similarity_datasets())
        + sensitivity
        + (claim_files_b())  # rules/common_b.smk
    )
