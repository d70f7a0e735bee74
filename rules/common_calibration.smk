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
        "rule_options": config["rule_options"].get(wildcards.rule_name, {}),
    }
