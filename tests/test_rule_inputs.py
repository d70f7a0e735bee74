"""One path per figure, and each rule's library inputs exactly what its job imports.

Every rule that runs Python runs ``scripts/<rule>.py``, which imports ``biocredit.stages.job`` (the job's set-up)
and one function of one stage module, ``biocredit.stages.<stage>``; the rule names that module as
``lib("stages.<stage>")``, and ``lib()`` (rules/common.smk) expands it to the stage's import closure
(:mod:`biocredit._imports`). Here: the rules and scripts keep that shape, and the closure equals the ``biocredit``
modules that importing the scripts' stage functions really loads (a fresh interpreter, ``sys.modules``), so that an
edit reruns exactly the jobs that import the edited file. The reruns themselves are measured with ``snakemake -n``
in tests/test_workflow.py.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from biocredit import _imports
from tests.conftest import REPO

RULES = REPO / "rules"
SCRIPTS = REPO / "scripts"
SRC = REPO / "src" / "biocredit"
#: rules whose script imports the library but whose outputs must not be remade when it changes: the downloads
#: (verified by SHA-256; a code edit must not fetch the data again)
NO_LIB = {"download", "download_mnist"}
#: rules without a script (targets that only gather inputs)
NO_SCRIPT = {"all", "calibration", "calibration_b"}


def _rule_blocks() -> dict[str, str]:
    """Rule name -> its text, from every rules/*.smk file (indented rules and checkpoints included)."""
    blocks = {}
    for smk in sorted(RULES.glob("*.smk")):
        text = smk.read_text()
        starts = [(m.start(), m.group(1)) for m in re.finditer(r"^\s*(?:rule|checkpoint) (\w+):", text, flags=re.M)]
        for (a, name), (b, _) in zip(starts, [*starts[1:], (len(text), "")]):  # noqa: B905 - ends: next start
            blocks[name] = text[a:b]
    return blocks


BLOCKS = _rule_blocks()
WITH_SCRIPT = sorted(n for n in BLOCKS if n not in NO_SCRIPT)


def _script_of(block: str) -> str | None:
    m = re.search(r'script:\s*\n\s*"\.\./scripts/([\w]+)\.py"', block)
    return m.group(1) if m else None


def _stage_imports(script: Path) -> list[tuple[str, list[str]]]:
    """The script's ``from biocredit... import ...`` statements as (module, names)."""
    tree = ast.parse(script.read_text())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.startswith("biocredit") for a in node.names):
            out.append((node.names[0].name, []))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("biocredit"):
            out.append((node.module, [a.name for a in node.names]))
    return out


def test_every_smk_file_is_included_from_the_snakefile_and_only_there():
    snakefile = (REPO / "Snakefile").read_text()
    included = set(re.findall(r'^include: "rules/([\w]+\.smk)"', snakefile, flags=re.M))
    assert included == {p.name for p in RULES.glob("*.smk")}
    nested = [p.name for p in RULES.glob("*.smk") if re.search(r"^\s*include:", p.read_text(), flags=re.M)]
    assert not nested, f"included from another .smk instead of the Snakefile: {nested}"


def test_no_lambdas_in_the_rules():
    offending = [p.name for p in [*RULES.glob("*.smk"), REPO / "Snakefile"] if re.search(r"\blambda\b", p.read_text())]
    assert not offending, f"use named input/param functions instead of lambdas in {offending}"


def test_one_rule_per_figure_of_both_studies():
    figures = {f"figure_a{k}" for k in range(1, 8)} | {f"figure_b{k}" for k in range(1, 8)}
    assert figures <= set(BLOCKS)
    claims = {f"claim_a{k}" for k in range(2, 8)} | {f"claim_b{k}" for k in range(1, 8)}  # A1 has no claim
    assert claims <= set(BLOCKS)


@pytest.mark.parametrize("rule", WITH_SCRIPT)
def test_script_is_named_after_its_rule_and_calls_one_stage_named_in_lib(rule):
    block = BLOCKS[rule]
    assert _script_of(block) == rule, f"rule {rule} runs scripts/{_script_of(block)}.py"
    imports = _stage_imports(SCRIPTS / f"{rule}.py")
    stages = [m for m, _ in imports if m != "biocredit.stages.job"]
    assert len(stages) == 1 and stages[0].startswith("biocredit.stages."), imports
    names = dict(imports)[stages[0]]
    assert len(names) == 1, f"scripts/{rule}.py imports {names} from {stages[0]}: one stage function"
    libs = re.findall(r'lib=lib\("([\w.]+)"\)', block)
    if rule in NO_LIB:
        assert libs == []
    else:
        assert libs == [stages[0].removeprefix("biocredit.")], f"rule {rule}: lib {libs}, script imports {stages}"


def test_every_script_belongs_to_a_rule():
    assert {p.stem for p in SCRIPTS.glob("*.py")} == {_script_of(BLOCKS[r]) for r in WITH_SCRIPT}


def _runtime_modules(import_lines: list[str]) -> set[Path]:
    code = "\n".join([*import_lines, "import json, sys",
                      "print(json.dumps(sorted(m.__file__ for k, m in sys.modules.items() "
                      "if k == 'biocredit' or k.startswith('biocredit.'))))"])
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {Path(f).resolve() for f in json.loads(proc.stdout)}


def _scripts_by_stage() -> dict[str, list[str]]:
    """Stage module -> the import lines of the scripts that call it (each stage once: a fresh interpreter each)."""
    out: dict[str, set[str]] = {}
    for rule in WITH_SCRIPT:
        if rule in NO_LIB:
            continue
        imports = _stage_imports(SCRIPTS / f"{_script_of(BLOCKS[rule])}.py")
        stage = next(m for m, _ in imports if m != "biocredit.stages.job")
        out.setdefault(stage, set()).update(f"from {m} import {', '.join(n)}" for m, n in imports)
    return {k: sorted(v) for k, v in sorted(out.items())}


STAGES = _scripts_by_stage()


@pytest.mark.parametrize("stage", list(STAGES))
def test_lib_names_exactly_the_modules_the_job_imports(stage):
    """Importing what the stage's scripts import (their stage functions and the job set-up) loads exactly the
    files ``lib()`` lists for their rules (relative to the library: the rules' paths are under the workflow's
    src/biocredit)."""
    listed = {f.resolve() for f in _imports.import_closure(stage.removeprefix("biocredit."), "stages.job")}
    loaded = _runtime_modules(STAGES[stage])
    assert loaded == listed, (f"{stage}: imported but not in lib(): {sorted(map(str, loaded - listed))}; "
                              f"in lib() but not imported: {sorted(map(str, listed - loaded))}")


def test_the_closure_is_narrow_where_it_matters():
    """The point of the exact lists: a claim or figure module is no input of a compute job, and the training
    stage does not list the curvature, claims or figures."""
    train = {str(f.relative_to(_imports.ROOT)) for f in _imports.import_closure("stages.train", "stages.job")}
    curvature = {str(f.relative_to(_imports.ROOT)) for f in _imports.import_closure("stages.curvature")}
    for files in (train, curvature):
        assert not {f for f in files if f.startswith(("claims/", "figures/"))}
    assert "curvature/checkpoint.py" in curvature and "curvature/checkpoint.py" not in train
    figures_b = {str(f.relative_to(_imports.ROOT)) for f in _imports.import_closure("stages.figures_b")}
    assert "figures/generalization.py" in figures_b
    assert not {"train.py", "model.py", "claims/study_a.py", "claims/study_b.py"} & figures_b  # it reads the rows
    claims_b = {str(f.relative_to(_imports.ROOT)) for f in _imports.import_closure("stages.claims_b")}
    assert "claims/study_b.py" in claims_b and not {"train.py", "model.py", "claims/study_a.py"} & claims_b


def test_an_unknown_stage_is_named():
    with pytest.raises(ValueError, match="stages.nope"):
        _imports.import_closure("stages.nope")


def _rules_listing(module: str) -> set[str]:
    """The rules whose ``lib()`` inputs include library file ``module`` (relative to src/biocredit)."""
    out = set()
    for rule, block in BLOCKS.items():
        for stage in re.findall(r'lib=lib\("([\w.]+)"\)', block):
            files = {str(f.relative_to(_imports.ROOT)) for f in _imports.import_closure(stage, "stages.job")}
            if module in files:
                out.add(rule)
    return out


FIGURE_RULES_A = {f"figure_a{k}" for k in range(1, 8)}
FIGURE_RULES_B = {f"figure_b{k}" for k in range(1, 8)}
#: jobs that draw something other than a study's figure: the scorecard, the landing page, calibration tables
OTHER_DRAWING = {"scorecard", "report_landing", "calibration_summary", "calibration_b_summary"}


@pytest.mark.parametrize(("module", "rules"), [
    ("figures/dynamics.py", FIGURE_RULES_A), ("figures/similarity.py", FIGURE_RULES_A),
    ("figures/tasks.py", FIGURE_RULES_A), ("figures/verdict.py", FIGURE_RULES_A),
    ("figures/generalization.py", FIGURE_RULES_B),
])
def test_a_study_figure_module_is_an_input_of_that_studys_figure_jobs_only(module, rules):
    """Claim jobs test and figure jobs draw: a drawing module is no input of a claim, summary, measurement (DSA,
    forward passes, Hessians), training job, nor of the other study's figures. (The replan itself, with
    ``snakemake -n`` after an edit, is measured in tests/test_workflow.py.)"""
    assert _rules_listing(module) == rules


def test_every_figure_module_is_an_input_of_drawing_jobs_only():
    drawing = FIGURE_RULES_A | FIGURE_RULES_B | OTHER_DRAWING
    for path in sorted((SRC / "figures").glob("*.py")):
        module = str(path.relative_to(SRC))
        users = _rules_listing(module)
        assert users and users <= drawing, (module, sorted(users - drawing))


def test_the_measurements_and_claims_list_no_drawing_code():
    """A5's DSA job, A1's forward passes and the claim jobs of both studies import no figure module."""
    for stage in ("stages.networks", "stages.claims_a", "stages.claims_b"):
        files = {str(f.relative_to(_imports.ROOT)) for f in _imports.import_closure(stage, "stages.job")}
        assert not {f for f in files if f.startswith("figures/")}, stage
    figures_a = {str(f.relative_to(_imports.ROOT)) for f in _imports.import_closure("stages.figures_a")}
    assert not {"model.py", "train.py", "tasks/__init__.py", "stages/networks.py"} & figures_a
