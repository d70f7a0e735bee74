# Study B, generalization and curvature (Liu, Ghosh, Richards, Shea-Brown & Lajoie 2022): MNIST download, per-task
# summaries, figures B1-B7 and their claim rows. Runs are trained by rule `train` (study wildcard `generalization`)
# and measured by rule `curvature`; the grid (main grid plus the remedies' variants such as tbptt-w4 or
# eprop-lr0.05, see biocredit.study_b) and the helpers are in common_b.smk.


include: "common_b.smk"


wildcard_constraints:
    mnist_file="|".join(MNIST_FILENAMES.values()).replace(".", r"\."),


ruleorder: download_mnist > download


rule download_mnist:
    output:
        "results/raw/mnist/{mnist_file}",
    log:
        "results/logs/download/mnist/{mnist_file}.log",
    localrule: True
    conda:
        ENV
    script:
        "../scripts/b_download_mnist.py"


rule summarize_generalization:
    input:
        metrics=lambda wc: [b_run_path(r, "metrics") for r in b_runs_of(wc.task)],
        hessians=lambda wc: [b_run_path(r, "hessian") for r in b_runs_of(wc.task)],
        lib=lib("study_b.py", "generalization.py"),
    output:
        "results/generalization/{task}/summary.nc",
    params:
        runs=lambda wc: b_runs_of(wc.task),
        reference=B_CFG["rules"][0],
        base_lr=lambda wc: _study_b.base_lr(B_CFG, wc.task),
    log:
        "results/logs/summarize_generalization/{task}.log",
    conda:
        ENV
    script:
        "../scripts/b_summarize.py"


rule figures_generalization:
    input:
        summary="results/generalization/{task}/summary.nc",
        lib=lib("study_b.py", "generalization.py", "figures/generalization.py", "figures/style.py", "stats.py",
                "claims.py"),
    output:
        **_b_outputs(B_TASK_FIGURES),
    params:
        rules=B_CFG["rules"],
        lr=lambda wc: _study_b.base_lr(B_CFG, wc.task),
        alpha=B_CFG["claims"]["alpha"],
        train_margin=B_CFG["claims"]["train_margin"],
        preset=config["preset"],
    log:
        "results/logs/figures_generalization/{task}.log",
    conda:
        ENV
    script:
        "../scripts/b_figures.py"


rule figures_remedies:
    input:
        summary="results/generalization/{task}/summary.nc",
        lib=lib("study_b.py", "generalization.py", "figures/generalization.py", "figures/style.py", "claims.py"),
    output:
        **_b_outputs(B_REMEDY_FIGURES),
    params:
        reference=B_CFG["rules"][0],
        lr_rules=B_CFG["remedies"]["lr_rules"],
        windows=B_CFG["remedies"]["windows"],
        alpha=B_CFG["claims"]["alpha"],
        tolerance=B_CFG["claims"]["stability_tolerance"],
        preset=config["preset"],
    log:
        "results/logs/figures_remedies/{task}.log",
    conda:
        ENV
    script:
        "../scripts/b_remedies.py"
