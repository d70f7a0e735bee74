# Summaries and claim rows -> study B's figures B1-B7, one rule each (drawing only; the rows: rules/claims_b.smk).
# B1-B4 and B7 are drawn for every task of `generalization.tasks`, B5 and B6 for `generalization.remedies.task`.


rule figure_b1:
    # training and test performance per rule
    input:
        summary="results/generalization/{task}/summary.nc",
        claim="results/claims/B1-{task}.json",
        lib=lib("stages.figures_b"),
    output:
        **b_figure("B1"),
    log:
        "results/logs/figure_b1/{task}.log",
    conda:
        ENV
    params:
        rules=B_CFG["rules"],
    script:
        "../scripts/figure_b1.py"


rule figure_b2:
    # the generalization gap per rule
    input:
        summary="results/generalization/{task}/summary.nc",
        claim="results/claims/B2-{task}.json",
        lib=lib("stages.figures_b"),
    output:
        **b_figure("B2"),
    log:
        "results/logs/figure_b2/{task}.log",
    conda:
        ENV
    params:
        rules=B_CFG["rules"],
    script:
        "../scripts/figure_b2.py"


rule figure_b3:
    # the top Hessian eigenvalue per rule
    input:
        summary="results/generalization/{task}/summary.nc",
        claim="results/claims/B3-{task}.json",
        lib=lib("stages.figures_b"),
    output:
        **b_figure("B3"),
    log:
        "results/logs/figure_b3/{task}.log",
    conda:
        ENV
    params:
        rules=B_CFG["rules"],
        lr=b_base_lr,
    script:
        "../scripts/figure_b3.py"


rule figure_b4:
    # the gap against curvature over runs
    input:
        summary="results/generalization/{task}/summary.nc",
        claim="results/claims/B4-{task}.json",
        lib=lib("stages.figures_b"),
    output:
        **b_figure("B4"),
    log:
        "results/logs/figure_b4/{task}.log",
    conda:
        ENV
    params:
        rules=B_CFG["rules"],
    script:
        "../scripts/figure_b4.py"


rule figure_b5:
    # curvature against the learning rate (remedies task)
    input:
        summary="results/generalization/{task}/summary.nc",
        claim="results/claims/B5-{task}.json",
        lib=lib("stages.figures_b"),
    output:
        **b_figure("B5"),
    log:
        "results/logs/figure_b5/{task}.log",
    conda:
        ENV
    params:
        lr_rules=B_CFG["remedies"]["lr_rules"],
    script:
        "../scripts/figure_b5.py"


rule figure_b6:
    # the remedies (remedies task)
    input:
        summary="results/generalization/{task}/summary.nc",
        claim="results/claims/B6-{task}.json",
        lib=lib("stages.figures_b"),
    output:
        **b_figure("B6"),
    log:
        "results/logs/figure_b6/{task}.log",
    conda:
        ENV
    params:
        lr_rules=B_CFG["remedies"]["lr_rules"],
        windows=B_CFG["remedies"]["windows"],
    script:
        "../scripts/figure_b6.py"


rule figure_b7:
    # trace, spectral density and gradient alignment
    input:
        summary="results/generalization/{task}/summary.nc",
        claim="results/claims/B7-{task}.json",
        lib=lib("stages.figures_b"),
    output:
        **b_figure("B7"),
    log:
        "results/logs/figure_b7/{task}.log",
    conda:
        ENV
    params:
        rules=B_CFG["rules"],
    script:
        "../scripts/figure_b7.py"
