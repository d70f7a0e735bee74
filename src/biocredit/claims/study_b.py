"""Study B's claims (Liu, Ghosh, Richards, Shea-Brown & Lajoie, NeurIPS 2022): statistics on a task's summary
(:func:`biocredit.generalization.summarize_runs`) → one claim row per figure, B1–B7. No drawing: the figure stages
(:mod:`biocredit.stages.figures_b`) draw from the same summary and the row.

Protocol (the authors'): every run trains for its fixed budget and is compared at its last checkpoint; no run is
dropped. Groups are fixed in the config before any run (:func:`biocredit.runs.groups_of`): the reference (BPTT)
against the bio-plausible group (e-prop, RFLO, MDGL) pooled, each bio rule also reported alone, and every other
main-grid rule (truncated BPTT, BPTT with random feedback) reported as its own row, pooled with nobody.

Verdicts are three-valued (:mod:`biocredit.claims`), read off the interval each row stores, against the thresholds
of ``generalization.claims`` (stated before data): B1 is an equivalence claim (each bio rule's training accuracy
within ±``train_margin`` of BPTT's; the premise, reported with numbers, not a gate for the others); B2–B4, B6 and
B7 are directional claims (a CI entirely beyond the smallest effect of interest on the predicted side holds; a
CI entirely short of it fails); B5 compares each (rule, learning rate)'s curvature with the stability bound. A
comparison with fewer than ``min_n`` finite runs in a group is inconclusive. Composite claims use
Bonferroni-adjusted intervals (level 1 − α/k for k parts) and :func:`biocredit.claims.combine`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from types import SimpleNamespace

import numpy as np
import xarray as xr
from scipy import stats as sps

from biocredit.claims import (
    FAILS,
    HOLDS,
    INCONCLUSIVE,
    ROUNDING,
    claim_row,
    combine,
    directional_verdict,
    equivalence_verdict,
)
from biocredit.generalization import stability_ratio
from biocredit.runs import PAPER_TASKS_B, terms_axis
from biocredit.runs import rule_label as _label
from biocredit.stats import correlation_ci, mean_difference_ci, sd_ratio_ci

__all__ = [
    "claim_b1",
    "claim_b2",
    "claim_b3",
    "claim_b4",
    "claim_b5",
    "claim_b6",
    "claim_b7",
    "claims_main",
    "claims_remedies",
    "extension_note",
]

#: the note of a row on a task of ours, not the paper's
EXTENSION = "extension (not in the paper)"


def extension_note(task: str) -> dict:
    """``{"extension": True, "note": ...}`` for a task the paper does not have, else ``{}``."""
    return {} if task in PAPER_TASKS_B else {"extension": True, "note": f"{EXTENSION}: task {task!r}"}


def _main(ds: xr.Dataset) -> xr.Dataset:
    return ds.isel(run=np.flatnonzero(ds["main"].values == 1))


def _vals(ds: xr.Dataset, var: str, rules: Sequence[str]) -> np.ndarray:
    if var not in ds:
        return np.empty(0)
    v = ds[var].values[np.isin(ds["rule"].values, list(rules))].astype(np.float64)
    return v[np.isfinite(v)]


def _log(v: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(v > 0, np.log(np.where(v > 0, v, 1.0)), np.nan)


def _setup(ds: xr.Dataset, groups: dict, thresholds: dict) -> SimpleNamespace:
    """What every claim of B1–B4 and B7 starts from: the main-grid runs, the groups and their labels, the
    thresholds, and the run counts per rule (a diverged run counts as a run, not as a value)."""
    main = _main(ds)
    ref, bio, sep = groups["reference"], list(groups["bio"]), list(groups.get("separate", []))
    n_runs = {r: int((main["rule"].values == r).sum()) for r in [ref, *bio, *sep]}
    n_div = {r: int((main["diverged_at"].values[main["rule"].values == r] >= 0).sum()) for r in n_runs} \
        if "diverged_at" in main else {}
    return SimpleNamespace(main=main, ref=ref, bio=bio, sep=sep, n_runs=n_runs, n_div=n_div,
                           ref_label=_label(ref), bio_label=", ".join(_label(r) for r in bio),
                           alpha=float(thresholds.get("alpha", 0.05)), min_n=int(thresholds.get("min_n", 3)),
                           th=thresholds,
                           common={"groups": {"reference": ref, "bio": bio, "separate": sep},
                                   "n_runs": n_runs, "n_diverged": n_div})


def _diff(c: SimpleNamespace, var: str, rules: Sequence[str], level: float, transform=None) -> dict:
    """CI of mean(``var`` over ``rules``' main-grid runs, pooled) − mean(the reference's), at ``level``."""
    a, b = _vals(c.main, var, rules), _vals(c.main, var, [c.ref])
    if transform is not None:
        a, b = transform(a), transform(b)
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    return mean_difference_ci(a, b, level=level, min_n=c.min_n)


def _directional(d: dict, sesoi: float, direction: int = 1) -> str:
    return directional_verdict(d["ci"], sesoi=sesoi, direction=direction) if d.get("enough", True) \
        else INCONCLUSIVE


def _per_rule(c: SimpleNamespace, var: str, sesoi: float, transform=None) -> dict:
    """Each bio and separate rule alone against the reference (95 % CIs, directional verdicts): reported beside
    the pooled claim, not part of it."""
    out = {}
    for r in [*c.bio, *c.sep]:
        d = _diff(c, var, [r], 1 - c.alpha, transform)
        out[r] = {"group": "bio" if r in c.bio else "separate", "diff": d["diff"], "ci": list(d["ci"]),
                  "n": d["n_a"], "verdict": _directional(d, sesoi)}
    return out


def _row(c: SimpleNamespace, task: str, preset: str, **fields) -> dict:
    ext = extension_note(task)
    note = "; ".join(x for x in (ext.get("note"), fields.pop("note", None)) if x) or None
    return claim_row(study="B", task=task, preset=preset, **c.common, **{k: v for k, v in ext.items()
                                                                        if k != "note"},
                     **({"note": note} if note else {}), **fields)


def _rule_stat(c, var: str, stat) -> dict:
    """``stat`` of ``var`` over each compared rule's main-grid runs (None for a rule without runs)."""
    return {r: float(stat(v)) if (v := _vals(c.main, var, [r])).size else None for r in [c.ref, *c.bio, *c.sep]}


def claim_b1(ds: xr.Dataset, *, task: str, groups: dict, thresholds: dict, preset: str) -> dict:
    """Claim row B1 of one task: the premise that the rules reach comparable training performance, reported as each
    rule's difference of final training-set accuracy from the reference (Bonferroni-adjusted CIs over the bio
    rules); holds when every bio rule's CI lies within ±``train_margin``."""
    c = _setup(ds, groups, thresholds)
    margin = float(thresholds.get("train_margin", 0.05))
    level = 1 - c.alpha / len(c.bio)
    rows = []
    for r in [*c.bio, *c.sep]:
        d = _diff(c, "final_train_accuracy", [r], level if r in c.bio else 1 - c.alpha)
        verdict = equivalence_verdict(d["ci"], margin) if d["enough"] else INCONCLUSIVE
        rows.append({"rule": r, "group": "bio" if r in c.bio else "separate", "diff": d["diff"],
                     "ci": list(d["ci"]), "n": d["n_a"], "verdict": verdict,
                     "mean_train_accuracy": float(np.mean(_vals(c.main, "final_train_accuracy", [r])))
                     if _vals(c.main, "final_train_accuracy", [r]).size else None})
    bio_rows = [x for x in rows if x["group"] == "bio"]
    worst = max(bio_rows, key=lambda x: abs(x["diff"]) if np.isfinite(x["diff"]) else -1)
    ref_acc = _vals(c.main, "final_train_accuracy", [c.ref])
    return _row(
        c, task, preset, id=f"B1-{task}", figure="B1",
        claim=f"The rules reach comparable training performance on {task} ({c.bio_label} vs {c.ref_label}; the "
        "premise of B2-B7, reported with numbers)",
        statistic=f"difference of mean final training-set accuracy (rule − {c.ref_label}) at the end of each run's "
        f"fixed budget, t interval at {level:.4g} (Bonferroni over the {len(c.bio)} bio rules); holds when every "
        f"bio rule's CI lies within ±{margin}, fails when one lies outside, else inconclusive; other rules reported "
        "with 95% CIs, not part of the verdict",
        value=worst["diff"], ci=worst["ci"], rules=rows, margin=margin,
        reference_train_accuracy=float(np.mean(ref_acc)) if ref_acc.size else None,
        n=int(c.main.sizes["run"]), verdict=combine([x["verdict"] for x in bio_rows]),
    )


def claim_b2(ds: xr.Dataset, *, task: str, groups: dict, thresholds: dict, preset: str) -> dict:
    """Claim row B2 of one task: the bio group's generalization gap is larger (mean) and more variable (spread)
    than the reference's."""
    c = _setup(ds, groups, thresholds)
    sesoi = float(thresholds.get("sesoi_gap", 0.0))
    level = 1 - c.alpha / 2  # two parts
    mean = _diff(c, "gap_loss", c.bio, level)
    by_rule = [_vals(c.main, "gap_loss", [r]) for r in c.bio]
    spread = sd_ratio_ci(by_rule, [_vals(c.main, "gap_loss", [c.ref])], level=level)
    enough = all(v.size >= c.min_n for v in by_rule) and _vals(c.main, "gap_loss", [c.ref]).size >= c.min_n
    v_mean = _directional(mean, sesoi)
    v_spread = directional_verdict([math.log(x) if x and x > 0 else math.nan for x in spread["ci"]]) if enough \
        else INCONCLUSIVE
    extra = {}
    for key, var in (("accuracy_gap", "gap_accuracy"), ("noisy_test_gap", "gap_noisy_loss"),
                     ("noisy_test_accuracy_gap", "gap_noisy_accuracy"), ("matched_train_loss", "gap_loss_matched")):
        d = _diff(c, var, c.bio, 1 - c.alpha)
        extra[key] = {"diff": d["diff"], "ci": list(d["ci"]), "n_bio": d["n_a"], "n_reference": d["n_b"]}
    extra["matched_train_loss"]["level"] = ds.attrs.get("matched_train_loss")
    held = ds.attrs.get("held_out", "validation_set")
    return _row(
        c, task, preset, id=f"B2-{task}", figure="B2",
        claim=f"Bio-plausible rules ({c.bio_label}) generalize worse and more variably than {c.ref_label} on {task}",
        statistic=f"generalization gap = clean {held.replace('_', ' ')} loss − training-set loss at the end of each "
        f"run's fixed budget; mean: difference of means (bio rules pooled − {c.ref_label}), t interval; spread: "
        f"ratio of pooled within-rule SDs (bio / {c.ref_label}), F interval; both at {level:.4g} (Bonferroni over "
        f"the two parts). Mean holds when its CI lies above the smallest effect of interest {sesoi:g} nats, fails "
        "when it lies below it; spread holds when its CI lies above 1, fails below; the claim holds when both hold, "
        "fails when either fails",
        value=mean["diff"], ci=list(mean["ci"]), sd_ratio=spread["sd_ratio"], sd_ratio_ci=list(spread["ci"]),
        parts={"mean": v_mean, "spread": v_spread}, sesoi=sesoi, per_rule=_per_rule(c, "gap_loss", sesoi),
        **extra, n=int(mean["n_a"] + mean["n_b"]), verdict=combine([v_mean, v_spread]),
    )


def claim_b3(ds: xr.Dataset, *, task: str, groups: dict, thresholds: dict, preset: str) -> dict:
    """Claim row B3 of one task: the bio group ends at a higher top Hessian eigenvalue than the reference."""
    c = _setup(ds, groups, thresholds)
    sesoi = float(thresholds.get("sesoi_log_ratio", 0.0))
    d = _diff(c, "lambda_final", c.bio, 1 - c.alpha, _log)
    med = _rule_stat(c, "lambda_final", np.median)
    return _row(
        c, task, preset, id=f"B3-{task}", figure="B3",
        claim=f"Bio-plausible rules ({c.bio_label}) approach higher-curvature regions than {c.ref_label} on {task}",
        statistic="top Hessian eigenvalue of the loss (task loss + L2) w.r.t. W_rec on the validation batch at the "
        f"end of each run; difference of mean ln λ_max (bio rules pooled − {c.ref_label}), t interval at "
        f"{1 - c.alpha:.4g}; holds when the CI lies above ln-ratio {sesoi:g}, fails when it lies below it",
        value=d["diff"], ci=list(d["ci"]), ratio=math.exp(d["diff"]) if np.isfinite(d["diff"]) else None,
        sesoi=sesoi, per_rule=_per_rule(c, "lambda_final", sesoi, _log), median_lambda=med,
        n=int(d["n_a"] + d["n_b"]), verdict=_directional(d, sesoi),
    )


def claim_b4(ds: xr.Dataset, *, task: str, groups: dict, thresholds: dict, preset: str) -> dict:
    """Claim row B4 of one task: the gap correlates with the top eigenvalue over the reference's and the bio
    group's runs."""
    c = _setup(ds, groups, thresholds)
    sesoi = float(thresholds.get("sesoi_correlation", 0.0))
    sel = c.main.isel(run=np.flatnonzero(np.isin(c.main["rule"].values, [c.ref, *c.bio])))
    rho = correlation_ci(sel["gap_loss"].values, sel["lambda_final"].values, kind="spearman",
                         level=1 - c.alpha)
    enough = rho["n"] >= max(c.min_n, 4)
    verdict = directional_verdict(rho["ci"], sesoi=sesoi) if enough else INCONCLUSIVE
    pearson_log = correlation_ci(sel["gap_loss"].values, _log(sel["lambda_final"].values), kind="pearson",
                                 level=1 - c.alpha)
    acc = correlation_ci(sel["gap_accuracy"].values, sel["lambda_final"].values, kind="spearman", level=1 - c.alpha)
    every = correlation_ci(c.main["gap_loss"].values, c.main["lambda_final"].values, kind="spearman",
                           level=1 - c.alpha)
    matched = correlation_ci(sel["gap_loss_matched"].values, sel["lambda_final"].values, kind="spearman",
                             level=1 - c.alpha)

    def pick(x):
        return {"r": x["r"], "ci": list(x["ci"]), "n": x["n"]}

    return _row(
        c, task, preset, id=f"B4-{task}", figure="B4",
        claim=f"Generalization correlates with loss-landscape curvature on {task}",
        statistic=f"Spearman ρ between the loss gap and the top Hessian eigenvalue at the end of training, over the "
        f"runs of {c.ref_label} and the bio rules, with a Fisher-z interval at {1 - c.alpha:.4g}; holds when the CI "
        f"lies above ρ = {sesoi:g}, fails when it lies below it",
        value=rho["r"], ci=list(rho["ci"]), sesoi=sesoi, pearson_log_lambda=pick(pearson_log),
        accuracy_gap=pick(acc), all_main_runs=pick(every), matched_train_loss=pick(matched),
        n=rho["n"], verdict=verdict,
    )


def claim_b7(ds: xr.Dataset, *, task: str, groups: dict, thresholds: dict, preset: str) -> dict:
    """Claim row B7 of one task: the higher curvature shows in the Hessian trace too."""
    c = _setup(ds, groups, thresholds)
    sesoi = float(thresholds.get("sesoi_log_ratio", 0.0))
    d = _diff(c, "trace_final", c.bio, 1 - c.alpha, _log)
    cos = _rule_stat(c, "grad_cosine_mean", np.mean)
    n_nonpos = int((c.main["trace_final"].values <= 0).sum())
    return _row(
        c, task, preset, id=f"B7-{task}", figure="B7",
        claim=f"The higher curvature of bio-plausible rules is not confined to the top eigenvalue: their Hessian "
        f"trace exceeds {c.ref_label}'s on {task}",
        statistic="Hutchinson trace of the W_rec Hessian at the end of each run; difference of mean ln trace (bio "
        f"rules pooled − {c.ref_label}), t interval at {1 - c.alpha:.4g}; holds when the CI lies above ln-ratio "
        f"{sesoi:g}, fails when it lies below it (runs with a non-positive trace estimate have no log and are left "
        "out)",
        value=d["diff"], ci=list(d["ci"]), sesoi=sesoi, per_rule=_per_rule(c, "trace_final", sesoi, _log),
        n_nonpositive_trace=n_nonpos, mean_grad_cosine=cos, n=int(d["n_a"] + d["n_b"]),
        verdict=_directional(d, sesoi),
    )


def claims_main(ds: xr.Dataset, *, task: str, groups: dict, thresholds: dict, preset: str) -> dict[str, dict]:
    """Claim rows B1–B4 and B7 of one task from its summary."""
    kw = {"task": task, "groups": groups, "thresholds": thresholds, "preset": preset}
    return {"B1": claim_b1(ds, **kw), "B2": claim_b2(ds, **kw), "B3": claim_b3(ds, **kw), "B4": claim_b4(ds, **kw),
            "B7": claim_b7(ds, **kw)}


def _mean_ci(x: np.ndarray, level: float) -> tuple[float, tuple[float, float]]:
    """Mean and t interval of one sample (NaN interval below two values)."""
    x = x[np.isfinite(x)]
    if x.size < 2:
        return (float(x.mean()) if x.size else math.nan), (math.nan, math.nan)
    m, se = float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size))
    h = float(sps.t.ppf(0.5 + level / 2, x.size - 1)) * se
    return m, (m - h, m + h)


def claim_b5(ds: xr.Dataset, *, task: str, reference: str, lr_rules: list[str], tolerance: float,
             thresholds: dict, preset: str) -> dict:
    """Claim row B5 of the remedies task: the reference stays near the stability bound 2/η, truncated rules settle
    beyond it, at every learning rate of the sweep."""
    alpha, min_n = float(thresholds.get("alpha", 0.05)), int(thresholds.get("min_n", 3))
    sweep = ds.isel(run=np.flatnonzero(ds["lr_sweep"].values == 1))
    log_ratio = _log(stability_ratio(sweep["lambda_final"].values, sweep["lr"].values))
    base = sweep["base_rule"].values
    lrs = sorted({float(x) for x in sweep["lr"].values})
    bound = math.log(1 + tolerance)
    cells = [(r, lr) for r in lr_rules for lr in lrs]
    level = 1 - alpha / max(1, len(cells))
    table = []
    for r, lr in cells:
        v = log_ratio[(base == r) & np.isclose(sweep["lr"].values, lr)]
        v = v[np.isfinite(v)]
        m, (lo, hi) = _mean_ci(v, level)
        if v.size < min_n or not np.isfinite(lo):
            verdict = INCONCLUSIVE
        elif r == reference:  # stays at or below the band: the whole CI below it
            verdict = HOLDS if hi <= bound + ROUNDING else FAILS if lo > bound + ROUNDING else INCONCLUSIVE
        else:  # beyond it: the whole CI above it
            verdict = HOLDS if lo > bound + ROUNDING else FAILS if hi <= bound + ROUNDING else INCONCLUSIVE
        table.append({"rule": r, "lr": lr, "ratio": math.exp(m) if np.isfinite(m) else None,
                      "ci": [math.exp(lo), math.exp(hi)] if np.isfinite(lo) else [None, None], "n": int(v.size),
                      "verdict": verdict})
    others = [r for r in lr_rules if r != reference]
    bio = log_ratio[np.isin(base, others)]
    return claim_row(
        id=f"B5-{task}", figure="B5", study="B", task=task,
        claim=f"{_label(reference)} stays near or below the stability bound 2/η while truncated rules "
        f"({', '.join(_label(r) for r in others) or 'none swept'}) settle beyond it, at every learning rate ({task})",
        statistic=f"geometric mean over seeds of λ_max·η/2 per rule and learning rate, t interval on the log at "
        f"{level:.4g} (Bonferroni over the {len(cells)} cells); a cell of {_label(reference)} holds when its CI lies "
        f"at or below 1 + {tolerance} (the band: a held-out batch and minibatch noise put stable SGD slightly above "
        "2/η), a cell of another rule when its CI lies above it; the claim holds when every cell holds",
        value=float(np.exp(np.nanmean(bio))) if np.isfinite(bio).any() else None, table=table,
        tolerance=tolerance, n=int(np.isfinite(log_ratio).sum()), preset=preset, **extension_note(task),
        verdict=combine([x["verdict"] for x in table]) if table and others else INCONCLUSIVE,
    )


def claim_b6(ds: xr.Dataset, *, task: str, reference: str, lr_rules: list[str], windows: list[int],
             thresholds: dict, preset: str) -> dict:
    """Claim row B6 of the remedies task: larger learning rates and more gradient terms lower curvature and the
    gap (every run at the end of its budget; none excluded)."""
    alpha, min_n = float(thresholds.get("alpha", 0.05)), int(thresholds.get("min_n", 3))
    sesoi = float(thresholds.get("sesoi_correlation", 0.0))
    level = 1 - alpha / 4
    sweep = ds.isel(run=np.flatnonzero(ds["lr_sweep"].values == 1))
    others = [r for r in lr_rules if r != reference]
    bio_sweep = sweep.isel(run=np.flatnonzero(np.isin(sweep["base_rule"].values, others or lr_rules)))
    order = {name: i for i, name in enumerate(terms_axis(windows))}
    terms = ds.isel(run=np.flatnonzero(ds["terms"].values == 1))
    rank = np.array([order.get(str(r), np.nan) for r in terms["rule"].values], dtype=np.float64)
    pairs = {"lr_vs_lambda": (bio_sweep["lr"].values, bio_sweep["lambda_final"].values),
             "lr_vs_gap": (bio_sweep["lr"].values, bio_sweep["gap_loss"].values),
             "terms_vs_lambda": (rank, terms["lambda_final"].values),
             "terms_vs_gap": (rank, terms["gap_loss"].values)}
    parts = {k: correlation_ci(x, y, kind="spearman", level=level) for k, (x, y) in pairs.items()}
    verdicts = {k: directional_verdict(v["ci"], sesoi=sesoi, direction=-1) if v["n"] >= max(min_n, 4)
                else INCONCLUSIVE for k, v in parts.items()}
    n_lr = sorted({float(x) for x in bio_sweep["lr"].values})
    seeds = sorted({int(x) for x in terms["seed"].values}) if "seed" in terms.coords else None
    return claim_row(
        id=f"B6-{task}", figure="B6", study="B", task=task,
        claim=f"Remedies reduce curvature and the generalization gap ({task}): a larger learning rate for the "
        "truncated rules, and keeping more gradient terms (e-prop → MDGL → tBPTT → BPTT)",
        statistic="Spearman ρ of the top eigenvalue and of the loss gap at the end of training against the learning "
        "rate (swept non-reference rules pooled) and against the rank on the terms-kept axis, Fisher-z intervals at "
        f"{level:.4g} (Bonferroni over the four parts); a part holds when its CI lies below ρ = −{sesoi:g}, fails "
        f"when it lies above it; the claim holds when all four hold, fails when any fails",
        value=parts["terms_vs_lambda"]["r"], ci=list(parts["terms_vs_lambda"]["ci"]),
        parts={k: {"r": v["r"], "ci": list(v["ci"]), "n": v["n"], "verdict": verdicts[k]} for k, v in parts.items()},
        learning_rates=n_lr, terms_seeds=seeds, sesoi=sesoi,
        n=int(terms.sizes["run"] + bio_sweep.sizes["run"]), preset=preset, **extension_note(task),
        verdict=combine(list(verdicts.values())),
    )


def claims_remedies(ds: xr.Dataset, *, task: str, reference: str, lr_rules: list[str], windows: list[int],
                    tolerance: float, thresholds: dict, preset: str) -> dict[str, dict]:
    """Claim rows B5 (stability bound) and B6 (remedies) from the remedies task's summary."""
    return {"B5": claim_b5(ds, task=task, reference=reference, lr_rules=lr_rules, tolerance=tolerance,
                           thresholds=thresholds, preset=preset),
            "B6": claim_b6(ds, task=task, reference=reference, lr_rules=lr_rules, windows=windows,
                           thresholds=thresholds, preset=preset)}
