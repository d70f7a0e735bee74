# Summaries -> study A's claim rows A2-A7 (results/claims/A*-{dataset}.json), one rule each; no drawing.


rule claim_a2:
    input:
        summary="results/similarity/datasets/{dataset}/summary.nc",
        lib=lib("stages.claims_a"),
    output:
        claim="results/claims/A2-{dataset}.json",
        sensitivity="results/claims/A2-{dataset}-sensitivity.json",
    log:
        "results/logs/claim_a2/{dataset}.log",
    conda:
        ENV
    params:
        arch=first_arch,
        rules=config["similarity"]["rules"],
        n_grid=config["similarity"]["accuracy_grid_points"],
        margin=config["similarity"]["equivalence_margin"],
        preset=config["preset"],
        verdicts=config["verdicts"],
        sensitivity=equal_lr_of_dataset,
    script:
        "../scripts/claim_a2.py"


rule claim_a3:
    input:
        summary="results/similarity/datasets/{dataset}/summary.nc",
        lib=lib("stages.claims_a"),
    output:
        claim="results/claims/A3-{dataset}.json",
        sensitivity="results/claims/A3-{dataset}-sensitivity.json",
    log:
        "results/logs/claim_a3/{dataset}.log",
    conda:
        ENV
    params:
        arch=first_arch,
        rules=config["similarity"]["rules"],
        fractions=config["similarity"]["matched_levels"],
        margin=config["similarity"]["equivalence_margin"],
        preset=config["preset"],
        verdicts=config["verdicts"],
        sensitivity=equal_lr_of_dataset,
    script:
        "../scripts/claim_a3.py"


rule claim_a6:
    input:
        summary="results/similarity/datasets/{dataset}/summary.nc",
        lib=lib("stages.claims_a"),
    output:
        claim="results/claims/A6-{dataset}.json",
    log:
        "results/logs/claim_a6/{dataset}.log",
    conda:
        ENV
    params:
        arch=first_arch,
        rules=config["similarity"]["rules"],
        n_grid=config["similarity"]["accuracy_grid_points"],
        margins=a6_margins(),
        preset=config["preset"],
        verdicts=config["verdicts"],
    script:
        "../scripts/claim_a6.py"


rule claim_a7:
    input:
        runs=normalized_inputs,
        lib=lib("stages.claims_a"),
    output:
        claim="results/claims/A7-{dataset}.json",
    log:
        "results/logs/claim_a7/{dataset}.log",
    conda:
        ENV
    params:
        arch=first_arch,
        rules=config["similarity"]["rules"],
        preset=config["preset"],
        sesoi=config["similarity"]["baseline_sesoi"],
        verdicts=config["verdicts"],
    script:
        "../scripts/claim_a7.py"


rule claim_a5:
    input:
        summary="results/similarity/datasets/{dataset}/summary.nc",
        dynamics="results/similarity/datasets/{dataset}/dynamics.nc",
        lib=lib("stages.claims_a"),
    output:
        claim="results/claims/A5-{dataset}.json",
    log:
        "results/logs/claim_a5/{dataset}.log",
    conda:
        ENV
    params:
        arch=first_arch,
        rules=config["similarity"]["rules"],
        level=config["similarity"]["dynamics"]["level"],
        rank=config["similarity"]["dynamics"]["rank"],
        dsa=config["similarity"]["dynamics"]["dsa"],
        margin=config["similarity"]["dynamics"]["margin"],
        preset=config["preset"],
        verdicts=config["verdicts"],
    script:
        "../scripts/claim_a5.py"


rule claim_a4:
    input:
        summary="results/similarity/datasets/{dataset}/summary.nc",
        lib=lib("stages.claims_a"),
    output:
        claim="results/claims/A4-{dataset}.json",
    log:
        "results/logs/claim_a4/{dataset}.log",
    conda:
        ENV
    params:
        archs=arch_rows,
        rules=config["similarity"]["rules"],
        level=config["similarity"]["dynamics"]["level"],
        preset=config["preset"],
    script:
        "../scripts/claim_a4.py"
