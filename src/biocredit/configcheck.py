"""Check workflow config files before Snakemake reads them: a YAML syntax error is reported with the file, line and
column (Snakemake's own message, "Config file is not valid JSON or YAML", names neither).

    python -m biocredit.configcheck config.yaml tests/smoke/config.yaml

Exits 1 with one message per bad file; the Makefile runs it before every Snakemake call.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["check_yaml_file", "main"]


def check_yaml_file(path: str | Path) -> str:
    """'' if ``path`` is readable YAML whose top level is a mapping, else a message naming the file and, for a syntax
    error, the line and column."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        return f"{path}: cannot read the config file ({err.strerror or err})"
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        problem = " ".join(str(p) for p in (getattr(err, "context", None), getattr(err, "problem", None)) if p)
        return f"{where}: YAML syntax error: {problem or err}"
    if data is not None and not isinstance(data, dict):
        return f"{path}: a config file must be a mapping of keys at the top level, got {type(data).__name__}"
    return ""


def main(argv: list[str] | None = None) -> int:
    errors = [e for e in (check_yaml_file(p) for p in (argv if argv is not None else sys.argv[1:])) if e]
    for e in errors:
        print(e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
