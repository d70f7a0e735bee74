"""Stages of ``rules/scorecard.smk``: the rule scorecard (every rule on every axis of both studies) and the
report's landing page."""

from __future__ import annotations

import json
import math
from pathlib import Path

from biocredit.figures.scorecard import scorecard_figure
from biocredit.figures.style import save
from biocredit.io import atomic_path, open_netcdf
from biocredit.landing import landing_rst, png_data_uri
from biocredit.scorecard import (
    METRICS,
    Record,
    benchmark_seconds,
    read_csv,
    rule_order,
    run_values,
    score,
    study_a_values,
    study_b_values,
    to_csv,
)

__all__ = ["write_scorecard", "write_landing"]

def write_scorecard(
    a_summaries: list[str],
    b_summaries: list[str],
    metrics: list[str],
    out_csv: str,
    out_png: str,
    out_pdf: str,
    *,
    a_archs: list[str],
    a_rules: list[str],
    b_rules: list[str],
    runs: list[dict],
    level: float,
    preset: str,
) -> None:
    """The scorecard of a preset from study A's dataset summaries (each read at its architecture
    ``a_archs[i]``), study B's task summaries, and every training run's metrics log (``runs[i]``: its ``rule``,
    ``seed`` and ``benchmark``, the Snakemake benchmark file of its training job, used when it exists). Writes
    the CSV (atomically) and the figure."""
    if len(a_summaries) != len(a_archs):
        raise ValueError(f"{len(a_summaries)} study-A summaries but {len(a_archs)} architectures")
    if len(metrics) != len(runs):
        raise ValueError(f"{len(metrics)} metrics files but {len(runs)} runs")
    records: list[Record] = []
    for path, arch in zip(a_summaries, a_archs, strict=True):
        with open_netcdf(path) as ds:  # the grid's rules (a summary may hold sensitivity runs beside them)
            records += study_a_values(ds.load().sel(rule=[r for r in a_rules if r in ds.rule.values]), arch, level)
    for path in b_summaries:
        with open_netcdf(path) as ds:
            records += study_b_values(ds.load())
    for path, run in zip(metrics, runs, strict=True):
        bench = Path(run["benchmark"]) if run.get("benchmark") else None
        try:
            seconds = benchmark_seconds(bench.read_text()) if bench and bench.is_file() else math.nan
        except ValueError as err:
            raise ValueError(f"{bench}: {err}") from err
        with open_netcdf(path) as m:
            records += run_values(run["rule"], int(run["seed"]), m.load(), seconds)
    rows = score(records, rule_order(a_rules, b_rules))
    with atomic_path(out_csv) as tmp:
        Path(tmp).write_text(to_csv(rows))
    save(scorecard_figure(rows, METRICS, title=f"Rule scorecard, preset {preset} (mean over seeds, 95% CI)"),
         out_png, out_pdf)

def write_landing(claims: str, datasets: str, scorecard: str, scorecard_png: str, out: str, *,
                  b_tasks: list[str], preset: str, figures: list[str] = (), captions: list[str] = ()) -> None:
    """The landing page from ``results/claims.json``, ``results/datasets.json``, the scorecard CSV and the headline
    figures (``figures``: PNG paths, each with its ``captions`` entry), written atomically."""
    if len(figures) != len(captions):
        raise ValueError(f"write_landing got {len(figures)} figures and {len(captions)} captions")
    heads = [(c, png_data_uri(Path(f).read_bytes())) for f, c in zip(figures, captions, strict=True)]
    text = landing_rst(json.loads(Path(claims).read_text()), json.loads(Path(datasets).read_text()),
                       read_csv(Path(scorecard).read_text()), png_data_uri(Path(scorecard_png).read_bytes()),
                       b_tasks=b_tasks, preset=preset, figures=heads)
    with atomic_path(out) as tmp:
        Path(tmp).write_text(text)
