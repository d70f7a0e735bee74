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
        unpack(raw_input),
        lib=lib("stages.data"),
    output:
        "results/data/{dataset}.nc",
    log:
        "results/logs/preprocess/{dataset}.log",
    conda:
        ENV
    params:
        files=raw_files,
        lock_file=config["data"]["lock_file"],
    script:
        "../scripts/preprocess.py"


rule dataset_status:
    input:
        lib=lib("stages.data"),
    output:
        report("results/datasets.json", caption="report/datasets.rst", category="Data"),
    log:
        "results/logs/dataset_status.log",
    conda:
        ENV
    params:
        status=dataset_status(),
    script:
        "../scripts/dataset_status.py"


rule configfiles:
    # The config files this run was made with, so that `make report` (and anyone reading results/) uses the same
    # preset; rewritten when the list changes.
    input:
        lib=lib("stages.data"),
    output:
        "results/configfiles.txt",
    log:
        "results/logs/configfiles.log",
    localrule: True
    conda:
        ENV
    params:
        files=recorded_configfiles(),
    script:
        "../scripts/configfiles.py"
