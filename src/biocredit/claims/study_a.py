"""Study A's claims (Liu, Yang & Cueva, ICML 2025): statistics on a dataset's summaries → one claim row per figure,
A2–A7. No drawing: each function returns the row and the numbers its figure shows (so that figures never recompute
what a claim computed); the figure stages (:mod:`biocredit.stages.figures_a`) draw them and write the row.

``rules[0]`` is the reference (BPTT), ``rules[1]`` the rule compared with it (e-prop). Every comparison is at
matched task accuracy (:mod:`biocredit.similarity.matched`).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import xarray as xr

from biocredit.claims import UNTESTABLE, claim_row, equivalence_holds
from biocredit.dynamics import dsa_distance, dynamics_similarity
from biocredit.runs import RULE_LABELS
from biocredit.similarity.matched import matched_curves, matched_grid, rule_difference, values_at_levels
from biocredit.stats import difference_of_means
from biocredit.variance import variance_shares

__all__ = [
    "claim_a2",
    "claim_a3",
    "claim_a4",
    "claim_a5",
    "claim_a6",
    "claim_a7",
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


def _labels(*rules: str) -> list[str]:
    """The display names of rules (the rule's own name where it has none)."""
    return [RULE_LABELS.get(r, r) for r in rules]


def _row(figure: str, dataset: str, **fields) -> dict:
    """Study A's claim row ``{figure}-{dataset}``: the identifying fields, then ``fields`` in the order given."""
    return claim_row(id=f"{figure}-{dataset}", figure=figure, study="A", dataset=dataset, **fields)


def matched_difference(summary_ds: xr.Dataset, rules: list[str], arch: str, n_grid: int, margin: float,
                       value: str = "procrustes") -> tuple[xr.Dataset, dict, bool]:
    """Study A's matched-accuracy comparison: the curves of ``value`` on the matched grid, the difference
    ``rules[1] − rules[0]`` over them, and whether it is equivalent to zero (95% CI within ±margin)."""
    matched = matched_curves(summary_ds, n_grid=n_grid, value=value)
    diff = rule_difference(matched, rules[1], rules[0], arch, value=value)
    return matched, diff, equivalence_holds(diff["ci"], margin)


def n_diverged(summary_ds: xr.Dataset) -> int:
    """Runs of a summary whose loss became non-finite."""
    return int((summary_ds["diverged_at"] >= 0).sum()) if "diverged_at" in summary_ds else 0


def claim_a2(summary_ds: xr.Dataset, *, dataset: str, arch: str, rules: list[str], n_grid: int, margin: float,
             preset: str) -> tuple[dict, xr.Dataset]:
    """A2: e-prop's distance matches BPTT's at matched accuracy. Returns the row and the matched curves."""
    matched, diff, holds = matched_difference(summary_ds, rules, arch, n_grid, margin)
    label_a, label_b = _labels(rules[1], rules[0])
    row = _row(
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
        n_diverged=n_diverged(summary_ds),
        preset=preset,
        holds=holds,
    )
    return row, matched


def claim_a3(summary_ds: xr.Dataset, *, dataset: str, arch: str, rules: list[str], fractions: list[float],
             margin: float, preset: str) -> tuple[dict, xr.Dataset, list[dict]]:
    """A3: the rules do not differ meaningfully at matched accuracy levels (at every level the 95% CI of the
    difference lies within ±margin). Returns the row, the values at the levels and the per-level tests."""
    at = values_at_levels(summary_ds, fractions)
    ref, other = rules[0], rules[1]
    tests = []
    for f in fractions:
        v = at["procrustes"].sel(arch=arch, level=f)
        t = difference_of_means(v.sel(rule=other).values, v.sel(rule=ref).values)
        tests.append({"level": f, "accuracy": float(at.accuracy.sel(level=f)), **t, "ci": list(t["ci"]),
                      "equivalent": equivalence_holds(t["ci"], margin)})
    label_a, label_b = _labels(other, ref)
    worst = max(tests, key=lambda t: abs(t["mean_diff"]) if np.isfinite(t["mean_diff"]) else -1)
    row = _row(
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
    return row, at, tests


def claim_a6(summary_ds: xr.Dataset, *, dataset: str, arch: str, rules: list[str], n_grid: int, margin: float,
             preset: str) -> tuple[dict, dict[str, xr.Dataset]]:
    """A6: the A2 verdict does not depend on the metric (Procrustes, CKA, CCA). Returns the row and each metric's
    matched curves."""
    verdicts, curves = {}, {}
    for metric in A6_METRICS:
        matched, diff, equivalent = matched_difference(summary_ds, rules, arch, n_grid, margin, value=metric)
        curves[metric] = matched
        verdicts[metric] = {"mean_diff": diff["mean_diff"], "ci": list(diff["ci"]), "p": diff["p"],
                            "equivalent": equivalent}
    agree = all(v["equivalent"] == verdicts["procrustes"]["equivalent"] for v in verdicts.values())
    label_a, label_b = _labels(rules[1], rules[0])
    row = _row(
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
    return row, curves


def claim_a7(summary: xr.Dataset, *, dataset: str, rules: list[str], preset: str) -> dict:
    """A7: every rule's models beat the normalised cross-condition baseline at their best checkpoints (mean
    normalised-with-data distance below it). ``summary``: the stacked ``normalized.nc`` of one architecture."""
    per_run = summary["normalized"].mean("iteration")
    baseline = float(summary["baseline"].mean())
    means = {r: float(per_run.sel(rule=r).mean()) for r in rules}
    return _row(
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


def level_accuracy(summary_ds: xr.Dataset, level: float) -> float:
    """The accuracy at fraction ``level`` of a summary's matched range (untrained to best reached by every rule)."""
    grid = matched_grid(summary_ds, n_grid=2)
    return float(grid[0] + level * (grid[-1] - grid[0])) if grid.size else float("nan")


def claim_a5(summary_ds: xr.Dataset, rates: dict[tuple[str, int], np.ndarray], *, dataset: str, rules: list[str],
             level: float, n_grid: int, margin: float, rank: int, preset: str, dsa: dict | None = None
             ) -> tuple[dict, list[dict], xr.Dataset]:
    """A5: networks of different rules are no further apart in their dynamics than networks of the same rule
    (excess of the between-rule over the within-rule DSA distance within ±margin); the eigenvalue-matching
    distance's test beside it. ``rates[(rule, seed)]``: each run's activity at the first checkpoint reaching
    :func:`level_accuracy`. Returns the row, the pairwise distances and the participation-ratio curves."""
    target = level_accuracy(summary_ds, level)
    dsa = dict(dsa or {})
    pairs = {"within": [], "between": []}  # DSA
    spectral = {"within": [], "between": []}
    pair_rows = []
    for (ka, ra), (kb, rb) in itertools.combinations(rates.items(), 2):
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
    labels = " and ".join(_labels(*rules))
    row = _row(
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
        n=len(rates),
        preset=preset,
        holds=equivalence_holds(test["ci"], margin),
    )
    return row, pair_rows, pr


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


def claim_a4(summary_ds: xr.Dataset, *, dataset: str, archs: dict[str, dict], level: float, preset: str
             ) -> tuple[dict, pd.DataFrame, dict, float]:
    """A4: initialisation (gain) and architecture (everything else in the arch row) each explain more variance of
    the distance at a matched level than the rule (factors that do not vary in the grid are left out). Returns the
    row, the per-run table, the variance shares and the level's accuracy."""
    at = values_at_levels(summary_ds, [level]).isel(level=0)
    df = at["procrustes"].to_dataframe().reset_index().dropna(subset=["procrustes"])
    df["init"] = df["arch"].map(lambda a: f"g0={archs[a].get('gain', 1.0):g}")
    df["architecture"] = df["arch"].map(
        lambda a: ", ".join(f"{k}={v}" for k, v in sorted(archs[a].items()) if k != "gain")
    )
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
