"""The layers of docs/architecture.md as contracts: `lint-imports` (import-linter, configured in pyproject.toml)
must keep every contract, and must break one when a module imports across a layer; the Snakemake files stay in
snakefmt's format; every ``biocredit`` import of the library is at module level (so that a stage's imports, hence
its rule's ``lib()`` inputs, are known without running it)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

BIN = Path(sys.executable).parent
SRC = REPO / "src" / "biocredit"


def _lint_imports(cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    env = {"PATH": str(BIN), "PYTHONPATH": str(pythonpath or REPO / "src")}
    return subprocess.run([str(BIN / "lint-imports"), "--config", str(REPO / "pyproject.toml"), "--no-cache"],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_import_contracts_are_kept():
    out = _lint_imports(REPO)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout and "kept" in out.stdout


def test_a_model_that_imports_a_learning_rule_breaks_the_contracts(tmp_path):
    """The check can fail: a copy of the library whose model imports biocredit.learning breaks the model's
    contract and the layers."""
    copy = tmp_path / "src" / "biocredit"
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("__pycache__"))
    model = copy / "model.py"
    model.write_text(model.read_text() + "\nfrom biocredit.learning import BPTT  # noqa: E402\n")
    out = _lint_imports(tmp_path, pythonpath=tmp_path / "src")
    assert out.returncode != 0
    assert "The model takes a credit path and imports no learning rule BROKEN" in out.stdout
    assert "Layers of docs/architecture.md BROKEN" in out.stdout, out.stdout[-4000:]


def test_figures_that_import_training_break_the_contracts(tmp_path):
    copy = tmp_path / "src" / "biocredit"
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("__pycache__"))
    fig = copy / "figures" / "tasks.py"
    fig.write_text(fig.read_text() + "\nfrom biocredit.train import load_checkpoints  # noqa: E402, F401\n")
    out = _lint_imports(tmp_path, pythonpath=tmp_path / "src")
    assert out.returncode != 0 and "Figures draw summaries and claim rows: no training BROKEN" in out.stdout


def test_snakemake_files_are_formatted():
    out = subprocess.run([str(BIN / "snakefmt"), "--check", "Snakefile", "rules/"], cwd=REPO, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]


def test_library_imports_of_biocredit_are_at_module_level():
    """A ``biocredit`` import inside a function would load a module only when the function runs: the import
    closure of a stage (its rule's ``lib()``) would then miss it or list it without it being loaded."""
    inner = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text())
        top = set(map(id, tree.body))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in top:
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                if node.__class__ is ast.ImportFrom and node.level:
                    names = ["biocredit"]
                if any(n == "biocredit" or n.startswith("biocredit.") for n in names):
                    inner.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not inner, f"biocredit imported inside a function at {inner}"


def test_no_module_is_a_grab_bag():
    """No library module over 450 lines (the issue's ≈400, with room for docstrings), except those that hold one
    concept at length (named here with why)."""
    one_concept = {
        "data/mante.py": "one dataset: Mante et al.'s MATLAB files, their preprocessing and fakes for tests",
        "tasks/smnist.py": "one task family: sequential MNIST/digits and its generated training sets",
        "train.py": "the one training loop, its schedule, resume state and checkpoints",
        "batched.py": "the seed-batched recurrence and model that the one training loop takes as its networks",
        "model.py": "the RNN with its fused recurrence and hand-written adjoint",
    }
    long = {str(p.relative_to(SRC)): len(p.read_text().splitlines()) for p in SRC.rglob("*.py")}
    over = {k: n for k, n in long.items() if n > 450 and k not in one_concept}
    assert not over, over


def test_every_netcdf_read_goes_through_io():
    """``biocredit.io.open_netcdf`` turns a damaged file into an error naming it and the command that remakes it; a
    read that calls xarray directly would lose that message. Only io.py may call xarray's readers."""
    readers = {"open_dataset", "load_dataset", "open_dataarray", "load_dataarray", "open_mfdataset"}
    direct = []
    for path in sorted([*SRC.rglob("*.py"), *(REPO / "scripts").glob("*.py")]):
        if path == SRC / "io.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in readers:
                direct.append(f"{path.relative_to(REPO)}:{node.lineno} ({node.attr})")
    assert not direct, f"NetCDF read past biocredit.io.open_netcdf at {direct}"
