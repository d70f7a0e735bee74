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
