# Every claim row (one per figure of both studies) → results/claims.json.


rule claims:
    input:
        claims=claim_files(),
        lib=lib("stages.claims"),
    output:
        report("results/claims.json", caption="report/claims.rst", category="Claims"),
    log:
        "results/logs/claims.log",
    conda:
        ENV
    script:
        "../scripts/claims.py"
