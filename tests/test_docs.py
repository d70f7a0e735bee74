"""The README and docs/ stay true: every link and named file exists, every command they give exists in the Makefile
or the workflow, and the README's verdict table is what `python -m biocredit.verdicts` prints for the files it
names."""

from __future__ import annotations

import importlib.util
import io
import re
import shlex
from contextlib import redirect_stdout

import pytest

from tests.conftest import REPO

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
TOP_DIRS = ("docs/", "presets/", "benchmarks/", "src/", "rules/", "scripts/", "tests/", "profiles/", "envs/", ".ci/")
TOP_FILES = ("config.yaml", "Snakefile", "Makefile", "dvc.yaml", "pyproject.toml", "requirements.lock")


def _code_spans(text: str) -> list[str]:
    return re.findall(r"`([^`\n]+)`", text)


def _named_paths(text: str) -> set[str]:
    """Repository paths named in code spans: tokens that start with a top-level folder or are a top-level file,
    without placeholders or globs (``rules/<stage>.smk``, ``A{1..7}_*``)."""
    paths = set()
    for span in _code_spans(text):
        for token in re.split(r"[\s,;()=]+", span):
            token = token.strip("'\".:")
            if not token or any(c in token for c in "<>{}*$[]…|"):
                continue
            if token.startswith(TOP_DIRS) or token in TOP_FILES:
                paths.add(token.split("::")[0].split("#")[0])
    return paths


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_and_named_file_exists(page):
    text = page.read_text()
    missing = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):  # markdown links and images
        if re.match(r"[a-z]+://", target) or target.startswith("#"):
            continue
        if not (page.parent / target.split("#")[0]).exists():
            missing.append(target)
    examples = set(re.findall(r"<!-- extending:\S+ (\S+) -->", text))  # files a tutorial asks the reader to create
    for path in _named_paths(text) - examples:
        if not (REPO / path).exists():
            missing.append(path)
    assert not missing, f"{page.relative_to(REPO)} names what does not exist: {sorted(missing)}"


def _make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][\w-]*):", (REPO / "Makefile").read_text(), flags=re.M))


def _workflow_rules() -> set[str]:
    rules = set()
    for f in [REPO / "Snakefile", *(REPO / "rules").glob("*.smk")]:
        rules |= set(re.findall(r"^\s*(?:rule|checkpoint)\s+(\w+)\s*:", f.read_text(), flags=re.M))
    return rules


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_command_exists(page):
    """`make X` is a Makefile target, `snakemake X` (a target name, not a file or option) a rule of the workflow,
    `python -m M` an importable module, `python F.py` a file."""
    text = page.read_text()
    targets, rules, missing = _make_targets(), _workflow_rules(), []
    for span in _code_spans(text) + re.findall(r"```(?:bash)?\n(.*?)```", text, flags=re.S):
        for m in re.finditer(r"\bmake\s+([a-z][\w-]*)", span):
            if m.group(1) not in targets:
                missing.append(f"make {m.group(1)}")
        for m in re.finditer(r"\bsnakemake\s+([a-z_]\w*)(?=\s|$)", span):
            if m.group(1) not in rules:
                missing.append(f"snakemake {m.group(1)}")
        for m in re.finditer(r"python -m ([\w.]+)", span):
            if m.group(1).startswith("biocredit") and importlib.util.find_spec(m.group(1)) is None:
                missing.append(f"python -m {m.group(1)}")
        for m in re.finditer(r"python ((?:benchmarks|scripts)/[\w/]+\.py)", span):
            if not (REPO / m.group(1)).exists():
                missing.append(m.group(1))
    assert not missing, f"{page.relative_to(REPO)} gives commands that do not exist: {sorted(set(missing))}"


def _generated_block(text: str, name: str) -> tuple[str, str]:
    """(command, table) of a ``<!-- name: python -m biocredit.verdicts ... -->`` block, up to ``<!-- /name -->``."""
    m = re.search(rf"<!-- {name}: (python -m biocredit\.verdicts .*?) -->\n(.*?)<!-- /{name} -->", text, flags=re.S)
    assert m, f"no <!-- {name}: ... --> block"
    return m.group(1), m.group(2)


@pytest.mark.parametrize(("page", "name"), [("README.md", "verdict-table"), ("docs/results.md", "results-table")])
def test_verdict_tables_equal_what_the_command_prints(page, name, monkeypatch):
    from biocredit.verdicts import main

    command, table = _generated_block((REPO / page).read_text(), name)
    argv = shlex.split(command)[3:]
    monkeypatch.chdir(REPO)
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(argv) == 0
    assert table.strip() == out.getvalue().strip(), f"{page}: regenerate with `{command}`"


def test_readme_is_short_and_starts_with_what_it_reproduces():
    text = (REPO / "README.md").read_text()
    assert len(text.splitlines()) <= 150
    first_screen = "\n".join(text.splitlines()[:40])
    assert "arXiv 2506.06904" in first_screen and "arXiv 2206.00823" in first_screen
    assert "make run" in first_screen and "min" in first_screen  # the command and what it costs
    assert not re.search(r"\bissues?\b|\bitem \d", text, flags=re.I)
    # two study figures and the scorecard
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert any("A2_" in i for i in images) and any("/B" in i and "smnist" in i for i in images)
    assert any("scorecard" in i for i in images)
