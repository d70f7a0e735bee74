# Calibration of study B's default scale on MNIST (not part of `all`; run `snakemake calibration_b`). Each
# (N, n_train, rule, seed) of the grid trains once, with the train stage, for the largest budget (times the rule's
# update factor); the summary reads every budget off each run's evaluations and compares the miniature with the
# paper-scale slice (calibration_b.target). See docs/calibration.md.


rule calibration_b_train:
    input:
        data=task_data,
        lib=lib("stages.train"),
    output:
        checkpoints="results/calibration_b/runs/{task}/{arch}/n{n_hidden}-m{n_train}/{run_name}/seed{seed}/checkpoints.pt",
        metrics="results/calibration_b/runs/{task}/{arch}/n{n_hidden}-m{n_train}/{run_name}/seed{seed}/metrics.nc",
    log:
        "results/calibration_b/logs/{task}/{arch}/n{n_hidden}-m{n_train}/{run_name}/seed{seed}.log",
    benchmark:
        "results/calibration_b/benchmarks/{task}/{arch}/n{n_hidden}-m{n_train}/{run_name}/seed{seed}.tsv"
    wildcard_constraints:
        n_hidden=r"\d+",
        n_train=r"\d+",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=240,
    params:
        run=calibration_b_run_params,
        device=config["device"],
    script:
        "../scripts/calibration_b_train.py"


rule calibration_b_summary:
    input:
        metrics=calibration_b_runs(),
        lib=lib("stages.calibration"),
    output:
        runs="results/calibration_b/calibration_runs.csv",
        settings="results/calibration_b/calibration.csv",
        choice="results/calibration_b/choice.json",
        png="results/calibration_b/calibration.png",
        pdf="results/calibration_b/calibration.pdf",
    log:
        "results/calibration_b/logs/summary.log",
    conda:
        ENV
    params:
        runs=calibration_b_grid(),
        rules=CAL_B["rules"],
        reference=B_GROUPS["reference"],
        budgets=CAL_B["budgets"],
        factors=calibration_b_factors(),
        target=CAL_B["target"],
        tolerance=CAL_B["tolerance"],
        drop_tolerance=CAL_B["drop_tolerance"],
        cost_exponent=CAL_B["cost_exponent"],
        task=CAL_B["task"],
    script:
        "../scripts/calibration_b_summary.py"


rule calibration_b:
    input:
        rules.calibration_b_summary.output,
