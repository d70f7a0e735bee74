# The rule scorecard (every rule on every axis of both studies) and the report's landing page.


rule scorecard:
    input:
        a_summaries=expand("results/similarity/datasets/{dataset}/summary.nc", dataset=similarity_datasets()),
        b_summaries=expand("results/generalization/{task}/summary.nc", task=B_CFG["tasks"]),
        metrics=[r["metrics"] for r in scorecard_runs()],
        lib=lib("stages.scorecard"),
    output:
        csv="results/scorecard.csv",
        png=report(
            "results/scorecard.png",
            caption="report/scorecard.rst",
            category="1. Rule scorecard",
        ),
        pdf="results/scorecard.pdf",
    log:
        "results/logs/scorecard.log",
    conda:
        ENV
    params:
        a_archs=scorecard_archs(),
        a_rules=config["similarity"]["rules"],
        b_rules=B_CFG["rules"],
        runs=[{k: r[k] for k in ("rule", "seed", "benchmark")} for r in scorecard_runs()],
        level=scorecard_level(),
        preset=config["preset"],
    script:
        "../scripts/scorecard.py"


rule report_landing:
    input:
        claims="results/claims.json",
        datasets="results/datasets.json",
        scorecard="results/scorecard.csv",
        png="results/scorecard.png",
        figures=[f for f, _ in headline_figures()],
        lib=lib("stages.scorecard"),
    output:
        "results/report/landing.rst",
    log:
        "results/logs/report_landing.log",
    conda:
        ENV
    params:
        b_tasks=B_CFG["tasks"],
        preset=config["preset"],
        captions=[c for _, c in headline_figures()],
    script:
        "../scripts/report_landing.py"
