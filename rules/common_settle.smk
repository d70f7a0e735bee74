# Helpers of rules/settle.smk: the looks of `snakemake settle` and the runs each look reads.
import functools
import json

from biocredit.claims import settle as _settle


@functools.lru_cache(maxsize=1)
def settle_plan():
    """Seeds per rule and interval level of every look (biocredit.claims.settle.plan), computed only when a settle
    job is planned."""
    s = config["settle"]
    return _settle.plan(
        len(config["similarity"]["seeds"]),
        batch=s["batch"],
        max_seeds=s["max_seeds"],
        level=config["verdicts"]["level"],
        spending=s["spending"],
    )


def settle_plan_param(wildcards):
    return settle_plan()


def settle_run_dirs(dataset, look):
    """The first arch row's runs of a dataset at a look: its rules and equal-lr runs on the look's seeds."""
    task = next(t for t in similarity_tasks() if dataset_of(t) == dataset)
    plan = settle_plan()
    if not 1 <= look <= len(plan["sizes"]):
        raise ValueError(f"settle: look {look} is not one of the plan's {len(plan['sizes'])} looks")
    seeds = _settle.look_seeds(config["similarity"]["seeds"], plan["sizes"][look - 1])
    cfg = config[STUDY_A] | {"archs": [archs_of(task)[0]], "task_archs": {}}
    grid = _runs.similarity_grid(cfg, [task], config["seed_offset"], seeds=seeds)
    return [run_dir(STUDY_A, r["task"], r["arch"], r["rule"], r["seed"]) for r in grid]


def settle_state(dataset, look):
    """The state a look wrote (its checkpoint's output; the DAG grows once it exists)."""
    path = checkpoints.settle_look.get(dataset=dataset, look=look).output[0]
    return path, json.loads(Path(path).read_text())


def settle_look_inputs(wildcards):
    """What a look reads: distances and metrics of every run, the normalised distances (A7) and activities (A5) of
    the configured rules' runs while those claims are pending, and the previous look's state."""
    look = int(wildcards.look)
    dirs = settle_run_dirs(wildcards.dataset, look)
    main = [d for d in dirs if Path(d).parts[3] in config["similarity"]["rules"]]
    pending = None
    inputs = {}
    if look > 1:
        inputs["previous"], state = settle_state(wildcards.dataset, look - 1)
        pending = state["pending"]
    inputs["runs"] = [f"results/similarity/runs/{d}/procrustes.nc" for d in dirs]
    inputs["metrics"] = [f"results/runs/{d}/metrics.nc" for d in dirs]

    def wants(fig):
        return pending is None or f"{fig}-{wildcards.dataset}" in pending

    inputs["normalized"] = [f"results/similarity/runs/{d}/normalized.nc" for d in main] if wants("A7") else []
    inputs["activities"] = [f"results/activity/{d}/activity.nc" for d in main] if wants("A5") else []
    return inputs


def settle_final_states(wildcards):
    """Each dataset's last look: the looks follow one another while a claim is pending, up to the plan's last."""
    out = []
    for dataset in similarity_datasets():
        look = 1
        while True:
            path, state = settle_state(dataset, look)
            if state["done"]:
                out.append(path)
                break
            look += 1
    return out
