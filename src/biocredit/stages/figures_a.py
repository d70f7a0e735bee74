"""Stages of ``rules/figures_a.smk``: study A's figures A1–A7. Each function reads its summaries and, for A2–A7,
the claim row the claim job wrote (``stages/claims_a.py``), draws them with :mod:`biocredit.figures` and writes the
figure (PNG, PDF). No figure job runs a network or tests a claim: the measurements are summaries (A1's outputs and
A5's dynamics: ``stages/networks.py``), and the curves drawn are the summary's runs on the claim's accuracy grid
(:mod:`biocredit.claims.study_a` names that grid once for both)."""

from __future__ import annotations

from biocredit.claims import study_a
from biocredit.dynamics import pair_rows
from biocredit.figures.dynamics import dynamics_at_matched_accuracy
from biocredit.figures.similarity import (
    distance_across_archs,
    distance_at_levels,
    distance_vs_accuracy,
    distance_vs_accuracy_by_metric,
    normalized_bars,
)
from biocredit.figures.style import save
from biocredit.figures.tasks import task_overview
from biocredit.figures.verdict import add_verdict_panel, items_of_row
from biocredit.similarity.matched import levels_of_runs, matched_runs, n_diverged, stack_runs
from biocredit.stages.job import load_json, load_netcdf

__all__ = ["figure_a1", "figure_a2", "figure_a3", "figure_a4", "figure_a5", "figure_a6", "figure_a7"]


def figure_a1(data: str, outputs: str, out_png: str, out_pdf: str, *, task: str) -> None:
    """Figure A1 for one task: inputs, targets and the final outputs of one trained network per rule (the
    ``network_outputs`` summary), beside the recordings."""
    recordings, net = load_netcdf(data), load_netcdf(outputs)
    labels = {dim: [str(x) for x in net[f"{dim}_label"].values] if f"{dim}_label" in net.coords else None
              for dim in ("input", "output")}
    fig = task_overview(
        net["x"].values, net["y"].values, net["mask"].values,
        {str(r): net["output"].sel(rule=r).values for r in net.rule.values}, recordings, net.attrs["dt_ms"],
        title=f"{task} task and {recordings.attrs.get('dataset', '')} recordings",
        input_labels=labels["input"], output_labels=labels["output"],
    )
    save(fig, out_png, out_pdf)


def _panel_items(row: dict, extra: list[dict]) -> list:
    return items_of_row(row, "main") + [i for r in extra for i in items_of_row(r, "equal lr")]


def figure_a2(summary: str, baselines_path: str, claim: str, sensitivity: str, out_png: str, out_pdf: str, *,
              dataset: str, arch: str, rules: list[str], n_grid: int) -> None:
    """Figure A2 for one dataset: distance against accuracy, the data's baselines beside it, and the claim's
    estimate (and its sensitivity rows') against the margin."""
    summary_ds, base = load_netcdf(summary, arch), load_netcdf(baselines_path)
    row, extra = load_json(claim), load_json(sensitivity)
    n_div = n_diverged(summary_ds)
    title = f"{dataset}: {arch}" + (f" ({n_div} run(s) diverged)" if n_div else "")
    fig = distance_vs_accuracy(summary_ds.sel(rule=rules), matched_runs(summary_ds, rules, n_grid), base,
                               arch=arch, title=title)
    add_verdict_panel(fig, _panel_items(row, extra), xlabel="distance difference [CI]")
    save(fig, out_png, out_pdf)


def figure_a3(summary: str, claim: str, sensitivity: str, out_png: str, out_pdf: str, *, dataset: str, arch: str,
              rules: list[str], fractions: list[float], margin: float) -> None:
    """Figure A3 for one dataset: distances at matched accuracy levels with each level's estimate (the claim row's
    ``levels``) against the margin."""
    summary_ds = load_netcdf(summary, arch)
    row, extra = load_json(claim), load_json(sensitivity)
    at = levels_of_runs(summary_ds, rules, fractions)
    fig = distance_at_levels(at, row["levels"], arch, f"{dataset}: distance at matched accuracy", margin=margin)
    add_verdict_panel(fig, _panel_items(row, extra), xlabel="distance difference [CI]")
    save(fig, out_png, out_pdf)


def figure_a4(summary: str, claim: str, out_png: str, out_pdf: str, *, dataset: str, archs: dict[str, dict],
              rules: list[str], level: float) -> None:
    """Figure A4: distance at a matched accuracy level across initial gains and architectures, for each rule, with
    the claim row's shares of variance explained by rule, initialisation and architecture."""
    row = load_json(claim)
    at, df = study_a.a4_table(load_netcdf(summary), archs=archs, level=level, rules=rules)
    fig = distance_across_archs(df, row["shares"], float(at.accuracy), f"{dataset}: initialisation and architecture",
                                note=row["note"])
    save(fig, out_png, out_pdf)


def figure_a5(summary: str, dynamics: str, participation: str, claim: str, out_png: str, out_pdf: str, *,
              dataset: str, arch: str, rules: list[str]) -> None:
    """Figure A5: dynamics at matched accuracy. Participation-ratio dimensionality against accuracy, and from the
    ``dynamics`` summary (rule ``network_dynamics``) the recurrent eigenvalues and the two dynamics distances
    between networks (DSA and eigenvalue matching of linear fits) at the first checkpoint where each run reaches the
    matched level, with the claim's DSA estimate against its margin; the participation-ratio curves on the matched
    grid come from the ``participation`` summary (rule ``matched_participation``)."""
    summary_ds = load_netcdf(summary, arch).sel(rule=rules)
    pairs, row = load_netcdf(dynamics), load_json(claim)
    spectra = {(str(r), int(s)): re + 1j * im for r, s, re, im in zip(
        pairs["rule"].values, pairs["seed"].values, pairs["eig_real"].values, pairs["eig_imag"].values, strict=True)}
    pr = load_netcdf(participation)  # the matched curves (rule matched_participation)
    fig = dynamics_at_matched_accuracy(summary_ds, pr, spectra, pair_rows(pairs), arch,
                                       pairs.attrs["level_accuracy"], f"{dataset}: dynamics at matched accuracy")
    add_verdict_panel(fig, items_of_row(row, "DSA between − within"), xlabel="distance excess, rad [CI]")
    save(fig, out_png, out_pdf)


def figure_a6(summary: str, claim: str, out_png: str, out_pdf: str, *, dataset: str, arch: str, rules: list[str],
              n_grid: int) -> None:
    """Figure A6: A2 under Procrustes, CKA and CCA distances, with each metric's estimate against its margin."""
    summary_ds = load_netcdf(summary, arch).sel(rule=rules)
    curves = {m: matched_runs(summary_ds, rules, n_grid, value=m) for m in study_a.A6_METRICS}
    fig = distance_vs_accuracy_by_metric(summary_ds, curves, study_a.A6_METRICS, arch,
                                         f"{dataset}: the comparison under three metrics")
    add_verdict_panel(fig, items_of_row(load_json(claim)), xlabel="distance difference [CI]")
    save(fig, out_png, out_pdf)


def figure_a7(runs: list[str], claim: str, out_png: str, out_pdf: str, *, dataset: str, arch: str,
              rules: list[str]) -> None:
    """Figure A7: each rule's normalised-with-data distance at its runs' best checkpoints, beside the normalised
    cross-condition baseline, with the claim's estimates."""
    summary = stack_runs([load_netcdf(p) for p in runs]).sel(arch=arch).sel(rule=rules)
    fig = normalized_bars(summary, title=f"{dataset}: best checkpoint vs the data's noise ceiling")
    add_verdict_panel(fig, items_of_row(load_json(claim)), xlabel="baseline − normalised distance [CI]")
    save(fig, out_png, out_pdf)
