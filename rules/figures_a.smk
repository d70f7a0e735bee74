# Summaries and claim rows -> study A's figures A1-A7, one rule each (drawing only; the rows: rules/claims_a.smk).


rule figure_a2:
    input:
        summary="results/similarity/datasets/{dataset}/summary.nc",
        baselines="results/similarity/datasets/{dataset}/baselines.nc",
        claim="results/claims/A2-{dataset}.json",
        sensitivity="results/claims/A2-{dataset}-sensitivity.json",
        lib=lib("stages.figures_a"),
    output:
        png=report(
            "results/figures/A/A2_{dataset}.png",
            caption="report/fig_a2.rst",
            category="Study A: neural similarity",
            labels={"figure": "A2", "dataset": "{dataset}"},
        ),
        pdf="results/figures/A/A2_{dataset}.pdf",
    log:
        "results/logs/figure_a2/{dataset}.log",
    conda:
        ENV
    params:
        arch=first_arch,
        rules=config["similarity"]["rules"],
        n_grid=config["similarity"]["accuracy_grid_points"],
    script:
        "../scripts/figure_a2.py"


rule figure_a3:
    input:
        summary="results/similarity/datasets/{dataset}/summary.nc",
        claim="results/claims/A3-{dataset}.json",
        sensitivity="results/claims/A3-{dataset}-sensitivity.json",
        lib=lib("stages.figures_a"),
    output:
        png=report(
            "results/figures/A/A3_{dataset}.png",
            caption="report/fig_a3.rst",
            category="Study A: neural similarity",
            labels={"figure": "A3", "dataset": "{dataset}"},
        ),
        pdf="results/figures/A/A3_{dataset}.pdf",
    log:
        "results/logs/figure_a3/{dataset}.log",
    conda:
        ENV
    params:
        arch=first_arch,
        rules=config["similarity"]["rules"],
        fractions=config["similarity"]["matched_levels"],
        margin=config["similarity"]["equivalence_margin"],
    script:
        "../scripts/figure_a3.py"


rule figure_a6:
    input:
        summary="results/similarity/datasets/{dataset}/summary.nc",
        claim="results/claims/A6-{dataset}.json",
        lib=lib("stages.figures_a"),
    output:
        png=report(
            "results/figures/A/A6_{dataset}.png",
            caption="report/fig_a6.rst",
            category="Study A: neural similarity",
            labels={"figure": "A6", "dataset": "{dataset}"},
        ),
        pdf="results/figures/A/A6_{dataset}.pdf",
    log:
        "results/logs/figure_a6/{dataset}.log",
    conda:
        ENV
    params:
        arch=first_arch,
        rules=config["similarity"]["rules"],
        n_grid=config["similarity"]["accuracy_grid_points"],
    script:
        "../scripts/figure_a6.py"


rule figure_a7:
    input:
        runs=normalized_inputs,
        claim="results/claims/A7-{dataset}.json",
        lib=lib("stages.figures_a"),
    output:
        png=report(
            "results/figures/A/A7_{dataset}.png",
            caption="report/fig_a7.rst",
            category="Study A: neural similarity",
            labels={"figure": "A7", "dataset": "{dataset}"},
        ),
        pdf="results/figures/A/A7_{dataset}.pdf",
    log:
        "results/logs/figure_a7/{dataset}.log",
    conda:
        ENV
    params:
        arch=first_arch,
        rules=config["similarity"]["rules"],
    script:
        "../scripts/figure_a7.py"


rule figure_a5:
    input:
        summary="results/similarity/datasets/{dataset}/summary.nc",
        dynamics="results/similarity/datasets/{dataset}/dynamics.nc",
        participation="results/similarity/datasets/{dataset}/participation.nc",
        claim="results/claims/A5-{dataset}.json",
        lib=lib("stages.figures_a"),
    output:
        png=report(
            "results/figures/A/A5_{dataset}.png",
            caption="report/fig_a5.rst",
            category="Study A: neural similarity",
            labels={"figure": "A5", "dataset": "{dataset}"},
        ),
        pdf="results/figures/A/A5_{dataset}.pdf",
    log:
        "results/logs/figure_a5/{dataset}.log",
    conda:
        ENV
    params:
        arch=first_arch,
        rules=config["similarity"]["rules"],
    script:
        "../scripts/figure_a5.py"


rule figure_a4:
    input:
        summary="results/similarity/datasets/{dataset}/summary.nc",
        claim="results/claims/A4-{dataset}.json",
        lib=lib("stages.figures_a"),
    output:
        png=report(
            "results/figures/A/A4_{dataset}.png",
            caption="report/fig_a4.rst",
            category="Study A: neural similarity",
            labels={"figure": "A4", "dataset": "{dataset}"},
        ),
        pdf="results/figures/A/A4_{dataset}.pdf",
    log:
        "results/logs/figure_a4/{dataset}.log",
    conda:
        ENV
    params:
        archs=arch_rows,
        rules=config["similarity"]["rules"],
        level=config["similarity"]["dynamics"]["level"],
    script:
        "../scripts/figure_a4.py"


rule figure_a1:
    input:
        data=task_data,
        outputs="results/similarity/tasks/{task}/outputs.nc",
        lib=lib("stages.figures_a"),
    output:
        png=report(
            "results/figures/A/A1_{task}.png",
            caption="report/fig_a1.rst",
            category="Study A: neural similarity",
            labels={"figure": "A1", "task": "{task}"},
        ),
        pdf="results/figures/A/A1_{task}.pdf",
    log:
        "results/logs/figure_a1/{task}.log",
    conda:
        ENV
    script:
        "../scripts/figure_a1.py"
