# Checkpoints × a fixed batch → Hessian of the loss: top eigenvalue, trace, spectral density (study B).


rule curvature:
    input:
        data=task_data,
        checkpoints="results/runs/{study}/{task}/{arch}/{run_name}/seed{seed}/checkpoints.pt",
        lib=lib("stages.curvature"),
    output:
        "results/curvature/{study}/{task}/{arch}/{run_name}/seed{seed}/hessian.nc",
    log:
        "results/logs/curvature/{study}/{task}/{arch}/{run_name}/seed{seed}.log",
    benchmark:
        "results/benchmarks/curvature/{study}/{task}/{arch}/{run_name}/seed{seed}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        run=run_params,
        curvature=config["generalization"]["curvature"],
        device=config["device"],
    script:
        "../scripts/curvature.py"
