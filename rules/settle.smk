# `snakemake settle` (not part of `all`): seeds only where a claim is undecided. Each look is a checkpoint: once it
# has written which claims are still inconclusive, the next look (5 more seeds per rule, trained by the usual rules)
# enters the DAG, until every claim is settled or the seed cap is reached (biocredit.claims.settle).


checkpoint settle_look:
    input:
        unpack(settle_look_inputs),
        lib=lib("stages.settle"),
    output:
        "results/settle/{dataset}/look{look}.json",
    log:
        "results/logs/settle/{dataset}/look{look}.log",
    wildcard_constraints:
        look=r"\d+",
    conda:
        ENV
    params:
        plan=settle_plan_param,
        arch=first_arch,
        rules=config["similarity"]["rules"],
        sensitivity=equal_lr_of_dataset,
        n_grid=config["similarity"]["accuracy_grid_points"],
        fractions=config["similarity"]["matched_levels"],
        margin=config["similarity"]["equivalence_margin"],
        margins=a6_margins(),
        dynamics=config["similarity"]["dynamics"],
        baseline_sesoi=config["similarity"]["baseline_sesoi"],
        verdicts=config["verdicts"],
        preset=config["preset"],
    script:
        "../scripts/settle_look.py"


rule settle:
    input:
        states=settle_final_states,
        lib=lib("stages.settle"),
    output:
        "results/settle/claims.json",
    log:
        "results/logs/settle/claims.log",
    conda:
        ENV
    script:
        "../scripts/settle.py"
