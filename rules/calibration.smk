# Calibration of study A's training scale (not part of `all`; run `snakemake calibration`).
# Each (N, lr, rule, seed) of the grid trains once, with the train stage (biocredit.stages.train), for the largest budget; the
# summary reads shorter budgets off each run's checkpoint log. See docs/calibration.md.


rule calibration_train:
    input:
        data=task_data,
        lib=lib("stages.train"),
    output:
        checkpoints="results/calibration/runs/{task}/{arch}/n{n_hidden}-lr{lr}/{run_name}/seed{seed}/checkpoints.pt",
        metrics="results/calibration/runs/{task}/{arch}/n{n_hidden}-lr{lr}/{run_name}/seed{seed}/metrics.nc",
    log:
        "results/calibration/logs/{task}/{arch}/n{n_hidden}-lr{lr}/{run_name}/seed{seed}.log",
    benchmark:
        "results/calibration/benchmarks/{task}/{arch}/n{n_hidden}-lr{lr}/{run_name}/seed{seed}.tsv"
    wildcard_constraints:
        n_hidden=r"\d+",
        lr=r"[0-9.e+-]+",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=240,
    params:
        run=calibration_run_params,
        device=config["device"],
    script:
        "../scripts/calibration_train.py"


rule calibration_summary:
    input:
        metrics=calibration_runs(),
        lib=lib("stages.calibration"),
    output:
        runs="results/calibration/calibration_runs.csv",
        settings="results/calibration/calibration.csv",
        choice="results/calibration/choice.json",
        png="results/calibration/calibration.png",
        pdf="results/calibration/calibration.pdf",
    log:
        "results/calibration/logs/summary.log",
    conda:
        ENV
    params:
        rules=CAL["rules"],
        budgets=CAL["budgets"],
        threshold=CAL["threshold"],
        read_at=CAL["read_at"],
        cost_exponent=CAL["cost_exponent"],
        task=CAL["task"],
        arch=calibration_arch(),
    script:
        "../scripts/calibration_summary.py"


rule calibration:
    input:
        rules.calibration_summary.output,
