# Set-up and the two entry points of the README: `make run` (the default config) and `make test`.
# Both create .venv and install the pinned stack on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Data mirror: $BIOCREDIT_DATA_MIRROR if set, else ../shared/data when it exists, else download from upstream.
BIOCREDIT_DATA_MIRROR ?= $(if $(wildcard ../shared/data),$(abspath ../shared/data),)
export BIOCREDIT_DATA_MIRROR
export MPLBACKEND := Agg

.PHONY: setup run smoke test test-fast report lint clean dvc-touch dvc-pull

$(BIN)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[workflow,test]"
	touch $@

setup: $(BIN)/.installed

CORES ?= $(shell nproc 2>/dev/null || echo 1)

run: setup  ## the default config: every figure at a reduced scale
	$(BIN)/python -m biocredit.configcheck config.yaml
	$(BIN)/snakemake --cores $(CORES) -n --quiet rules 2>/dev/null | $(BIN)/python -m biocredit.plan start --preset default --cores $(CORES)
	$(BIN)/snakemake --cores $(CORES)
	$(BIN)/python -m biocredit.plan end

smoke: setup  ## the whole DAG at toy scale, in results/ (a few minutes)
	$(BIN)/python -m biocredit.configcheck config.yaml tests/smoke/config.yaml
	$(BIN)/snakemake --cores $(CORES) -n --quiet rules --configfile config.yaml tests/smoke/config.yaml 2>/dev/null \
	  | $(BIN)/python -m biocredit.plan start --preset smoke --cores $(CORES)
	$(BIN)/snakemake --cores $(CORES) --configfile config.yaml tests/smoke/config.yaml
	$(BIN)/python -m biocredit.plan end

test: setup  ## every test, slow ones included (what CI runs)
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not slow"

# The report uses the config files the results were made with (results/configfiles.txt, written by every run), so
# `make smoke && make report` reports on the smoke preset.
REPORT_CONFIGFILES = $(or $(strip $(shell cat results/configfiles.txt 2>/dev/null)),config.yaml)

report: setup
	$(BIN)/python -m biocredit.configcheck $(REPORT_CONFIGFILES)
	$(BIN)/snakemake --configfile $(REPORT_CONFIGFILES) --report results/report.html

lint: setup
	$(BIN)/ruff check src tests scripts benchmarks
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check Snakefile rules/
	$(BIN)/lint-imports --no-cache

dvc-touch: setup  ## after `dvc pull`/`dvc checkout`: mark the restored results up to date for Snakemake (runs no job)
	export PATH="$(abspath $(BIN)):$$PATH"; \
	cmd=$$($(BIN)/python -c 'import yaml; print(yaml.safe_load(open("dvc.lock"))["stages"]["studies"]["cmd"])') && \
	eval "$$cmd --touch"

dvc-pull: setup  ## the results dvc.lock names, from the DVC remote, marked up to date for Snakemake
	$(BIN)/dvc pull
	$(MAKE) dvc-touch

clean:
	rm -rf results .snakemake
