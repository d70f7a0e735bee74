"""Stages of ``rules/figures_a.smk``: study A's figures A1–A7, each with its claim row (A2–A7). Each function reads
its summaries, asks :mod:`biocredit.claims.study_a` for the row and the numbers to show, draws them with
:mod:`biocredit.figures` and writes the figure (PNG, PDF) and the row (JSON)."""

from __future__ import annotations

from biocredit.claims import study_a
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
from biocredit.io import write_json
from biocredit.similarity.matched import stack_runs
from biocredit.stages._job import load_netcdf as _load

__all__ = ["figure_a1", "figure_a2", "figure_a3", "figure_a4", "figure_a5", "figure_a6", "figure_a7"]


def figure_a1(data: str, outputs: str, out_png: str, out_pdf: str, *, task: str) -> None:
    """Figure A1 for one task: inputs, targets and the final outputs of one trained network per rule (the
    ``network_outputs`` summary), beside the recordings."""
    recordings, net = _load(data), _load(outputs)
    labels = {dim: [str(x) for x in net[f"{dim}_label"].values] if f"{dim}_label" in net.coords else None
              for dim in ("input", "output")}
    fig = task_overview(
        net["x"].values, net["y"].values, net["mask"].values,
        {str(r): net["output"].sel(rule=r).values for r in net.rule.values}, recordings, net.attrs["dt_ms"],
        title=f"{task} task and {recordings.attrs.get('dataset', '')} recordings",
        input_labels=labels["input"], output_labels=labels["output"],
    )
    save(fig, out_png, out_pdf)


def _sensitivity_rules(rules: list[str], sensitivity: dict[str, str] | None) -> list[str]:
    """The compared rules with each rule that has an equal-learning-rate run replaced by that run's name."""
    return [(sensitivity or {}).get(r, r) for r in rules]


def _sensitivity_note(rules: list[str], sensitivity: dict[str, str]) -> str:
    runs = ", ".join(f"{r} as {name}" for r, name in sensitivity.items() if r in rules)
    return (f"sensitivity row: every rule at the study's learning rate ({runs}) instead of the pairing of "
            "similarity.rule_training")


def figure_a2(summary: str, baselines_path: str, out_png: str, out_pdf: str, out_claim: str,
              out_sensitivity: str | None = None, *, dataset: str, arch: str, rules: list[str], n_grid: int,
              margin: float, preset: str, verdicts: dict | None = None, sensitivity: dict[str, str] | None = None
              ) -> None:
    """Figure A2 for one dataset (distance against accuracy, the data's baselines beside it, the estimate against
    its margin), its claim row (e-prop's distance matches BPTT's at matched accuracy) and, with ``sensitivity``
    (rule → equal-learning-rate run name), the sensitivity rows (a list, written to ``out_sensitivity``)."""
    summary_ds, base = _load(summary, arch), _load(baselines_path)
    row, matched = study_a.claim_a2(summary_ds, dataset=dataset, arch=arch, rules=rules, n_grid=n_grid,
                                    margin=margin, preset=preset, verdicts=verdicts)
    extra = []
    if sensitivity:
        extra.append(study_a.claim_a2(summary_ds, dataset=dataset, arch=arch,
                                      rules=_sensitivity_rules(rules, sensitivity), n_grid=n_grid, margin=margin,
                                      preset=preset, verdicts=verdicts, id_suffix="-equal-lr",
                                      note=_sensitivity_note(rules, sensitivity))[0])
    n_div = study_a.n_diverged(summary_ds)
    title = f"{dataset}: {arch}" + (f" ({n_div} run(s) diverged)" if n_div else "")
    fig = distance_vs_accuracy(summary_ds.sel(rule=rules), matched, base, arch=arch, title=title)
    add_verdict_panel(fig, items_of_row(row, "main") + [i for r in extra for i in items_of_row(r, "equal lr")],
                      xlabel="distance difference [CI]")
    save(fig, out_png, out_pdf)
    write_json(row, out_claim)
    if out_sensitivity is not None:
        write_json(extra, out_sensitivity)


def figure_a3(summary: str, out_png: str, out_pdf: str, out_claim: str, out_sensitivity: str | None = None, *,
              dataset: str, arch: str, rules: list[str], fractions: list[float], margin: float, preset: str,
              verdicts: dict | None = None, sensitivity: dict[str, str] | None = None) -> None:
    """Figure A3 for one dataset: distances at matched accuracy levels with each level's estimate against the
    margin, the claim row that the rules do not differ meaningfully there and, with ``sensitivity``, its
    equal-learning-rate row (a list, written to ``out_sensitivity``)."""
    summary_ds = _load(summary, arch)
    row, at, tests = study_a.claim_a3(summary_ds, dataset=dataset, arch=arch, rules=rules, fractions=fractions,
                                      margin=margin, preset=preset, verdicts=verdicts)
    extra = []
    if sensitivity:
        extra.append(study_a.claim_a3(summary_ds, dataset=dataset, arch=arch,
                                      rules=_sensitivity_rules(rules, sensitivity), fractions=fractions,
                                      margin=margin, preset=preset, verdicts=verdicts, id_suffix="-equal-lr",
                                      note=_sensitivity_note(rules, sensitivity))[0])
    fig = distance_at_levels(at, tests, arch, f"{dataset}: distance at matched accuracy", margin=margin)
    add_verdict_panel(fig, items_of_row(row, "main") + [i for r in extra for i in items_of_row(r, "equal lr")],
                      xlabel="distance difference [CI]")
    save(fig, out_png, out_pdf)
    write_json(row, out_claim)
    if out_sensitivity is not None:
        write_json(extra, out_sensitivity)


def figure_a4(summary: str, out_png: str, out_pdf: str, out_claim: str, *, dataset: str, archs: dict[str, dict],
              rules: list[str], level: float, preset: str) -> None:
    """Figure A4: distance at a matched accuracy level across initial gains and architectures, for each rule, with
    the share of its variance explained by rule, initialisation and architecture, and its claim row (the rules of
    the grid: sensitivity runs of the summary are left out)."""
    row, df, shares, accuracy = study_a.claim_a4(_load(summary), dataset=dataset, archs=archs, level=level,
                                                 preset=preset, rules=rules)
    fig = distance_across_archs(df, shares, accuracy, f"{dataset}: initialisation and architecture", note=row["note"])
    save(fig, out_png, out_pdf)
    write_json(row, out_claim)


def figure_a5(summary: str, dynamics: str, out_png: str, out_pdf: str, out_claim: str, *, dataset: str, arch: str,
              rules: list[str], level: float, n_grid: int, margin: float, rank: int, preset: str,
              dsa: dict | None = None, verdicts: dict | None = None) -> None:
    """Figure A5: dynamics at matched accuracy. Participation-ratio dimensionality against accuracy, recurrent
    eigenvalues and two dynamics distances between networks — DSA (Ostrow et al. 2023, ``dsa-metric``; settings
    ``dsa``: n_delays, rank, iters, lr) and the cheaper eigenvalue-matching distance of rank-``rank`` linear fits —
    each taken at the first checkpoint where a run reaches the matched level, all read from the ``dynamics``
    summary (rule ``network_dynamics``); its claim row is :func:`biocredit.claims.study_a.claim_a5`."""
    summary_ds = _load(summary, arch).sel(rule=rules)
    pairs = _load(dynamics)
    row, pair_rows, pr = study_a.claim_a5(summary_ds, pairs, dataset=dataset, rules=rules, level=level,
                                          n_grid=n_grid, margin=margin, rank=rank, preset=preset, dsa=dsa,
                                          verdicts=verdicts)
    spectra = {(str(r), int(s)): re + 1j * im for r, s, re, im in zip(
        pairs["rule"].values, pairs["seed"].values, pairs["eig_real"].values, pairs["eig_imag"].values, strict=True)}
    fig = dynamics_at_matched_accuracy(summary_ds, pr, spectra, pair_rows, arch, row["level_accuracy"],
                                       f"{dataset}: dynamics at matched accuracy")
    add_verdict_panel(fig, items_of_row(row, "DSA between − within"), xlabel="distance excess, rad [CI]")
    save(fig, out_png, out_pdf)
    write_json(row, out_claim)


def figure_a6(summary: str, out_png: str, out_pdf: str, out_claim: str, *, dataset: str, arch: str, rules: list[str],
              n_grid: int, margins: dict[str, float], preset: str, verdicts: dict | None = None) -> None:
    """Figure A6: A2 under Procrustes, CKA and CCA distances (each against its own margin), and its claim row (the
    verdict does not depend on the metric)."""
    summary_ds = _load(summary, arch).sel(rule=rules)
    row, curves = study_a.claim_a6(summary_ds, dataset=dataset, arch=arch, rules=rules, n_grid=n_grid,
                                   margins=margins, preset=preset, verdicts=verdicts)
    fig = distance_vs_accuracy_by_metric(summary_ds, curves, study_a.A6_METRICS, arch,
                                         f"{dataset}: the comparison under three metrics")
    add_verdict_panel(fig, items_of_row(row), xlabel="distance difference [CI]")
    save(fig, out_png, out_pdf)
    write_json(row, out_claim)


def figure_a7(runs: list[str], out_png: str, out_pdf: str, out_claim: str, *, dataset: str, arch: str,
              rules: list[str], preset: str, sesoi: float = 0.0, verdicts: dict | None = None) -> None:
    """Figure A7: each rule's normalised-with-data distance at its runs' best checkpoints, beside the normalised
    cross-condition baseline, and its claim row."""
    summary = stack_runs([_load(p) for p in runs]).sel(arch=arch).sel(rule=rules)
    row = study_a.claim_a7(summary, dataset=dataset, rules=rules, preset=preset, sesoi=sesoi, verdicts=verdicts)
    fig = normalized_bars(summary, title=f"{dataset}: best checkpoint vs the data's noise ceiling")
    add_verdict_panel(fig, items_of_row(row), xlabel="baseline − normalised distance [CI]")
    save(fig, out_png, out_pdf)
    write_json(row, out_claim)
