# Model activity × recordings → Procrustes distances; the recordings' own reference distances.


rule compare:
    input:
        activity="results/activity/{study}/{task}/{arch}/{run_name}/seed{seed}/activity.nc",
        data=task_data,
        lib=lib("stages.similarity"),
    output:
        "results/similarity/runs/{study}/{task}/{arch}/{run_name}/seed{seed}/procrustes.nc",
    log:
        "results/logs/compare/{study}/{task}/{arch}/{run_name}/seed{seed}.log",
    conda:
        ENV
    script:
        "../scripts/compare.py"


rule baselines:
    input:
        data="results/data/{dataset}.nc",
        lib=lib("stages.similarity"),
    output:
        "results/similarity/datasets/{dataset}/baselines.nc",
    log:
        "results/logs/baselines/{dataset}.log",
    conda:
        ENV
    params:
        n_split_half=config["similarity"]["n_split_half"],
    script:
        "../scripts/baselines.py"


rule summarize_similarity:
    input:
        runs=similarity_inputs,
        metrics=similarity_metrics,
        lib=lib("stages.similarity"),
    output:
        "results/similarity/datasets/{dataset}/summary.nc",
    log:
        "results/logs/summarize_similarity/{dataset}.log",
    conda:
        ENV
    script:
        "../scripts/summarize_similarity.py"


rule matched_participation:
    input:
        summary="results/similarity/datasets/{dataset}/summary.nc",
        lib=lib("stages.similarity"),
    output:
        participation="results/similarity/datasets/{dataset}/participation.nc",
    log:
        "results/logs/matched_participation/{dataset}.log",
    conda:
        ENV
    params:
        arch=first_arch,
        rules=config["similarity"]["rules"],
        n_grid=config["similarity"]["accuracy_grid_points"],
    script:
        "../scripts/matched_participation.py"


rule normalized:
    input:
        activity="results/activity/{study}/{task}/{arch}/{run_name}/seed{seed}/activity.nc",
        distances="results/similarity/runs/{study}/{task}/{arch}/{run_name}/seed{seed}/procrustes.nc",
        data=task_data,
        lib=lib("stages.similarity"),
    output:
        "results/similarity/runs/{study}/{task}/{arch}/{run_name}/seed{seed}/normalized.nc",
    log:
        "results/logs/normalized/{study}/{task}/{arch}/{run_name}/seed{seed}.log",
    conda:
        ENV
    params:
        n_iter=config["similarity"]["n_split_half"],
    script:
        "../scripts/normalized.py"
