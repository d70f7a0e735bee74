# Study B, generalization and curvature (Liu, Ghosh, Richards, Shea-Brown & Lajoie 2022): the MNIST download and
# one summary per task. Runs are trained by rule `train` (study wildcard `generalization`) and measured by rule
# `curvature`; the grid (main grid plus the remedies' variants such as tbptt-w4 or eprop-lr0.05, see
# biocredit.runs) and the helpers are in common_b.smk; the figures in figures_b.smk.


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
        "../scripts/download_mnist.py"


rule summarize_generalization:
    input:
        metrics=b_metrics,
        hessians=b_hessians,
        lib=lib("stages.generalization"),
    output:
        "results/generalization/{task}/summary.nc",
    log:
        "results/logs/summarize_generalization/{task}.log",
    conda:
        ENV
    params:
        runs=b_runs,
        reference=B_GROUPS["reference"],
        base_lr=b_base_lr,
    script:
        "../scripts/summarize_generalization.py"
