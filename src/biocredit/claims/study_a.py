"""Study A's claims (Liu, Yang & Cueva, ICML 2025): statistics on a dataset's summaries → one claim row per figure,
A2–A7. No drawing: each function returns the row and the numbers its figure shows (so that figures never recompute
what a claim computed); the figure stages (:mod:`biocredit.stages.figures_a`) draw them and write the row.

``rules[0]`` is the reference (BPTT), ``rules[1]`` the rule compared with it (e-prop). Every comparison is at
matched task accuracy (:mod:`biocredit.similarity.matched`), on the range every run of the two rules reaches, so that
no run is dropped at any level (dropping the seeds that never reach a level would compare only the ones that learned
best).

Verdicts have three values (:mod:`biocredit.claims`) and are read off intervals of :mod:`biocredit.stats` against
thresholds from the config: equivalence claims (A2, A3, A5) by the CI of a difference against ±margin, A7 as a
directional claim, A3/A6/A7 as composites whose parts' intervals are taken at the multiplicity-adjusted level
(:func:`biocredit.stats.adjusted_level`) so that the composite keeps the nominal error rate. Every function takes the
interval settings ``level`` (confidence level), ``min_n`` (runs per rule below which a verdict is inconclusive),
``method`` (:data:`biocredit.stats.INTERVAL_METHODS`) and ``multiplicity`` (``bonferroni`` or ``sidak``) as
keywords (config section ``verdicts``), and an ``id_suffix`` for sensitivity rows (e.g. BPTT at e-prop's learning
rate: ``A3-hatsopoulos2007-equal-lr``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from biocredit.claims import (
    FAILS,
    HOLDS,
    INCONCLUSIVE,
    UNTESTABLE,
    claim_row,
    combine,
    directional_verdict,
    equivalence_verdict,
)
from biocredit.dynamics import level_accuracy, pair_matrix
from biocredit.runs import rule_label
from biocredit.similarity.matched import levels_of_runs, matched_runs, n_diverged, per_run_means, values_at_levels
from biocredit.stats import (
    adjusted_level,
    mean_ci,
    mean_difference_ci,
    pairwise_excess_ci,
    permutation_test,
)
from biocredit.variance import variance_shares

__all__ = [
    "a4_table",
    "claim_a2",
    "claim_a3",
    "claim_a4",
    "claim_a5",
    "claim_a6",
    "claim_a7",
    "a6_verdict",
    "level_accuracy",
    "matched_difference",
    "unreached_cells",
    "unreached_note",
]

#: A6's metrics and their axis labels
A6_METRICS = {
    "procrustes": "Procrustes distance (0 = identical)",
    "cka": "CKA distance, 1 − CKA",
    "cca": "CCA distance, 1 − mean canonical corr.",
}


#: default interval settings (the config's ``verdicts`` section has the same keys)
VERDICT_DEFAULTS = {"level": 0.95, "min_n": 3, "method": "welch", "multiplicity": "bonferroni"}


def _labels(*rules: str) -> list[str]:
    """The display names of rules or run names (``bptt-lr0.0003`` → ``BPTT, η=0.0003``)."""
    return [rule_label(r) for r in rules]


def _row(figure: str, dataset: str, id_suffix: str = "", **fields) -> dict:
    """Study A's claim row ``{figure}-{dataset}{id_suffix}``: the identifying fields, then ``fields`` in the order
    given."""
    return claim_row(id=f"{figure}-{dataset}{id_suffix}", figure=figure, study="A", dataset=dataset, **fields)


def _settings(verdicts: dict | None) -> dict:
    """The interval settings: :data:`VERDICT_DEFAULTS` updated by ``verdicts`` (the config's section, whose
    ``min_runs`` is ``min_n`` here)."""
    out = dict(VERDICT_DEFAULTS)
    verdicts = dict(verdicts or {})
    if "min_runs" in verdicts:
        verdicts["min_n"] = verdicts.pop("min_runs")
    unknown = set(verdicts) - set(out)
    if unknown:
        raise ValueError(f"unknown verdict settings {sorted(unknown)}; known: {sorted(out)}")
    out.update(verdicts)
    return out


def matched_difference(summary_ds: xr.Dataset, rules: list[str], arch: str, n_grid: int, margin: float,
                       value: str = "procrustes", *, verdicts: dict | None = None,
                       level: float | None = None) -> tuple[xr.Dataset, dict, str]:
    """Study A's matched-accuracy comparison: the curves of ``value`` on the grid every run of ``rules`` reaches,
    each run's mean over it, and the interval of ``rules[1] − rules[0]`` of those means
    (:func:`biocredit.stats.mean_difference_ci`, at ``level`` or the settings' level) with its equivalence verdict
    against ±margin. Returns the curves, the interval dict (with ``p``, a permutation test of the same means, and
    ``accuracy_range``) and the verdict."""
    cfg = _settings(verdicts)
    lvl = cfg["level"] if level is None else level
    matched = matched_runs(summary_ds, rules, n_grid, value)
    a, b = per_run_means(matched, rules[1], arch, value), per_run_means(matched, rules[0], arch, value)
    diff = mean_difference_ci(a, b, level=lvl, min_n=cfg["min_n"], method=cfg["method"])
    diff["p"] = permutation_test(a, b)["p"]
    acc = matched.accuracy.values
    diff["accuracy_range"] = [float(acc.min()), float(acc.max())] if acc.size else []
    return matched, diff, equivalence_verdict(diff["ci"], margin, enough=diff["enough"])


def _interval_note(diff: dict) -> str:
    """Why an interval cannot decide (no accuracy range every run reaches, too few runs), or ''."""
    if diff.get("accuracy_range") == [] or (diff.get("n_a") == 0 and diff.get("n_b") == 0):
        return ("no accuracy range that every run reaches (a run never rose above the largest untrained "
                "accuracy): no matched comparison")
    if diff.get("enough", True):
        return ""
    return f"too few runs for a verdict (n = {diff.get('n_a')}/{diff.get('n_b')} per rule)"


def claim_a2(summary_ds: xr.Dataset, *, dataset: str, arch: str, rules: list[str], n_grid: int, margin: float,
             preset: str, verdicts: dict | None = None, level: float | None = None, id_suffix: str = "",
             note: str = "") -> tuple[dict, xr.Dataset]:
    """A2: e-prop's distance matches BPTT's at matched accuracy (equivalence: the CI of the difference of per-run
    mean distances over the matched range within ±margin). Returns the row and the matched curves."""
    cfg = _settings(verdicts)
    lvl = cfg["level"] if level is None else level
    matched, diff, verdict = matched_difference(summary_ds, rules, arch, n_grid, margin, verdicts=cfg, level=lvl)
    label_a, label_b = _labels(rules[1], rules[0])
    row = _row(
        "A2",
        dataset,
        id_suffix,
        claim=f"{label_a} reaches {label_b}-like Procrustes similarity to {dataset} when matched for task accuracy",
        statistic=f"difference {label_a} - {label_b} of the per-run mean distance over the accuracy range every run "
        f"reaches (equivalence: {lvl:.4g} {diff['method']} CI within ±{margin}; holds inside, fails outside, "
        "inconclusive across a margin)",
        value=diff["diff"],
        ci=list(diff["ci"]),
        p=diff["p"],
        ci_level=lvl,
        interval=diff["method"],
        accuracy_range=diff["accuracy_range"],
        margin=margin,
        n=int(diff["n_a"] + diff["n_b"]),
        n_per_rule={rules[1]: diff["n_a"], rules[0]: diff["n_b"]},
        n_diverged=n_diverged(summary_ds.sel(rule=list(rules))),
        note="; ".join(x for x in (note, _interval_note(diff)) if x),
        preset=preset,
        verdict=verdict,
    )
    return row, matched


def claim_a3(summary_ds: xr.Dataset, *, dataset: str, arch: str, rules: list[str], fractions: list[float],
             margin: float, preset: str, verdicts: dict | None = None, level: float | None = None,
             id_suffix: str = "", note: str = "") -> tuple[dict, xr.Dataset, list[dict]]:
    """A3: the rules do not differ meaningfully at matched accuracy levels. Each level (a fraction of the range
    every run reaches, so no seed is dropped) is a part with its CI at the Bonferroni/Šidák-adjusted level and its
    equivalence verdict; the claim combines them (holds when every level holds, fails when any fails). Returns the
    row, the values at the levels and the per-level tests."""
    cfg = _settings(verdicts)
    lvl = cfg["level"] if level is None else level
    part_level = adjusted_level(lvl, len(fractions), cfg["multiplicity"])
    at = levels_of_runs(summary_ds, rules, fractions)
    ref, other = rules[0], rules[1]
    tests = []
    for f in fractions:
        v = at["procrustes"].sel(arch=arch, level=f)
        a, b = v.sel(rule=other).values, v.sel(rule=ref).values
        t = mean_difference_ci(a, b, level=part_level, min_n=cfg["min_n"], method=cfg["method"])
        verdict = equivalence_verdict(t["ci"], margin, enough=t["enough"])
        tests.append({"level": f, "accuracy": float(at.accuracy.sel(level=f)), "mean_diff": t["diff"],
                      "ci": list(t["ci"]), "ci_level": part_level, "p": permutation_test(a, b)["p"],
                      "n_a": t["n_a"], "n_b": t["n_b"], "enough": t["enough"], "verdict": verdict,
                      "equivalent": verdict == HOLDS})
    label_a, label_b = _labels(other, ref)
    worst = max(tests, key=lambda t: abs(t["mean_diff"]) if np.isfinite(t["mean_diff"]) else -1)
    row = _row(
        "A3",
        dataset,
        id_suffix,
        claim=f"No meaningful difference between {label_a} and {label_b} in distance to {dataset} at matched accuracy",
        statistic=f"difference of means {label_a} - {label_b} at each level (fractions {fractions} of the accuracy "
        f"range every run reaches); each level's {cfg['method']} CI at {part_level:.4g} ({cfg['multiplicity']} over "
        f"{len(fractions)} levels, {lvl:.4g} jointly) against ±{margin}; holds when every level holds, fails when "
        "any fails, else inconclusive. Value and CI: the level with the largest difference",
        value=worst["mean_diff"],
        ci=worst["ci"],
        p=worst["p"],
        ci_level=part_level,
        interval=cfg["method"],
        levels=tests,
        margin=margin,
        n=int(np.isfinite(at["procrustes"].sel(arch=arch)).any("level").sum()),
        note="; ".join(x for x in (note, *{_interval_note(t) for t in tests}) if x),
        preset=preset,
        verdict=combine([t["verdict"] for t in tests]),
    )
    return row, at, tests


def a6_verdict(verdicts: dict[str, str]) -> str:
    """A6's rule over the metrics' equivalence verdicts: holds when every metric reaches the same decided verdict
    (all hold or all fail), fails when two metrics reach opposite decided verdicts (one holds, another fails),
    inconclusive otherwise (some metric undecided, none contradicting)."""
    decided = {v for v in verdicts.values() if v in (HOLDS, FAILS)}
    if decided == {HOLDS, FAILS}:
        return FAILS
    if len(decided) == 1 and all(v in (HOLDS, FAILS) for v in verdicts.values()):
        return HOLDS
    return INCONCLUSIVE


def claim_a6(summary_ds: xr.Dataset, *, dataset: str, arch: str, rules: list[str], n_grid: int,
             margins: dict[str, float], preset: str, verdicts: dict | None = None, level: float | None = None
             ) -> tuple[dict, dict[str, xr.Dataset]]:
    """A6: the A2 verdict does not depend on the metric (Procrustes, CKA, CCA). Each metric has its own margin in
    its own units (``margins``) and its interval at the level adjusted for the three metrics; the verdict is
    :func:`a6_verdict`. Returns the row and each metric's matched curves."""
    cfg = _settings(verdicts)
    lvl = cfg["level"] if level is None else level
    missing = set(A6_METRICS) - set(margins)
    if missing:
        raise ValueError(f"A6 needs a margin per metric; missing {sorted(missing)}")
    part_level = adjusted_level(lvl, len(A6_METRICS), cfg["multiplicity"])
    per_metric, curves = {}, {}
    for metric in A6_METRICS:
        matched, diff, verdict = matched_difference(summary_ds, rules, arch, n_grid, margins[metric], value=metric,
                                                    verdicts=cfg, level=part_level)
        curves[metric] = matched
        per_metric[metric] = {"mean_diff": diff["diff"], "ci": list(diff["ci"]), "ci_level": part_level,
                              "p": diff["p"], "margin": float(margins[metric]), "n_a": diff["n_a"],
                              "n_b": diff["n_b"], "verdict": verdict, "equivalent": verdict == HOLDS}
    verdict = a6_verdict({m: v["verdict"] for m, v in per_metric.items()})
    label_a, label_b = _labels(rules[1], rules[0])
    row = _row(
        "A6",
        dataset,
        claim=f"The {label_a}-vs-{label_b} conclusion on {dataset} does not hinge on the metric (Procrustes, CKA, CCA)",
        statistic=f"A2's equivalence verdict under each metric ({cfg['method']} CI at {part_level:.4g}, "
        f"{cfg['multiplicity']} over 3 metrics, against each metric's margin: "
        + ", ".join(f"{m} ±{margins[m]:g}" for m in A6_METRICS)
        + "); holds when all three reach the same decided verdict, fails when two reach opposite ones",
        value=float(sum(v["verdict"] == per_metric["procrustes"]["verdict"] for v in per_metric.values())),
        metrics=per_metric,
        margins={m: float(margins[m]) for m in A6_METRICS},
        ci_level=part_level,
        n=int(per_metric["procrustes"]["n_a"] + per_metric["procrustes"]["n_b"]),
        preset=preset,
        verdict=verdict,
    )
    return row, curves


def claim_a7(summary: xr.Dataset, *, dataset: str, rules: list[str], preset: str, sesoi: float = 0.0,
             verdicts: dict | None = None, level: float | None = None) -> dict:
    """A7: every rule's models beat the normalised cross-condition baseline at their best checkpoints. Per rule, the
    t interval of the mean margin by which runs beat it (baseline − normalised distance; the baseline is a property
    of the recordings, the same for every run) at the level adjusted for the number of rules, and a directional
    verdict against the smallest effect of interest ``sesoi``; the claim combines the rules (holds when every rule
    beats the baseline, fails when any does not). ``summary``: the stacked ``normalized.nc`` of one architecture."""
    cfg = _settings(verdicts)
    lvl = cfg["level"] if level is None else level
    part_level = adjusted_level(lvl, len(rules), cfg["multiplicity"])
    per_run = summary["normalized"].mean("iteration")
    baseline = float(summary["baseline"].mean())
    per_rule, means = {}, {}
    for r in rules:
        values = per_run.sel(rule=r).values.ravel()
        means[r] = float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
        beat = mean_ci(baseline - values, level=part_level, min_n=cfg["min_n"])
        per_rule[r] = {"mean": means[r], "margin_below_baseline": beat["mean"], "ci": list(beat["ci"]),
                       "ci_level": part_level, "n": beat["n"],
                       "verdict": directional_verdict(beat["ci"], sesoi=sesoi, enough=beat["enough"])}
    worst = min(rules, key=lambda r: per_rule[r]["margin_below_baseline"]
                if np.isfinite(per_rule[r]["margin_below_baseline"]) else np.inf)
    return _row(
        "A7",
        dataset,
        claim=f"At their best checkpoints, models of every rule are closer to {dataset} than the cross-condition "
        "average, relative to the data's own split-half distance",
        statistic="per rule, the mean by which runs fall below the normalised cross-condition baseline "
        "(baseline − normalised-with-data distance (d_model - d_split)/(1 - d_split) at each run's best checkpoint) "
        f"with its t CI at {part_level:.4g} ({cfg['multiplicity']} over {len(rules)} rules); holds when every rule's "
        f"CI lies above {sesoi:g}, fails when any lies below. Value and CI: the rule closest to the baseline",
        value=per_rule[worst]["margin_below_baseline"],
        ci=per_rule[worst]["ci"],
        ci_level=part_level,
        per_rule=means,
        rule_tests=per_rule,
        baseline=baseline,
        sesoi=sesoi,
        best_accuracy={r: float(summary["best_accuracy"].sel(rule=r).mean()) for r in rules},
        n=int(np.isfinite(per_run.sel(rule=list(rules))).sum()),
        preset=preset,
        verdict=combine([per_rule[r]["verdict"] for r in rules]),
    )


def claim_a5(summary_ds: xr.Dataset, pairs: xr.Dataset, *, dataset: str, rules: list[str], level: float,
             margin: float, rank: int, preset: str, dsa: dict | None = None, verdicts: dict | None = None,
             ci_level: float | None = None) -> dict:
    """A5: networks of different rules are no further apart in their dynamics than networks of the same rule
    (excess of the between-rule over the within-rule DSA distance within ±margin, in DSA's units, radians). Each
    run is in many pairs, so the interval resamples runs (:func:`biocredit.stats.pairwise_excess_ci`, jackknife over
    runs), not pairs. The eigenvalue-matching distance's excess and interval are shown beside it (its units differ:
    no verdict). ``pairs``: the distances between the runs of ``rules`` at the first checkpoint reaching
    :func:`level_accuracy`, as :func:`biocredit.dynamics.pairwise_dynamics` measures them (the ``dynamics`` summary
    of rule ``network_dynamics``); ``rank`` and ``dsa`` are the settings it was measured with, for the statistic's
    text. Returns the row."""
    cfg = _settings(verdicts)
    lvl = cfg["level"] if ci_level is None else ci_level
    target = level_accuracy(summary_ds, level)
    dsa = dict(dsa or {})
    keep = np.isin(pairs["rule"].values, list(rules))
    if not keep.all():
        raise ValueError(f"A5: the pairs hold runs of rules {sorted(set(pairs['rule'].values[~keep]))} outside the "
                         f"compared {list(rules)}")
    groups = pairs["rule"].values.astype(str)
    test = pairwise_excess_ci(pair_matrix(pairs, "dsa"), groups, level=lvl, min_n=cfg["min_n"])
    test_spec = pairwise_excess_ci(pair_matrix(pairs, "spectral"), groups, level=lvl, min_n=cfg["min_n"])
    labels = " and ".join(_labels(*rules))
    row = _row(
        "A5",
        dataset,
        claim=f"{labels} networks have similar dynamics at comparable accuracy ({dataset})",
        statistic=f"mean between-rule minus mean within-rule DSA distance (Ostrow et al. 2023, angular, radians; "
        f"{', '.join(f'{k}={v}' for k, v in sorted(dsa.items()))}) at the first checkpoint reaching accuracy "
        f"{target:.3f} ({level:g} of the matched range); {lvl:.4g} CI resampling runs ({test['method']}) against "
        f"±{margin:g}: holds inside, fails outside, inconclusive across a margin",
        value=test["diff"],
        ci=list(test["ci"]),
        ci_level=lvl,
        interval=test["method"],
        margin=margin,
        n_pairs=test["n_pairs"],
        spectral={"statistic": f"the same for the eigenvalue-matching distance of rank-{rank} linear fits (other "
                  "units: shown, no verdict)", "value": test_spec["diff"], "ci": list(test_spec["ci"])},
        level_accuracy=target,
        n=test["n"],
        note="" if test["enough"] else f"too few runs for a verdict (fewer than {cfg['min_n']} of a rule)",
        preset=preset,
        verdict=equivalence_verdict(test["ci"], margin, enough=test["enough"]),
    )
    return row


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


def unreached_note(unreached: dict[str, dict[str, str]]) -> str:
    if not unreached:
        return ""
    cells = "; ".join(f"{arch}: " + ", ".join(f"{rule} {kn}" for rule, kn in rules.items())
                      for arch, rules in unreached.items())
    return f"level not reached by every seed in: {cells}"


def a4_table(summary_ds: xr.Dataset, *, archs: dict[str, dict], level: float, rules: list[str] | None = None
             ) -> tuple[xr.Dataset, pd.DataFrame]:
    """A4's values at fraction ``level`` of the matched range (of ``rules``' runs when given), and the distances
    reached as a table with each run's ``init`` (its arch row's gain) and ``architecture`` (the rest of the row)."""
    if rules is not None:
        summary_ds = summary_ds.sel(rule=list(rules))
    at = values_at_levels(summary_ds, [level]).isel(level=0)
    df = at["procrustes"].to_dataframe().reset_index().dropna(subset=["procrustes"])
    df["init"] = df["arch"].map(lambda a: f"g0={archs[a].get('gain', 1.0):g}")
    df["architecture"] = df["arch"].map(
        lambda a: ", ".join(f"{k}={v}" for k, v in sorted(archs[a].items()) if k != "gain")
    )
    return at, df


def claim_a4(summary_ds: xr.Dataset, *, dataset: str, archs: dict[str, dict], level: float, preset: str,
             rules: list[str] | None = None) -> tuple[dict, pd.DataFrame, dict, float]:
    """A4: initialisation (gain) and architecture (everything else in the arch row) each explain more variance of
    the distance at a matched level than the rule (factors that do not vary in the grid are left out). ``rules``:
    the rules of the grid (a summary's sensitivity runs, trained on one arch row only, are left out). Returns the
    row, the per-run table, the variance shares and the level's accuracy. (The shares have no interval: the verdict
    is holds or fails, or not testable on one arch row.)"""
    at, df = a4_table(summary_ds, archs=archs, level=level, rules=rules)
    varying = [f for f in ("rule", "init", "architecture") if df[f].nunique() > 1]
    shares = variance_shares(df, factors=varying, value="procrustes") if len(df) > 2 and varying else {}
    unreached = unreached_cells(at["procrustes"])
    others = [shares[f] for f in ("init", "architecture") if f in shares]
    rule_share = shares.get("rule", 0.0)
    note = unreached_note(unreached)
    if not others:  # one arch row (or none reached the level): nothing to weigh the rule against
        note = "; ".join(x for x in (f"{UNTESTABLE}no initialisation or architecture factor varies "
                                     f"among the runs at this level (arch rows {sorted(df['arch'].unique())})",
                                     note) if x)
    row = _row(
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
        note=note,
        preset=preset,
        holds=all(o > rule_share for o in others) if others else None,
    )
    return row, df, shares, float(at.accuracy)
