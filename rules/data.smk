# Download (URL or mirror, SHA-256 verified) and preprocess recordings into the NetCDF contract.


rule download:
    output:
        "results/raw/{dataset}/{filename}",
    log:
        "results/logs/download/{dataset}/{filename}.log",
    localrule: True
    conda:
        ENV
    script:
        "../scripts/download.py"


rule preprocess:
    input:
        raw=raw_input,
        lib=lib("data/fetch.py", "data/hatsopoulos.py", "data/preprocess.py"),
    output:
        "results/data/{dataset}.nc",
    log:
        "results/logs/preprocess/{dataset}.log",
    conda:
        ENV
    script:
        "../scripts/preprocess.py"
