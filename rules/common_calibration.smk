# Helpers of the calibration target (rules/calibration.smk): the run grid and each run's parameters.
from biocredit.calibration import calibration_checkpoints

CAL = config["calibration"]
CAL_DIR = "results/calibration"


def calibration_arch():
    """The arch row the calibration trains (default: the first arch of its task, as study A's figures)."""
    return CAL["arch"] or archs_of(CAL["task"])[0]


def lr_tag(lr):
    return f"{float(lr):g}"


def calibration_runs():
    return [
        f"{CAL_DIR}/runs/{CAL['task']}/{calibration_arch()}/n{n}-lr{lr_tag(lr)}/{r}/seed{s}/metrics.nc"
        for n in CAL["n_hidden"]
        for lr in CAL["lr"]
        for r in CAL["rules"]
        for s in CAL["seeds"]
    ]


def calibration_run_params(wildcards):
    """A calibration run: study A's training settings for the task, with the grid's N and lr, the calibration's
    update count and a checkpoint at every budget. Never an early stop (study A's `stop_at` is dropped): every
    budget must be read off every run's log."""
    lrs = {lr_tag(lr): float(lr) for lr in CAL["lr"]}
    if wildcards.lr not in lrs:
        raise ValueError(f"calibration: lr {wildcards.lr} is not in calibration.lr {CAL['lr']}")
    n_updates = CAL["n_updates"]
    train_cfg = (
        config[STUDY_A]["training"]
        | config[STUDY_A].get("task_training", {}).get(wildcards.task, {})
        | CAL["training"]
        | {
            "lr": lrs[wildcards.lr],
            "n_updates": n_updates,
            "checkpoints": calibration_checkpoints(n_updates, CAL["budgets"]),
            "stop_at": None,
        }
    )
    return {
        "task_cfg": config["tasks"][wildcards.task],
        "arch_cfg": config["archs"][wildcards.arch] | {"n_hidden": int(wildcards.n_hidden)},
        "train_cfg": train_cfg,
        "rule_options": config["rule_options"].get(wildcards.run_name, {}),
    }


# Study B's calibration (rules/calibration_b.smk): the MNIST miniature's scale against the paper-scale slice.
CAL_B = config["calibration_b"]
CAL_B_DIR = "results/calibration_b"


def calibration_b_arch():
    return _runs.arch_of(B_CFG, CAL_B["task"])


def calibration_b_grid():
    """Every (N, n_train, rule, seed) run of the study-B calibration, as dicts (aligned with its metrics paths)."""
    return [
        {"n_hidden": int(n), "n_train": int(m), "rule": r, "seed": int(s)}
        for n in CAL_B["n_hidden"]
        for m in CAL_B["n_train"]
        for r in CAL_B["rules"]
        for s in CAL_B["seeds"]
    ]


def calibration_b_runs():
    base = f"{CAL_B_DIR}/runs/{CAL_B['task']}/{calibration_b_arch()}"
    return [
        f"{base}/n{r['n_hidden']}-m{r['n_train']}/{r['rule']}/seed{r['seed']}/metrics.nc" for r in calibration_b_grid()
    ]


def calibration_b_factors():
    """Each calibration rule's update factor (the authors' 1.6x for three-factor rules)."""
    return {r: float(B_CFG["updates_factor"].get(_runs.parse_variant(r)["rule"], 1.0)) for r in CAL_B["rules"]}


def calibration_b_run_params(wildcards):
    """A study-B calibration run: study B's training of the task with the grid's N and training-set size, the
    calibration's update count (times the rule's factor) and an evaluation at every budget (times the factor)."""
    from biocredit.calibration import b_calibration_checkpoints

    factor = calibration_b_factors()[wildcards.run_name]
    n_updates = int(round(CAL_B["n_updates"] * factor))
    train_cfg = _runs.train_config(B_CFG, wildcards.task, wildcards.run_name) | {
        "n_updates": n_updates,
        "checkpoints": b_calibration_checkpoints(n_updates, CAL_B["n_checkpoints"], CAL_B["budgets"], factor),
    }
    return {
        "task_cfg": config["tasks"][wildcards.task] | {"n_train": int(wildcards.n_train)},
        "arch_cfg": config["archs"][wildcards.arch] | {"n_hidden": int(wildcards.n_hidden)},
        "train_cfg": train_cfg,
        "rule_options": dict(config["rule_options"].get(_runs.parse_variant(wildcards.run_name)["rule"], {}))
        | _runs.parse_variant(wildcards.run_name)["options"],
        "rule": _runs.parse_variant(wildcards.run_name)["rule"],
    }
