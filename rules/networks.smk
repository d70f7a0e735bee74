# Trained networks of study A → the measurements figures A1 and A5 draw: each is a summary stage with its own
# NetCDF output, so the figure and claim jobs load no checkpoint and run no model.


rule network_outputs:
    input:
        data=task_data,
        checkpoints=a1_checkpoints,
        lib=lib("stages.networks"),
    output:
        "results/similarity/tasks/{task}/outputs.nc",
    log:
        "results/logs/network_outputs/{task}.log",
    conda:
        ENV
    params:
        task_cfg=task_params,
        rules=config["similarity"]["rules"],
    script:
        "../scripts/network_outputs.py"


rule network_dynamics:
    input:
        summary="results/similarity/datasets/{dataset}/summary.nc",
        activities=a5_activities,
        checkpoints=a5_checkpoints,
        lib=lib("stages.networks"),
    output:
        "results/similarity/datasets/{dataset}/dynamics.nc",
    log:
        "results/logs/network_dynamics/{dataset}.log",
    conda:
        ENV
    params:
        arch=first_arch,
        rules=config["similarity"]["rules"],
        level=config["similarity"]["dynamics"]["level"],
        rank=config["similarity"]["dynamics"]["rank"],
        dsa=config["similarity"]["dynamics"]["dsa"],
    script:
        "../scripts/network_dynamics.py"
