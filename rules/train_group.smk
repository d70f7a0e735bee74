# Optional (config key `group_seeds`): all seeds of one study-A (task, arch, rule) as one batched job
# (biocredit.batched.train_group_runs), writing the same per-seed files as rule `train`. Only for rules defined
# by where they cut the recurrence (bptt, eprop, tbptt); other rules keep one job per seed.


if group_seeds_on():

    ruleorder: train_group > train

    rule train_group:
        input:
            data=task_data,
            lib=lib("stages.train_group"),
        output:
            checkpoints=expand(
                "results/runs/similarity/{{task}}/{{arch}}/{{run_name}}/seed{seed}/checkpoints.pt",
                seed=seeds_a(),
            ),
            metrics=expand(
                "results/runs/similarity/{{task}}/{{arch}}/{{run_name}}/seed{seed}/metrics.nc",
                seed=seeds_a(),
            ),
        log:
            "results/logs/train_group/similarity/{task}/{arch}/{run_name}.log",
        benchmark:
            "results/benchmarks/train_group/similarity/{task}/{arch}/{run_name}.tsv"
        wildcard_constraints:
            run_name="|".join(GROUPABLE_RULES),
        conda:
            ENV
        threads: 1
        resources:
            mem_mb=2000 * len(seeds_a()),
            runtime=120 * len(seeds_a()),
        params:
            run=group_run_params,
            seeds=seeds_a(),
            device=config["device"],
        script:
            "../scripts/train_group.py"
