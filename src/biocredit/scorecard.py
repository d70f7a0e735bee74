"""The rule scorecard: every learning rule scored on every axis of both studies at once, each with a CI over seeds.

The numbers are gathered in two steps, both pure functions:

1. *Values per seed*: small extractors turn each source into ``(rule, seed, metric, value)`` records: study A's
   per-dataset summaries (:func:`study_a_values`), study B's per-task summaries (:func:`study_b_values`), and each
   training run's metrics log with its job's wall time (:func:`run_values`). Each reads its source only through the
   accessor functions below (``a_*``, ``b_*``), so a change of a summary's layout is a change of one accessor.
2. *Scores*: :func:`score` averages a rule's records of one metric per seed (several datasets or tasks give one
   number per seed), then reports the mean over seeds, a percentile-bootstrap CI of that mean
   (:func:`biocredit.stats.bootstrap_ci`) and the number of seeds. A rule that a study does not run has no records
   there: its cells are NaN, never an error.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr

from biocredit.similarity.matched import values_at_levels
from biocredit.stats import bootstrap_ci

__all__ = [
    "METRICS",
    "Record",
    "study_a_values",
    "study_b_values",
    "run_values",
    "benchmark_seconds",
    "rule_order",
    "score",
    "to_csv",
    "read_csv",
]


@dataclass(frozen=True)
class Metric:
    key: str
    label: str  # axis label of the figure
    study: str  # "A", "B" or "A+B"
    description: str


METRICS: tuple[Metric, ...] = (
    Metric("accuracy_a", "task accuracy, study A", "A",
           "final test accuracy (last checkpoint) of study A's runs, primary architecture, mean over datasets"),
    Metric("procrustes_a", "Procrustes distance\nat matched accuracy (A)", "A",
           "Procrustes distance to the recordings when the run first reaches the matched accuracy level "
           "(fraction `level` of the range untrained → best reached by every rule), mean over datasets"),
    Metric("accuracy_b", "task accuracy, study B", "B",
           "final clean validation accuracy of study B's main-grid runs (end of the fixed budget), mean over tasks"),
    Metric("gap_b", "generalization gap (B)", "B",
           "clean validation − training-set loss of study B's runs at the end of the fixed budget, mean over tasks"),
    Metric("lambda_max_b", "top Hessian eigenvalue (B)", "B",
           "λ_max of the loss Hessian at the last measured checkpoint, mean over tasks"),
    Metric("trace_b", "Hessian trace (B)", "B", "Hessian trace at the last measured checkpoint, mean over tasks"),
    Metric("grad_cosine", "update cosine\nwith true gradient", "A+B",
           "cosine of the rule's update with the exact gradient, mean over the checkpoints where it is measured "
           "(training.grad_cosine_every), mean over the rule's runs"),
    Metric("seconds_per_update", "training cost\n(s per update)", "A+B",
           "wall seconds of the training job (Snakemake benchmark) / number of updates, mean over the rule's runs"),
)
METRIC_KEYS = tuple(m.key for m in METRICS)


@dataclass(frozen=True)
class Record:
    rule: str
    seed: int
    metric: str
    value: float


# ------------------------------------------------------------------------------------------------ accessors
# Every read of a summary goes through one of these: adapt them, not the extractors, when a layout changes.


def a_accuracy(summary: xr.Dataset) -> xr.DataArray:
    """Study A: accuracy per (rule, arch, seed, checkpoint)."""
    return summary["accuracy"]


def a_distance(summary: xr.Dataset) -> str:
    """Study A: the name of the distance variable compared at matched accuracy."""
    return "procrustes"


def b_main_runs(summary: xr.Dataset) -> xr.Dataset:
    """Study B: the main grid's runs (not the remedies' variants), dim ``run`` with coords ``rule`` and ``seed``."""
    return summary.isel(run=np.flatnonzero(summary["main"].values.astype(bool))) if "main" in summary else summary


def b_variable(summary: xr.Dataset, metric: str) -> np.ndarray:
    """Study B: one number per run for a scorecard metric (NaN where the summary lacks it)."""
    names = {
        "accuracy_b": ("final_validation_accuracy",),  # clean held-out accuracy at the end of the budget
        "gap_b": ("gap_loss",),  # the claims' gap: clean validation − training loss at the end
        "lambda_max_b": ("lambda_final",),
        "trace_b": ("trace_final",),
    }[metric]
    for name in names:
        if name in summary:
            values = np.asarray(summary[name].values, dtype=np.float64)
            if name != names[-1] and not np.isfinite(values).any():
                continue
            return values
    return np.full(summary.sizes["run"], np.nan)


def run_n_updates(metrics: xr.Dataset) -> int:
    """A training run's number of updates (its train config, else the length of its per-update log)."""
    cfg = metrics.attrs.get("train_config")
    if cfg:
        return int(json.loads(cfg)["n_updates"])
    return int(metrics.sizes["update"])


def run_grad_cosine(metrics: xr.Dataset, every: int = 1) -> float:
    """A training run's mean over checkpoints of the cosine of its update with the exact gradient (NaN if none).
    ``every=k``: over every k-th checkpoint only, the first included — of a run logged at every checkpoint, what
    the same run logged with ``training.grad_cosine_every: k`` gives (training is the same for every k)."""
    if "grad_cosine" not in metrics:
        return math.nan
    c = np.asarray(metrics["grad_cosine"].values, dtype=np.float64)[::every]
    c = c[np.isfinite(c)]
    return float(c.mean()) if c.size else math.nan


# ----------------------------------------------------------------------------------------------- extractors


def study_a_values(summary: xr.Dataset, arch: str, level: float) -> list[Record]:
    """Records of one study-A dataset summary (dims rule, arch, seed, checkpoint), for architecture ``arch``:
    ``accuracy_a`` (last finite accuracy of each run) and ``procrustes_a`` (the distance when the run first reaches
    fraction ``level`` of the matched accuracy range, :func:`biocredit.similarity.matched.values_at_levels`; NaN
    for a run that never reaches it)."""
    if arch not in summary["arch"].values:
        raise ValueError(f"architecture {arch!r} is not in the study-A summary (it has {list(summary.arch.values)})")
    narrowed = summary.sel(arch=[arch])
    acc = a_accuracy(narrowed).sel(arch=arch)
    value = a_distance(summary)
    at = values_at_levels(narrowed, [level], value=value)[value].sel(arch=arch, level=level)
    out = []
    for rule in acc["rule"].values:
        for seed in acc["seed"].values:
            curve = np.asarray(acc.sel(rule=rule, seed=seed).values, dtype=np.float64)
            ok = np.flatnonzero(np.isfinite(curve))
            if not ok.size:
                continue  # no such run (the stacked summary pads absent runs with NaN)
            out.append(Record(str(rule), int(seed), "accuracy_a", float(curve[ok[-1]])))
            out.append(Record(str(rule), int(seed), "procrustes_a", float(at.sel(rule=rule, seed=seed))))
    return out


def study_b_values(summary: xr.Dataset) -> list[Record]:
    """Records of one study-B task summary (dim ``run``): the main grid's final test accuracy, generalization gap,
    top Hessian eigenvalue and trace, per run (the rule named as in the grid, e.g. ``tbptt-w4``)."""
    main = b_main_runs(summary)
    rules = [str(r) for r in main["rule"].values]
    seeds = [int(s) for s in main["seed"].values]
    out = []
    for metric in ("accuracy_b", "gap_b", "lambda_max_b", "trace_b"):
        values = b_variable(main, metric)
        out += [Record(r, s, metric, float(v)) for r, s, v in zip(rules, seeds, values, strict=True)]
    return out


def run_values(rule: str, seed: int, metrics: xr.Dataset, seconds: float) -> list[Record]:
    """Records of one training run: its mean update cosine with the exact gradient and its wall seconds per update
    (``seconds``: the whole training job, NaN when unknown)."""
    n = run_n_updates(metrics)
    per_update = seconds / n if n > 0 and math.isfinite(seconds) else math.nan
    return [Record(rule, int(seed), "grad_cosine", run_grad_cosine(metrics)),
            Record(rule, int(seed), "seconds_per_update", per_update)]


def benchmark_seconds(text: str) -> float:
    """Wall seconds from a Snakemake benchmark file's text (tab-separated, header row, column ``s``; the mean
    when the job was repeated)."""
    rows = list(csv.DictReader(io.StringIO(text), delimiter="\t"))
    if not rows or "s" not in rows[0]:
        raise ValueError("not a Snakemake benchmark file (no 's' column)")
    return float(np.mean([float(r["s"]) for r in rows]))


# ------------------------------------------------------------------------------------------------- scoring


def rule_order(*rule_lists: Sequence[str]) -> list[str]:
    """The rules of several studies, each once, in order of first appearance."""
    seen: dict[str, None] = {}
    for rules in rule_lists:
        for r in rules:
            seen.setdefault(str(r), None)
    return list(seen)


def score(records: Iterable[Record], rules: Sequence[str], *, level: float = 0.95, n_boot: int = 10000,
          seed: int = 0) -> list[dict]:
    """One row per rule (in the order given): for each metric the mean over seeds of the rule's per-seed value
    (the mean of its finite records for that seed), a percentile-bootstrap ``level`` CI of that mean, and the number
    of seeds. Keys ``{metric}``, ``{metric}_lo``, ``{metric}_hi``, ``{metric}_n``; NaN where a rule has no value
    (and CI bounds NaN with fewer than 2 seeds). Records of rules not in ``rules`` are ignored."""
    per_seed: dict[tuple[str, str], dict[int, list[float]]] = {}
    for rec in records:
        if rec.metric not in METRIC_KEYS:
            raise ValueError(f"unknown scorecard metric {rec.metric!r} (known: {', '.join(METRIC_KEYS)})")
        if math.isfinite(rec.value):
            per_seed.setdefault((rec.rule, rec.metric), {}).setdefault(rec.seed, []).append(rec.value)
    rows = []
    for rule in rules:
        row: dict = {"rule": rule}
        for metric in METRIC_KEYS:
            by_seed = per_seed.get((rule, metric), {})
            x = np.array([np.mean(by_seed[s]) for s in sorted(by_seed)], dtype=np.float64)
            lo, hi = bootstrap_ci(x, n_boot=n_boot, level=level, seed=seed) if x.size else (math.nan, math.nan)
            row[metric] = float(x.mean()) if x.size else math.nan
            row[f"{metric}_lo"], row[f"{metric}_hi"] = lo, hi
            row[f"{metric}_n"] = int(x.size)
        rows.append(row)
    return rows


def columns() -> list[str]:
    return ["rule"] + [f"{m}{s}" for m in METRIC_KEYS for s in ("", "_lo", "_hi", "_n")]


def to_csv(rows: list[dict]) -> str:
    """The scorecard as CSV text: one line per rule, columns :func:`columns` (NaN written as an empty cell)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns(), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if isinstance(v, float) and not math.isfinite(v) else
                         (repr(v) if isinstance(v, float) else v) for k, v in row.items()})
    return buf.getvalue()


def read_csv(text: str) -> list[dict]:
    """Rows of :func:`to_csv` text, numbers parsed back (empty cells as NaN)."""
    rows = []
    for raw in csv.DictReader(io.StringIO(text)):
        row: dict = {"rule": raw["rule"]}
        for k, v in raw.items():
            if k != "rule":
                row[k] = (int(v) if k.endswith("_n") else float(v)) if v != "" else math.nan
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------------- stage
