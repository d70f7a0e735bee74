"""Stage of ``rules/generalization.smk``: one study-B task's runs (metrics and curvature) stacked into its
``summary.nc``."""

from __future__ import annotations

from biocredit.generalization import summarize_runs
from biocredit.io import write_netcdf

__all__ = ["summarize"]


def summarize(metrics: list[str], hessians: list[str], runs: list[dict], out: str, *, task: str, reference: str,
              base_lr: float) -> None:
    """Write :func:`biocredit.generalization.summarize_runs` of one task's runs (``runs``: :func:`biocredit.runs.grid`
    rows aligned with the files)."""
    write_netcdf(summarize_runs(metrics, hessians, runs, task=task, reference=reference, base_lr=base_lr), out)
