"""The library files a workflow job imports, found without importing anything: the ``biocredit`` modules a module
imports (anywhere in its source: at the top, or in a function body), their packages' ``__init__`` files, and so on
transitively. ``rules/common.smk``'s ``lib()`` lists them as a rule's inputs, so that an edit to any of them, and
to nothing else, reruns the rule's jobs; ``tests/test_rule_inputs.py`` checks the list against ``sys.modules``
after importing the stage in a fresh interpreter. No stage imports this module.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

__all__ = ["module_file", "import_closure"]

ROOT = Path(__file__).resolve().parent  # src/biocredit
PACKAGE = "biocredit"


def module_file(name: str) -> Path | None:
    """The source file of module ``name`` (``biocredit.x.y``): ``x/y.py`` or ``x/y/__init__.py``; None if neither."""
    parts = name.split(".")
    if parts[0] != PACKAGE:
        return None
    base = ROOT.joinpath(*parts[1:])
    for f in (base.with_suffix(".py") if len(parts) > 1 else None, base / "__init__.py"):
        if f is not None and f.is_file():
            return f
    return None


def _with_parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


@cache
def _direct(name: str) -> frozenset[str]:
    """The ``biocredit`` modules module ``name`` imports directly (with their parent packages)."""
    path = module_file(name)
    is_pkg = path.name == "__init__.py"
    package = name if is_pkg else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
            bases = []
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            targets = [base]
            bases = [f"{base}.{a.name}" for a in node.names]  # `from pkg import submodule`
        else:
            continue
        for t in targets + [b for b in bases if module_file(b) is not None]:
            if t.split(".")[0] == PACKAGE and module_file(t) is not None:
                found.update(_with_parents(t))
    return frozenset(found)


def import_closure(*modules: str) -> list[Path]:
    """Every source file of the ``biocredit`` modules that importing ``modules`` (``"stages.train"`` or
    ``"biocredit.stages.train"``) loads, sorted. An unknown module is a ``ValueError``."""
    todo = []
    for m in modules:
        name = m if m.startswith(PACKAGE + ".") or m == PACKAGE else f"{PACKAGE}.{m}"
        if module_file(name) is None:
            raise ValueError(f"no library module {m!r} under {ROOT}")
        todo += _with_parents(name)
    seen: set[str] = set()
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo += sorted(_direct(m) - seen)
    return sorted(module_file(m) for m in seen)
