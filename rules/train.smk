# One training job per run: (study, task, arch, rule, seed) are all wildcards.


rule train:
    input:
        data=task_data,
        lib=lib("stages.train"),
    output:
        checkpoints="results/runs/{study}/{task}/{arch}/{run_name}/seed{seed}/checkpoints.pt",
        metrics="results/runs/{study}/{task}/{arch}/{run_name}/seed{seed}/metrics.nc",
    log:
        "results/logs/train/{study}/{task}/{arch}/{run_name}/seed{seed}.log",
    benchmark:
        "results/benchmarks/train/{study}/{task}/{arch}/{run_name}/seed{seed}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        run=run_params,
        device=config["device"],
    script:
        "../scripts/train.py"
