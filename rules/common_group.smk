# Helpers of rules/train_group.smk (config key `group_seeds`).

GROUPABLE_RULES = ("bptt", "eprop", "tbptt")


def group_seeds_on():
    """`group_seeds`: true = always, auto = when CUDA is present where the workflow is planned, false = never."""
    setting = config.get("group_seeds", False)
    if setting == "auto":
        import torch

        return torch.cuda.is_available()
    return bool(setting)


def group_run_params(wildcards):
    from types import SimpleNamespace

    return run_params(
        SimpleNamespace(study=STUDY_A, task=wildcards.task, arch=wildcards.arch, run_name=wildcards.run_name)
    )
