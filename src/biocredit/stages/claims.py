"""Stage of ``rules/claims.smk``: every claim row gathered into ``results/claims.json``."""

from __future__ import annotations

from biocredit.claims import collect_claims as _collect
from biocredit.io import write_json

__all__ = ["collect_claims"]


def collect_claims(paths: list[str], out: str) -> None:
    """Gather the per-figure claim files (:func:`biocredit.claims.collect_claims`) into one JSON list by id."""
    write_json(_collect(paths), out)
