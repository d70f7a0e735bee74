# Checkpoints → hidden activity on the analysis trials, in the recordings' layout.


rule activity:
    input:
        data=task_data,
        checkpoints=rules.train.output.checkpoints,
        lib=lib("stages.activity"),
    output:
        "results/activity/{study}/{task}/{arch}/{run_name}/seed{seed}/activity.nc",
    log:
        "results/logs/activity/{study}/{task}/{arch}/{run_name}/seed{seed}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        task_cfg=task_params,
    script:
        "../scripts/activity.py"
