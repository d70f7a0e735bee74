"""One function per workflow stage: plain arguments in, files out (atomically). Scripts only unpack Snakemake.

Keeping the stages here (not in ``scripts/``) makes each one importable, testable and usable without Snakemake.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
import xarray as xr

from biocredit import __version__
from biocredit.io import open_netcdf, write_json, write_netcdf

log = logging.getLogger(__name__)

__all__ = [
    "configure",
    "run_job",
    "download",
    "preprocess",
    "build_task",
    "train_run",
    "extract_activity",
    "compare_run",
    "baselines",
    "summarize_similarity",
    "figure_a2",
    "collect_claims",
]


#: The console (stderr before :func:`configure` sent it to the job's log): where training progress lines go.
_CONSOLE = None


class ConsoleProgress:
    """A text stream for a tqdm bar that prints one plain line per ``interval`` seconds (and the last one) on the
    console, prefixed with the run's name, and copies each line to the job's log. Parallel jobs' lines interleave
    readably, as whole lines, instead of overwriting each other's ``\r`` updates."""

    def __init__(self, name: str, console, log_stream=None, interval: float = 15.0) -> None:
        self.name, self.console, self.log_stream, self.interval = name, console, log_stream, interval
        self._last_emit = float("-inf")
        self._pending = ""

    def write(self, text: str) -> int:
        import re
        import time

        for part in re.split(r"([\r\n])", text):
            if part == "\n":  # tqdm ends a closed bar with a newline: show where the run ended
                self._emit()
                continue
            status = re.sub(r"\|[^|]*\|", " ", part).strip()  # the bar's blocks: only numbers stay
            if not status:
                continue
            self._pending = status
            if time.monotonic() - self._last_emit >= self.interval:
                self._emit()
        return len(text)

    def _emit(self) -> None:
        import time

        if not self._pending:
            return
        line = f"[{self.name}] {self._pending}\n"
        for stream in (self.console, self.log_stream):
            if stream is not None:
                stream.write(line)
                stream.flush()
        self._pending, self._last_emit = "", time.monotonic()

    def flush(self) -> None:
        pass


def configure(log_path: str | None = None, threads: int | None = None) -> None:
    """Per-job set-up: stderr (logging, warnings) goes to the job's log file, training progress to the console
    (one line per run every few seconds, see :class:`ConsoleProgress`), and torch uses the threads the scheduler
    gave the job."""
    global _CONSOLE
    if _CONSOLE is None:
        _CONSOLE = sys.stderr
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        sys.stderr = open(log_path, "a", buffering=1)  # noqa: SIM115 - lives as long as the job
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s", force=True
    )
    if threads:
        torch.set_num_threads(int(threads))
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))


def _plain(value):
    """Snakemake's named lists (and tuples) as plain lists, mappings as plain dicts; anything else as it is."""
    if isinstance(value, Mapping):
        return dict(value)
    return list(value) if isinstance(value, (list, tuple)) else value


def run_job(
    smk, stage: Callable[..., None], inputs: Sequence[str], outputs: Sequence[str] | None = ("png", "pdf", "claim")
) -> None:
    """Run a figure stage as the Snakemake job ``smk`` (a rule's ``snakemake`` object): :func:`configure` with the
    job's log, then ``stage(*inputs, *outputs, **wildcards, **params)``, with the inputs and outputs named, in that
    order (``outputs=None``: every output in one name → path dict), and the job's wildcards and params as keyword
    arguments of the same names. List and mapping values are passed as plain lists and dicts."""
    configure(smk.log[0])
    args = [_plain(getattr(smk.input, name)) for name in inputs]
    args += [dict(smk.output.items())] if outputs is None else [getattr(smk.output, name) for name in outputs]
    stage(*args, **{k: _plain(v) for k, v in [*smk.wildcards.items(), *smk.params.items()]})


def download(name: str, out: str, mirror_setting: str | None, lock_file: str | None = None) -> None:
    """Fetch a registered remote file from its URL or a mirror folder, verifying its SHA-256 (for the Mante zip,
    whose digest is not published, the first download records it in the lock file and later ones verify it)."""
    from biocredit.data import fetch, fetch_mante, remote_file, resolve_mirror

    mirror = resolve_mirror(mirror_setting)
    if name == "mante2013":
        fetch_mante(out, mirror=mirror, **({"lock_file": lock_file} if lock_file else {}))
        return
    entry = remote_file(name)
    fetch(entry.url, out, entry.sha256, mirror=mirror, mirror_relpath=entry.relpath)


def preprocess(name: str, raw, out: str, lock_file: str | None = None) -> None:
    """Raw file (or a user dataset's files by role) → NetCDF contract."""
    from biocredit.data import preprocess_dataset

    options = {"lock_file": lock_file} if name == "mante2013" and lock_file else {}
    preprocess_dataset(name, raw, out, **options)


def write_dataset_status(status: dict, out: str) -> None:
    """The list of datasets with 'used' or 'skipped' and the reason; skipped ones are also logged."""
    rows = sorted(status.values(), key=lambda r: r["dataset"])
    for r in rows:
        if r["status"] == "skipped":
            log.warning("dataset %s skipped: %s", r["dataset"], r["reason"])
    write_json(rows, out)


def build_task(task_name: str, task_cfg: dict, data: xr.Dataset | None):
    """Instantiate a task from its config entry (keys other than ``dataset`` are constructor options)."""
    from biocredit.tasks import TASKS

    if task_name not in TASKS:
        raise ValueError(f"unknown task {task_name!r}; known tasks: {sorted(TASKS)}")
    options = {k: v for k, v in task_cfg.items() if k != "dataset"}
    if "analysis_intervals" in options:
        options["analysis_intervals"] = tuple(options["analysis_intervals"])
    cls = TASKS[task_name]
    return cls.from_dataset(data, **options) if hasattr(cls, "from_dataset") else cls(**options)


def load_task(task_name: str, task_cfg: dict, data):
    """Build a task from what its rule gets as ``data``: the path of a NetCDF of recordings (study A), the files of
    a folder-backed dataset (MNIST's IDX files; the folder is passed as ``folder``), or nothing (generated tasks)."""
    paths = [data] if isinstance(data, (str, Path)) else [str(p) for p in (data or [])]
    if len(paths) == 1 and str(paths[0]).endswith(".nc"):
        with open_netcdf(paths[0]) as ds:
            return build_task(task_name, task_cfg, ds.load())
    if paths:
        return build_task(task_name, {**task_cfg, "folder": str(Path(paths[0]).parent)}, None)
    return build_task(task_name, task_cfg, None)


def _model_config(task, arch_cfg: dict, seed: int = 0):
    """The model of one run: its arch row, sized for the task; a sparse mask (if any) is drawn per run seed."""
    from biocredit.model import ModelConfig

    return ModelConfig(n_in=task.n_in, n_out=task.n_out, **{"conn_seed": int(seed), **arch_cfg})


def _train_config(train_cfg: dict):
    from biocredit.train import TrainConfig, checkpoint_schedule

    cfg = dict(train_cfg)
    # explicit checkpoints (study B: evenly spaced evaluations) or the authors' study-A schedule
    cfg["checkpoints"] = tuple(cfg["checkpoints"] if "checkpoints" in cfg else checkpoint_schedule(cfg["n_updates"]))
    return TrainConfig(**cfg)


def _data_digest(data) -> list[str]:
    """SHA-256 of each file a run's task is built from (none for generated tasks)."""
    from biocredit.io import sha256_file

    paths = [data] if isinstance(data, (str, Path)) else [str(p) for p in (data or [])]
    return [sha256_file(p) for p in paths if Path(p).is_file()]


def write_run_outputs(result, out_checkpoints: str, out_metrics: str, *, task: str, arch: str, rule: str, seed: int,
                      train_cfg: dict) -> dict:
    """Write one trained run's checkpoints and metrics log, labelled with the run (and, in the log, its training
    settings as JSON). Returns the run's labels."""
    from biocredit.train import save_checkpoints

    meta = {"task": task, "arch": arch, "rule": rule, "seed": int(seed), "biocredit_version": __version__}
    result.metrics.attrs.update({k: str(v) if isinstance(v, str) else v for k, v in meta.items()})
    result.metrics.attrs["train_cfg"] = json.dumps(train_cfg, sort_keys=True)
    save_checkpoints(result, out_checkpoints, extra=meta)
    write_netcdf(result.metrics, out_metrics)
    return meta


def train_run(
    data: str,
    out_checkpoints: str,
    out_metrics: str,
    *,
    task: str,
    task_cfg: dict,
    arch: str,
    arch_cfg: dict,
    rule: str,
    seed: int,
    train_cfg: dict,
    device: str = "auto",
    progress: bool = True,
    resume_every: int = 50,
    rule_options: dict | None = None,
) -> None:
    """Train one (task, arch, rule, seed) run; write its checkpoints and metrics log.

    While it runs, ``resume.pt`` beside the checkpoints holds the latest training state; a restarted job (after
    preemption or a kill) continues from it and ends with exactly the numbers of an uninterrupted run. The file is
    removed once the outputs are written.
    """
    from biocredit.rules import make_rule
    from biocredit.rules import rule_options as accepted_options
    from biocredit.train import train

    t = load_task(task, task_cfg, data)
    options = dict(rule_options or {})
    if "seed" in accepted_options(rule):
        options.setdefault("seed", int(seed))  # random feedback drawn per run, reproducibly
    resume = Path(out_checkpoints).with_name("resume.pt")
    # what a resume state must match besides the objects train() sees: the config entries and the data's bytes
    run_config = {"task": task, "task_cfg": task_cfg, "arch_cfg": arch_cfg, "rule_options": options,
                  "train_cfg": train_cfg, "data_sha256": _data_digest(data)}
    if progress and _CONSOLE is not None and _CONSOLE is not sys.stderr:  # configured: stderr is the job's log
        progress = ConsoleProgress(f"train {task}/{arch}/{rule} seed {seed}", _CONSOLE, sys.stderr)
    result = train(
        t, _model_config(t, arch_cfg, seed), make_rule(rule, **options), _train_config(train_cfg), seed, device,
        progress, resume_path=resume, resume_every=resume_every, run_config=run_config,
    )
    meta = write_run_outputs(result, out_checkpoints, out_metrics, task=task, arch=arch, rule=rule, seed=seed,
                             train_cfg=train_cfg)
    resume.unlink(missing_ok=True)
    acc = result.metrics.test_accuracy.values
    last = acc[np.isfinite(acc)]  # a run stopped by its criterion (or diverged) logs NaN after its last checkpoint
    log.info("trained %s; test accuracy at its last checkpoint %.4f (stopped at update %s)", meta,
             float(last[-1]) if last.size else float("nan"), result.metrics.attrs.get("stopped_at"))


def extract_activity(data: str, checkpoints: str, out: str, *, task: str, task_cfg: dict, meta: dict) -> None:
    """Hidden activity of every checkpoint on the analysis trials (NetCDF)."""
    from biocredit.activity import checkpoint_activity
    from biocredit.train import load_checkpoints

    with open_netcdf(data) as ds:
        t = build_task(task, task_cfg, ds.load())
    config, steps, states = load_checkpoints(checkpoints)
    attrs = {k: v for k, v in meta.items()} | {"biocredit_version": __version__}
    write_netcdf(checkpoint_activity(t, config, steps, states, attrs=attrs), out)


def compare_run(activity: str, data: str, out: str) -> None:
    """Procrustes distance of each checkpoint's activity to the recordings."""
    from biocredit.similarity import checkpoint_distances

    with open_netcdf(activity) as act, open_netcdf(data) as rec:
        write_netcdf(checkpoint_distances(act.load(), rec.load()), out)


def normalized_run(activity: str, distances: str, data: str, out: str, n_iter: int = 100) -> None:
    """Normalised-with-data distance ((d_model − d_split)/(1 − d_split)) at the run's best checkpoint (the one
    closest to the recordings), with the cross-condition baseline normalised the same way."""
    from biocredit.similarity import normalized_with_data

    with open_netcdf(activity) as act, open_netcdf(distances) as dist, open_netcdf(data) as rec:
        d = dist["procrustes"]
        finite = d.where(np.isfinite(d), drop=True)
        if finite.size == 0:
            raise ValueError(f"{distances}: no checkpoint has a finite distance; cannot pick a best checkpoint")
        best = int(finite.idxmin("checkpoint"))
        model = act["rate"].sel(checkpoint=best).transpose("unit", "time", "condition").values
        target = rec["rate"].sel(time=act.time).transpose("unit", "time", "condition").values
        seed = int(act.attrs.get("seed", 0))
        res = normalized_with_data(model, target, n_iter=n_iter, seed=seed)
        out_ds = xr.Dataset(
            {
                "normalized": ("iteration", np.asarray(res["values"])),
                "baseline": ("iteration", np.asarray(res["baseline_values"])),
                "split_half": ("iteration", np.asarray(res["split_half"])),
                "best_checkpoint": ((), best),
                "best_distance": ((), float(d.sel(checkpoint=best))),
                "best_accuracy": ((), float(dist["accuracy"].sel(checkpoint=best))),
            },
            attrs=dict(act.attrs),
        )
    write_netcdf(out_ds, out)


def baselines(data: str, out: str, n_split_half: int, seed: int = 0) -> None:
    from biocredit.similarity import data_baselines

    with open_netcdf(data) as rec:
        write_netcdf(data_baselines(rec.load(), n_split_half, seed), out)


def summarize_similarity(runs: list[str], metrics: list[str], out: str) -> None:
    """Stack per-run distance files into one (rule, arch, seed, checkpoint) summary, with each run's
    ``diverged_at`` (update of a non-finite loss, −1 if none) from its training metrics."""
    from biocredit.similarity.matched import stack_runs

    datasets = []
    for p, m in zip(runs, metrics, strict=True):
        with open_netcdf(p) as ds, open_netcdf(m) as met:
            run = ds.load()
            run["diverged_at"] = ((), int(met.attrs.get("diverged_at", -1)))
            datasets.append(run)
    write_netcdf(stack_runs(datasets), out)


def _load(path: str, arch: str | None = None) -> xr.Dataset:
    """A NetCDF file read into memory (and closed); with ``arch``, narrowed to that architecture (kept as a
    length-1 ``arch`` dimension)."""
    with open_netcdf(path) as ds:
        loaded = ds.load()
    return loaded if arch is None else loaded.sel(arch=[arch])


def _labels(*rules: str) -> list[str]:
    """The display names of rules (the rule's own name where it has none)."""
    from biocredit.figures.style import RULE_LABELS

    return [RULE_LABELS.get(r, r) for r in rules]


def _matched_difference(summary_ds: xr.Dataset, rules: list[str], arch: str, n_grid: int, margin: float,
                        value: str = "procrustes") -> tuple[xr.Dataset, dict, bool]:
    """Study A's matched-accuracy comparison: the curves of ``value`` on the matched grid, the difference
    ``rules[1] − rules[0]`` over them, and whether it is equivalent to zero (95% CI within ±margin)."""
    from biocredit.claims import equivalence_holds
    from biocredit.similarity.matched import matched_curves, rule_difference

    matched = matched_curves(summary_ds, n_grid=n_grid, value=value)
    diff = rule_difference(matched, rules[1], rules[0], arch, value=value)
    return matched, diff, equivalence_holds(diff["ci"], margin)


def _write_claim(out_claim: str, figure: str, dataset: str, **fields) -> None:
    """Write study A's claim row ``{figure}-{dataset}``: the identifying fields, then ``fields`` in the order given."""
    from biocredit.claims import claim_row

    write_json(claim_row(id=f"{figure}-{dataset}", figure=figure, study="A", dataset=dataset, **fields), out_claim)


def figure_a2(
    summary: str,
    baselines_path: str,
    out_png: str,
    out_pdf: str,
    out_claim: str,
    *,
    dataset: str,
    arch: str,
    rules: list[str],
    n_grid: int,
    margin: float,
    preset: str,
) -> None:
    """Figure A2 for one dataset, and its claim: e-prop's distance matches BPTT's at matched accuracy."""
    from biocredit.figures.similarity import distance_vs_accuracy
    from biocredit.figures.style import save

    summary_ds, base = _load(summary, arch), _load(baselines_path)
    matched, diff, holds = _matched_difference(summary_ds, rules, arch, n_grid, margin)
    n_diverged = int((summary_ds["diverged_at"] >= 0).sum()) if "diverged_at" in summary_ds else 0
    title = f"{dataset}: {arch}" + (f" ({n_diverged} run(s) diverged)" if n_diverged else "")
    save(distance_vs_accuracy(summary_ds, matched, base, arch=arch, title=title), out_png, out_pdf)
    label_a, label_b = _labels(rules[1], rules[0])
    _write_claim(
        out_claim,
        "A2",
        dataset,
        claim=f"{label_a} reaches {label_b}-like Procrustes similarity to {dataset} when matched for task accuracy",
        statistic=f"mean over matched accuracy levels of the distance difference {label_a} - {label_b} "
        f"(equivalence: 95% bootstrap CI within ±{margin})",
        value=diff["mean_diff"],
        ci=list(diff["ci"]),
        p=diff["p"],
        accuracy_range=diff["accuracy_range"],
        margin=margin,
        n=int(diff["n_a"] + diff["n_b"]),
        n_diverged=n_diverged,
        preset=preset,
        holds=holds,
    )


def figure_a1(
    data: str, checkpoints: dict[str, str], out_png: str, out_pdf: str, *, task: str, task_cfg: dict
) -> None:
    """Figure A1 for one task: inputs, targets and the final outputs of one trained network per rule."""
    from biocredit.figures.style import save
    from biocredit.figures.tasks import task_overview
    from biocredit.model import RateRNN
    from biocredit.train import load_checkpoints

    recordings = _load(data)
    t = build_task(task, task_cfg, recordings)
    batch = t.analysis_batch()
    outputs = {}
    for rule, path in checkpoints.items():
        config, _, states = load_checkpoints(path)
        model = RateRNN(config)
        model.load_state_dict(states[-1])
        with torch.no_grad():
            outputs[rule] = model(batch.x)[0].numpy()
    fig = task_overview(
        batch.x.numpy(), batch.y.numpy(), batch.mask.numpy(), outputs, recordings, t.dt_ms,
        title=f"{task} task and {recordings.attrs.get('dataset', '')} recordings",
        input_labels=getattr(t, "input_labels", None), output_labels=getattr(t, "output_labels", None),
    )
    save(fig, out_png, out_pdf)


def figure_a3(
    summary: str,
    out_png: str,
    out_pdf: str,
    out_claim: str,
    *,
    dataset: str,
    arch: str,
    rules: list[str],
    fractions: list[float],
    margin: float,
    preset: str,
) -> None:
    """Figure A3 for one dataset: distances at matched accuracy levels, and the claim that the rules do not differ
    meaningfully there (at every level the 95% CI of the difference lies within ±margin)."""
    from biocredit.claims import equivalence_holds
    from biocredit.figures.similarity import distance_at_levels
    from biocredit.figures.style import save
    from biocredit.similarity.matched import values_at_levels
    from biocredit.stats import difference_of_means

    at = values_at_levels(_load(summary, arch), fractions)
    ref, other = rules[0], rules[1]
    tests = []
    for f in fractions:
        v = at["procrustes"].sel(arch=arch, level=f)
        t = difference_of_means(v.sel(rule=other).values, v.sel(rule=ref).values)
        tests.append({"level": f, "accuracy": float(at.accuracy.sel(level=f)), **t, "ci": list(t["ci"]),
                      "equivalent": equivalence_holds(t["ci"], margin)})
    label_a, label_b = _labels(other, ref)
    save(distance_at_levels(at, tests, arch, f"{dataset}: distance at matched accuracy"), out_png, out_pdf)
    worst = max(tests, key=lambda t: abs(t["mean_diff"]) if np.isfinite(t["mean_diff"]) else -1)
    _write_claim(
        out_claim,
        "A3",
        dataset,
        claim=f"No meaningful difference between {label_a} and {label_b} in distance to {dataset} at matched accuracy",
        statistic=f"difference of means {label_a} - {label_b} at each level (fractions {fractions} of the matched "
        f"accuracy range, untrained to best reached by every rule); holds when every level's 95% CI lies within "
        f"±{margin}",
        value=worst["mean_diff"],
        ci=worst["ci"],
        p=worst["p"],
        levels=tests,
        margin=margin,
        n=int(np.isfinite(at["procrustes"].sel(arch=arch)).any("level").sum()),
        preset=preset,
        holds=all(t["equivalent"] for t in tests),
    )


def figure_a6(
    summary: str,
    out_png: str,
    out_pdf: str,
    out_claim: str,
    *,
    dataset: str,
    arch: str,
    rules: list[str],
    n_grid: int,
    margin: float,
    preset: str,
) -> None:
    """Figure A6: A2 with CKA and CCA distances; the claim is that the A2 verdict does not depend on the metric."""
    import matplotlib.pyplot as plt

    from biocredit.figures.similarity import distance_vs_accuracy
    from biocredit.figures.style import save, setup

    summary_ds = _load(summary, arch)
    setup()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    labels = {
        "procrustes": "Procrustes distance (0 = identical)",
        "cka": "CKA distance, 1 − CKA",
        "cca": "CCA distance, 1 − mean canonical corr.",
    }
    verdicts = {}
    for ax, metric in zip(axes, labels, strict=True):
        matched, diff, equivalent = _matched_difference(summary_ds, rules, arch, n_grid, margin, value=metric)
        distance_vs_accuracy(summary_ds, matched, None, arch=arch, title=metric.upper() if metric != "procrustes"
                             else "Procrustes", value=metric, ylabel=labels[metric], ax=ax)
        verdicts[metric] = {"mean_diff": diff["mean_diff"], "ci": list(diff["ci"]), "p": diff["p"],
                            "equivalent": equivalent}
    fig.suptitle(f"{dataset}: the comparison under three metrics")
    fig.tight_layout()
    save(fig, out_png, out_pdf)
    agree = all(v["equivalent"] == verdicts["procrustes"]["equivalent"] for v in verdicts.values())
    label_a, label_b = _labels(rules[1], rules[0])
    _write_claim(
        out_claim,
        "A6",
        dataset,
        claim=f"The {label_a}-vs-{label_b} conclusion on {dataset} does not hinge on the metric (Procrustes, CKA, CCA)",
        statistic=f"A2's equivalence verdict (95% CI of the matched-accuracy difference within ±{margin}) under each "
        "metric; holds when CKA and CCA reach the same verdict as Procrustes",
        value=float(sum(v["equivalent"] for v in verdicts.values())),
        metrics=verdicts,
        n=int(summary_ds.sizes["seed"] * len(rules)),
        preset=preset,
        holds=agree,
    )


def figure_a7(
    runs: list[str], out_png: str, out_pdf: str, out_claim: str, *, dataset: str, arch: str, rules: list[str],
    preset: str,
) -> None:
    """Figure A7: each rule's normalised-with-data distance at its runs' best checkpoints, beside the normalised
    cross-condition baseline. Claim: every rule's models beat that baseline (mean below it)."""
    from biocredit.figures.similarity import normalized_bars
    from biocredit.figures.style import save
    from biocredit.similarity.matched import stack_runs

    summary = stack_runs([_load(p) for p in runs]).sel(arch=arch)
    save(normalized_bars(summary, title=f"{dataset}: best checkpoint vs the data's noise ceiling"), out_png, out_pdf)
    per_run = summary["normalized"].mean("iteration")
    baseline = float(summary["baseline"].mean())
    means = {r: float(per_run.sel(rule=r).mean()) for r in rules}
    _write_claim(
        out_claim,
        "A7",
        dataset,
        claim=f"At their best checkpoints, models of every rule are closer to {dataset} than the cross-condition "
        "average, relative to the data's own split-half distance",
        statistic="largest over rules of the mean normalised-with-data distance (d_model - d_split)/(1 - d_split) at "
        "each run's best checkpoint (random unit splits), against the normalised cross-condition baseline",
        value=max(means.values()),
        per_rule=means,
        baseline=baseline,
        best_accuracy={r: float(summary["best_accuracy"].sel(rule=r).mean()) for r in rules},
        n=int(np.isfinite(per_run).sum()),
        preset=preset,
        holds=all(m < baseline for m in means.values()),
    )


def _checkpoint_at_level(acc: np.ndarray, steps: np.ndarray, level: float) -> int | None:
    """The first checkpoint whose accuracy reaches ``level`` (None if the run never does)."""
    hit = np.flatnonzero(np.nan_to_num(acc, nan=-np.inf) >= level)
    return int(steps[hit[0]]) if hit.size else None


def figure_a5(
    summary: str,
    activities: list[str],
    checkpoints: list[str],
    out_png: str,
    out_pdf: str,
    out_claim: str,
    *,
    dataset: str,
    arch: str,
    rules: list[str],
    level: float,
    n_grid: int,
    margin: float,
    rank: int,
    preset: str,
    dsa: dict | None = None,
) -> None:
    """Figure A5: dynamics at matched accuracy. Participation-ratio dimensionality against accuracy, recurrent
    eigenvalues and two dynamics distances between networks — DSA (Ostrow et al. 2023, ``dsa-metric``; settings
    ``dsa``: n_delays, rank, iters, lr) and the cheaper eigenvalue-matching distance of rank-``rank`` linear fits —
    each taken at the first checkpoint where a run reaches the matched level. Claim (on DSA): networks of
    different rules are no further apart in their dynamics than networks of the same rule (excess of the
    between-rule over the within-rule distance within ±margin); the spectral distance's test is reported beside
    it."""
    import itertools

    from biocredit.claims import equivalence_holds
    from biocredit.dynamics import dsa_distance, dynamics_similarity, recurrent_spectrum
    from biocredit.figures.dynamics import dynamics_at_matched_accuracy
    from biocredit.figures.style import save
    from biocredit.model import RateRNN
    from biocredit.similarity.matched import matched_curves, matched_grid
    from biocredit.stats import difference_of_means
    from biocredit.train import load_checkpoints

    summary_ds = _load(summary, arch)
    grid = matched_grid(summary_ds, n_grid=2)
    target = float(grid[0] + level * (grid[-1] - grid[0])) if grid.size else float("nan")
    picked = {}  # (rule, seed) -> (activity at the level, W_rec eigenvalues)
    for act_path, ckpt_path in zip(activities, checkpoints, strict=True):
        with open_netcdf(act_path) as act:
            rule, seed = str(act.attrs["rule"]), int(act.attrs["seed"])
            step = _checkpoint_at_level(act["accuracy"].values, act.checkpoint.values, target)
            if step is None:
                continue
            rate = act["rate"].sel(checkpoint=step).transpose("unit", "time", "condition").values
        config, steps, states = load_checkpoints(ckpt_path)
        model = RateRNN(config)
        model.load_state_dict(states[steps.index(step)])
        w_rec = model.effective_w_rec().detach().double().numpy()  # what the recurrence uses (Dale, masks)
        picked[(rule, seed)] = (rate, recurrent_spectrum(w_rec))
    dsa = dict(dsa or {})
    pairs = {"within": [], "between": []}  # DSA
    spectral = {"within": [], "between": []}
    pair_rows = []
    for (ka, (ra, _)), (kb, (rb, _)) in itertools.combinations(picked.items(), 2):
        kind = "within" if ka[0] == kb[0] else "between"
        d = dsa_distance(ra, rb, **dsa)
        d_spec = dynamics_similarity(ra, rb, rank=rank)
        pairs[kind].append(d)
        spectral[kind].append(d_spec)
        pair_rows.append({"a": f"{ka[0]}/{ka[1]}", "b": f"{kb[0]}/{kb[1]}", "kind": kind, "distance": d,
                          "spectral_distance": d_spec})
    test = difference_of_means(np.array(pairs["between"]), np.array(pairs["within"]))
    test_spec = difference_of_means(np.array(spectral["between"]), np.array(spectral["within"]))
    pr = matched_curves(summary_ds, n_grid=n_grid, value="participation_ratio")
    fig = dynamics_at_matched_accuracy(summary_ds, pr, {k: v[1] for k, v in picked.items()}, pair_rows, arch,
                                       target, f"{dataset}: dynamics at matched accuracy")
    save(fig, out_png, out_pdf)
    labels = " and ".join(_labels(*rules))
    _write_claim(
        out_claim,
        "A5",
        dataset,
        claim=f"{labels} networks have similar dynamics at comparable accuracy ({dataset})",
        statistic=f"mean between-rule minus mean within-rule DSA distance (Ostrow et al. 2023, angular; "
        f"{', '.join(f'{k}={v}' for k, v in sorted(dsa.items()))}) at the first checkpoint reaching accuracy "
        f"{target:.3f} ({level:g} of the matched range); holds when the 95% CI lies within ±{margin}",
        value=test["mean_diff"],
        ci=list(test["ci"]),
        p=test["p"],
        n_pairs={k: len(v) for k, v in pairs.items()},
        spectral={"statistic": f"the same for the eigenvalue-matching distance of rank-{rank} linear fits",
                  "value": test_spec["mean_diff"], "ci": list(test_spec["ci"]), "p": test_spec["p"],
                  "holds": equivalence_holds(test_spec["ci"], margin)},
        level_accuracy=target,
        n=len(picked),
        preset=preset,
        holds=equivalence_holds(test["ci"], margin),
    )


def figure_a4(
    summary: str,
    out_png: str,
    out_pdf: str,
    out_claim: str,
    *,
    dataset: str,
    archs: dict[str, dict],
    rules: list[str],
    level: float,
    preset: str,
) -> None:
    """Figure A4: distance at a matched accuracy level across initial gains and architectures, for each rule, and
    the share of its variance explained by rule, initialisation (gain) and architecture (everything else in the
    arch row). Claim: initialisation and architecture each explain more variance than the rule (factors that do
    not vary in the grid are left out of the comparison)."""
    import pandas as pd

    from biocredit.figures.similarity import distance_across_archs
    from biocredit.figures.style import save
    from biocredit.similarity.matched import values_at_levels
    from biocredit.variance import variance_shares

    at = values_at_levels(_load(summary), [level]).isel(level=0)
    df = at["procrustes"].to_dataframe().reset_index().dropna(subset=["procrustes"])
    df["init"] = df["arch"].map(lambda a: f"g0={archs[a].get('gain', 1.0):g}")
    df["architecture"] = df["arch"].map(
        lambda a: ", ".join(f"{k}={v}" for k, v in sorted(archs[a].items()) if k != "gain")
    )
    varying = [f for f in ("rule", "init", "architecture") if df[f].nunique() > 1]
    shares = variance_shares(df, factors=varying, value="procrustes") if len(df) > 2 and varying else {}
    unreached = unreached_cells(at["procrustes"])
    fig = distance_across_archs(df, shares, float(at.accuracy), f"{dataset}: initialisation and architecture",
                                note=_unreached_note(unreached))
    save(fig, out_png, out_pdf)
    others = [shares[f] for f in ("init", "architecture") if f in shares]
    rule_share = shares.get("rule", 0.0)
    _write_claim(
        out_claim,
        "A4",
        dataset,
        claim=f"Initial conditions and architecture matter more than the learning rule for similarity to {dataset}",
        statistic=f"share of variance (main-effects ANOVA, Shapley over factor orders) of the distance at the "
        f"first checkpoint reaching accuracy {float(at.accuracy):.3f} ({level:g} of the matched range); holds when "
        "every varying non-rule factor's share exceeds the rule's",
        value=rule_share,
        shares=shares,
        n=len(df),
        unreached=unreached,
        note=_unreached_note(unreached),
        preset=preset,
        holds=bool(others) and all(o > rule_share for o in others),
    )
    _ = pd  # the table above is a pandas DataFrame


def unreached_cells(at_level: xr.DataArray) -> dict[str, dict[str, str]]:
    """The (arch, rule) cells of a dims (rule, arch, seed) array of values at one matched level where not every
    seed reached the level (NaN), as ``{arch: {rule: "k of n seeds"}}``; empty when every run reached it."""
    out: dict[str, dict[str, str]] = {}
    for arch in at_level.arch.values:
        for rule in at_level.rule.values:
            cell = at_level.sel(arch=arch, rule=rule).values
            k, n = int(np.isfinite(cell).sum()), int(cell.size)
            if k < n:
                out.setdefault(str(arch), {})[str(rule)] = f"{k} of {n} seeds"
    return out


def _unreached_note(unreached: dict[str, dict[str, str]]) -> str:
    if not unreached:
        return ""
    cells = "; ".join(f"{arch}: " + ", ".join(f"{rule} {kn}" for rule, kn in rules.items())
                      for arch, rules in unreached.items())
    return f"level not reached by every seed in: {cells}"


def collect_claims(paths: list[str], out: str) -> None:
    from biocredit.claims import collect_claims as _collect

    write_json(_collect(paths), out)

