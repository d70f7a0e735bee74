# Summaries -> study B's claim rows B1-B7 (results/claims/B*-{task}.json), one rule each; no drawing.


rule claim_b1:
    input:
        summary="results/generalization/{task}/summary.nc",
        lib=lib("stages.claims_b"),
    output:
        claim="results/claims/B1-{task}.json",
    log:
        "results/logs/claim_b1/{task}.log",
    conda:
        ENV
    params:
        groups=B_GROUPS,
        thresholds=B_CFG["claims"],
        preset=config["preset"],
    script:
        "../scripts/claim_b1.py"


rule claim_b2:
    input:
        summary="results/generalization/{task}/summary.nc",
        lib=lib("stages.claims_b"),
    output:
        claim="results/claims/B2-{task}.json",
    log:
        "results/logs/claim_b2/{task}.log",
    conda:
        ENV
    params:
        groups=B_GROUPS,
        thresholds=B_CFG["claims"],
        preset=config["preset"],
    script:
        "../scripts/claim_b2.py"


rule claim_b3:
    input:
        summary="results/generalization/{task}/summary.nc",
        lib=lib("stages.claims_b"),
    output:
        claim="results/claims/B3-{task}.json",
    log:
        "results/logs/claim_b3/{task}.log",
    conda:
        ENV
    params:
        groups=B_GROUPS,
        thresholds=B_CFG["claims"],
        preset=config["preset"],
    script:
        "../scripts/claim_b3.py"


rule claim_b4:
    input:
        summary="results/generalization/{task}/summary.nc",
        lib=lib("stages.claims_b"),
    output:
        claim="results/claims/B4-{task}.json",
    log:
        "results/logs/claim_b4/{task}.log",
    conda:
        ENV
    params:
        groups=B_GROUPS,
        thresholds=B_CFG["claims"],
        preset=config["preset"],
    script:
        "../scripts/claim_b4.py"


rule claim_b5:
    input:
        summary="results/generalization/{task}/summary.nc",
        lib=lib("stages.claims_b"),
    output:
        claim="results/claims/B5-{task}.json",
    log:
        "results/logs/claim_b5/{task}.log",
    conda:
        ENV
    params:
        reference=B_GROUPS["reference"],
        lr_rules=B_CFG["remedies"]["lr_rules"],
        tolerance=B_CFG["claims"]["stability_tolerance"],
        thresholds=B_CFG["claims"],
        preset=config["preset"],
    script:
        "../scripts/claim_b5.py"


rule claim_b6:
    input:
        summary="results/generalization/{task}/summary.nc",
        lib=lib("stages.claims_b"),
    output:
        claim="results/claims/B6-{task}.json",
    log:
        "results/logs/claim_b6/{task}.log",
    conda:
        ENV
    params:
        reference=B_GROUPS["reference"],
        lr_rules=B_CFG["remedies"]["lr_rules"],
        windows=B_CFG["remedies"]["windows"],
        thresholds=B_CFG["claims"],
        preset=config["preset"],
    script:
        "../scripts/claim_b6.py"


rule claim_b7:
    input:
        summary="results/generalization/{task}/summary.nc",
        lib=lib("stages.claims_b"),
    output:
        claim="results/claims/B7-{task}.json",
    log:
        "results/logs/claim_b7/{task}.log",
    conda:
        ENV
    params:
        groups=B_GROUPS,
        thresholds=B_CFG["claims"],
        preset=config["preset"],
    script:
        "../scripts/claim_b7.py"
