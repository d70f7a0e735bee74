"""Study B's claims (Liu, Ghosh, Richards, Shea-Brown & Lajoie, NeurIPS 2022): statistics on a task's summary
(:func:`biocredit.generalization.summarize_runs`) → one claim row per figure, B1–B7. No drawing: the figure stages
(:mod:`biocredit.stages.figures_b`) draw from the same summary and the row.

``rules[0]`` is the reference (BPTT); every other rule is "bio-plausible", pooled. B2–B4 and B7 compare runs at the
matched point (where a run met the training criterion; runs that never did are left out and counted); B1 reads
every main-grid run; B5 and B6 read the remedies' runs (learning-rate sweep and gradient-terms axis).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from types import SimpleNamespace

import numpy as np
import xarray as xr

from biocredit.claims import claim_row, equivalence_holds
from biocredit.generalization import stability_ratio
from biocredit.runs import rule_label as _label
from biocredit.runs import terms_axis
from biocredit.stats import correlation, difference_of_means, permutation_test, spread_test

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
    "reach_table",
]


def _main(ds: xr.Dataset) -> xr.Dataset:
    return ds.isel(run=np.flatnonzero(ds["main"].values == 1))


def _matched(ds: xr.Dataset) -> xr.Dataset:
    """Runs at the matched point (``matched`` == 1, see :func:`summarize`); all runs for summaries without it."""
    if "matched" not in ds:
        return ds
    return ds.isel(run=np.flatnonzero(ds["matched"].values == 1))


def _n_by_rule(ds: xr.Dataset, rules: Sequence[str]) -> dict[str, int]:
    return {r: int((ds["rule"].values == r).sum()) for r in rules}


def reach_table(ds: xr.Dataset, rules: Sequence[str]) -> list[dict]:
    """Per rule: runs, runs that met the training criterion (``n_reached``, ``fraction``), the median and range of
    the updates they needed, and the median final training-set accuracy of the others (how close they came)."""
    out = []
    for r in rules:
        sel = ds["rule"].values == r
        ok = sel & (ds["matched"].values == 1) if "matched" in ds else sel
        upd = ds["stopped_at"].values[ok].astype(float) if "stopped_at" in ds else np.empty(0)
        short = sel & ~ok
        acc = ds["final_train_accuracy"].values[short] if "final_train_accuracy" in ds else np.empty(0)
        acc = acc[np.isfinite(acc)]
        out.append({
            "rule": r, "n": int(sel.sum()), "n_reached": int(ok.sum()),
            "fraction": float(ok.sum() / sel.sum()) if sel.sum() else None,
            "median_updates": float(np.median(upd)) if upd.size else None,
            "updates_range": [float(upd.min()), float(upd.max())] if upd.size else None,
            "median_train_accuracy_not_reached": float(np.median(acc)) if acc.size else None,
        })
    return out


def _by_rule(ds: xr.Dataset, var: str, rules: Sequence[str]) -> dict[str, np.ndarray]:
    return {r: ds[var].values[ds["rule"].values == r] for r in rules}


def _pick(c: dict) -> dict:
    return {k: c[k] for k in ("spearman_r", "spearman_p", "n")}


def _common(ds: xr.Dataset, rules: Sequence[str]) -> SimpleNamespace:
    """What every claim of B1–B4 and B7 starts from: the main-grid runs, those at the matched point, the criterion
    and the per-rule counts, the reference rule and the others ("bio" rules), and their labels."""
    main = _main(ds)
    matched = _matched(main)  # B2-B4, B7 compare runs at the matched point (where they met the criterion)
    criterion = ds.attrs.get("criterion", "")
    n_matched = _n_by_rule(matched, rules)
    matched_note = {"criterion": criterion or None, "n_matched": n_matched,
                    "n_excluded": {r: k - n_matched[r] for r, k in _n_by_rule(main, rules).items()}}
    ref, others = rules[0], list(rules[1:])
    n_div = {r: int((main["diverged_at"].values[main["rule"].values == r] >= 0).sum()) for r in rules} \
        if "diverged_at" in main else {}
    ref_label, n = _label(ref), int(main.sizes["run"])
    bio_label = ", ".join(_label(r) for r in others)
    return SimpleNamespace(main=main, matched=matched, criterion=criterion, matched_note=matched_note, ref=ref,
                           others=others, n_div=n_div, ref_label=ref_label, n=n, bio_label=bio_label)


def claim_b1(ds: xr.Dataset, *, task: str, rules: list[str], train_margin: float, preset: str) -> dict:
    """Claim row B1 of one task: comparable training performance (final training-set accuracy within ±margin
    of the reference's, ``rules[0]``)."""
    c = _common(ds, rules)
    # B1: comparable training performance (final training-set accuracy within ±margin of the reference)
    acc = _by_rule(c.main, "final_train_accuracy", rules)
    per_rule = []
    for r in c.others:
        d = difference_of_means(acc[r], acc[c.ref])
        per_rule.append({"rule": r, "mean_diff": d["mean_diff"], "ci": list(d["ci"]), "p": d["p"],
                         "equivalent": equivalence_holds(d["ci"], train_margin)})
    worst = max(per_rule, key=lambda x: abs(x["mean_diff"]) if np.isfinite(x["mean_diff"]) else -1)
    return claim_row(
        id=f"B1-{task}", figure="B1", study="B", task=task,
        claim=f"The rules reach comparable training performance on {task} ({c.bio_label} vs {c.ref_label})",
        statistic=f"difference of mean final training-set accuracy (rule − {c.ref_label}) with 95% bootstrap CI; "
        "holds "
        f"when every rule's CI lies within ±{train_margin}",
        value=worst["mean_diff"], ci=worst["ci"], p=worst["p"], rules=per_rule,
        mean_train_accuracy={r: float(np.nanmean(v)) if np.isfinite(v).any() else None for r, v in acc.items()},
        criterion=c.criterion or None, reached=reach_table(c.main, rules),
        margin=train_margin, n=c.n, preset=preset, holds=all(x["equivalent"] for x in per_rule),
    )


def claim_b2(ds: xr.Dataset, *, task: str, rules: list[str], alpha: float, preset: str) -> dict:
    """Claim row B2 of one task: the bio rules' generalization gap is larger (mean) and more variable (spread)."""
    c = _common(ds, rules)
    # B2: worse (mean) and more variable (spread) generalization gap, bio rules pooled vs the reference
    gap = _by_rule(c.matched, "gap_loss", rules)
    gap_acc = _by_rule(c.matched, "gap_accuracy", rules)
    bio = np.concatenate([gap[r] for r in c.others])
    mean_t = permutation_test(bio, gap[c.ref], alternative="greater")
    spread = spread_test([gap[r] for r in c.others], [gap[c.ref]])
    mean_acc = permutation_test(np.concatenate([gap_acc[r] for r in c.others]), gap_acc[c.ref],
                                alternative="greater")
    gap_m = _by_rule(c.main, "gap_loss_matched", rules)
    matched_t = permutation_test(np.concatenate([gap_m[r] for r in c.others]), gap_m[c.ref], alternative="greater")
    matched_s = spread_test([gap_m[r] for r in c.others], [gap_m[c.ref]])
    holds_mean = bool(np.isfinite(mean_t["p"]) and mean_t["diff"] > 0 and mean_t["p"] < alpha)
    holds_spread = bool(np.isfinite(spread["p"]) and spread["sd_ratio"] > 1 and spread["p"] < alpha)
    return claim_row(
        id=f"B2-{task}", figure="B2", study="B", task=task,
        claim=f"Bio-plausible rules ({c.bio_label}) generalize worse and more variably than {c.ref_label} on {task}",
        statistic="generalization gap = test loss − training-set loss at the matched point (the checkpoint where a "
        "run met the training criterion; runs that never did are excluded, n_matched per rule; without a criterion "
        "the end of training); mean: one-sided "
        f"permutation test of mean(bio rules pooled) − mean({c.ref_label}); spread: Brown–Forsythe test on absolute "
        f"deviations from each rule's median (sd_ratio = pooled within-rule SD bio / {c.ref_label}); holds when "
        f"both are significant at {alpha} in the claimed direction",
        value=mean_t["diff"], p=mean_t["p"], p_spread=spread["p"], sd_ratio=spread["sd_ratio"],
        holds_mean=holds_mean, holds_spread=holds_spread,
        accuracy_gap={"diff": mean_acc["diff"], "p": mean_acc["p"]},
        matched_train_loss={"level": ds.attrs.get("matched_train_loss"), "diff": matched_t["diff"],
                            "p": matched_t["p"], "sd_ratio": matched_s["sd_ratio"], "p_spread": matched_s["p"],
                            "n_reached": int(np.isfinite(c.main["gap_loss_matched"].values).sum())},
        n_diverged=c.n_div, **c.matched_note,
        mean_gap={r: float(np.nanmean(v)) if np.isfinite(v).any() else None for r, v in gap.items()},
        alpha=alpha, n=int(c.matched.sizes["run"]), preset=preset, holds=holds_mean and holds_spread,
    )


def claim_b3(ds: xr.Dataset, *, task: str, rules: list[str], alpha: float, preset: str) -> dict:
    """Claim row B3 of one task: higher top Hessian eigenvalue at the matched point."""
    c = _common(ds, rules)
    # B3: higher curvature at the end of training
    lam = _by_rule(c.matched, "lambda_final", rules)
    lam_t = permutation_test(np.concatenate([lam[r] for r in c.others]), lam[c.ref], alternative="greater")
    per_rule_lam = {r: permutation_test(lam[r], lam[c.ref], alternative="greater") for r in c.others}
    return claim_row(
        id=f"B3-{task}", figure="B3", study="B", task=task,
        claim=f"Bio-plausible rules ({c.bio_label}) approach higher-curvature regions than {c.ref_label} on {task}",
        statistic="top Hessian eigenvalue of the loss (task loss + L2) w.r.t. W_rec at the matched point (see B2); "
        "one-sided "
        f"permutation test of mean(bio rules pooled) − mean({c.ref_label}); holds when p < {alpha} and the difference "
        "is positive",
        value=lam_t["diff"], p=lam_t["p"],
        per_rule={r: {"diff": t["diff"], "p": t["p"]} for r, t in per_rule_lam.items()},
        median_lambda={r: float(np.nanmedian(v)) if np.isfinite(v).any() else None for r, v in lam.items()},
        **c.matched_note, alpha=alpha, n=int(c.matched.sizes["run"]), preset=preset,
        holds=bool(np.isfinite(lam_t["p"]) and lam_t["diff"] > 0 and lam_t["p"] < alpha),
    )


def claim_b4(ds: xr.Dataset, *, task: str, rules: list[str], alpha: float, preset: str) -> dict:
    """Claim row B4 of one task: the gap correlates with the top eigenvalue over the main grid's runs."""
    c = _common(ds, rules)
    # B4: the gap correlates with curvature over all main-grid runs
    loglam = np.log10(np.where(c.matched["lambda_final"].values > 0, c.matched["lambda_final"].values, np.nan))
    corr = correlation(c.matched["gap_loss"].values, c.matched["lambda_final"].values)
    c_log = correlation(c.matched["gap_loss"].values, loglam)
    c_acc = correlation(c.matched["gap_accuracy"].values, c.matched["lambda_final"].values)
    return claim_row(
        id=f"B4-{task}", figure="B4", study="B", task=task,
        claim=f"Generalization correlates with loss-landscape curvature on {task}",
        statistic="Spearman rank correlation between the loss gap and the top Hessian eigenvalue, both at the "
        "matched point (see B2), over the main grid's runs that reached it (Pearson r on log10 λ beside it); holds "
        f"when ρ > 0 with p < {alpha}",
        value=corr["spearman_r"], p=corr["spearman_p"],
        pearson_r_log=c_log["pearson_r"], pearson_p_log=c_log["pearson_p"],
        pearson_r=corr["pearson_r"], pearson_p=corr["pearson_p"],
        accuracy_gap={"spearman_r": c_acc["spearman_r"], "spearman_p": c_acc["spearman_p"]},
        matched_train_loss=_pick(correlation(c.main["gap_loss_matched"].values, c.main["lambda_final"].values)),
        **c.matched_note, alpha=alpha, n=corr["n"], preset=preset,
        holds=bool(np.isfinite(corr["spearman_p"]) and corr["spearman_r"] > 0 and corr["spearman_p"] < alpha),
    )


def claim_b7(ds: xr.Dataset, *, task: str, rules: list[str], alpha: float, preset: str) -> dict:
    """Claim row B7 of one task: the higher curvature shows in the Hessian trace too."""
    c = _common(ds, rules)
    # B7: the excess curvature shows in the trace too; cosine of updates with the true gradient
    tr = _by_rule(c.matched, "trace_final", rules)
    tr_t = permutation_test(np.concatenate([tr[r] for r in c.others]), tr[c.ref], alternative="greater")
    cos = _by_rule(c.matched, "grad_cosine_mean", rules)
    return claim_row(
        id=f"B7-{task}", figure="B7", study="B", task=task,
        claim=f"The higher curvature of bio-plausible rules is not confined to the top eigenvalue: their Hessian "
        f"trace exceeds {c.ref_label}'s on {task}",
        statistic="Hutchinson trace of the W_rec Hessian at the matched point (see B2); one-sided permutation test of "
        f"mean(bio rules pooled) − mean({c.ref_label}); holds when p < {alpha} and the difference is positive",
        value=tr_t["diff"], p=tr_t["p"],
        mean_grad_cosine={r: float(np.nanmean(v)) if np.isfinite(v).any() else None for r, v in cos.items()},
        **c.matched_note, alpha=alpha, n=int(c.matched.sizes["run"]), preset=preset,
        holds=bool(np.isfinite(tr_t["p"]) and tr_t["diff"] > 0 and tr_t["p"] < alpha),
    )


def claims_main(ds: xr.Dataset, *, task: str, rules: list[str], alpha: float, train_margin: float,
                preset: str) -> dict[str, dict]:
    """Claim rows B1–B4 and B7 of one task from its summary (main-grid runs; ``rules[0]`` is the reference)."""
    kw = {"task": task, "rules": rules, "preset": preset}
    return {"B1": claim_b1(ds, train_margin=train_margin, **kw), "B2": claim_b2(ds, alpha=alpha, **kw),
            "B3": claim_b3(ds, alpha=alpha, **kw), "B4": claim_b4(ds, alpha=alpha, **kw),
            "B7": claim_b7(ds, alpha=alpha, **kw)}


def claim_b5(ds: xr.Dataset, *, task: str, reference: str, lr_rules: list[str], tolerance: float,
             preset: str) -> dict:
    """Claim row B5 of the remedies task: the reference stays near the stability bound 2/η, truncated rules settle
    beyond it."""
    sweep = ds.isel(run=np.flatnonzero(ds["lr_sweep"].values == 1))
    ratio = stability_ratio(sweep["lambda_final"].values, sweep["lr"].values)
    base = sweep["base_rule"].values
    lrs = sorted({float(x) for x in sweep["lr"].values})
    table, ok_ref, ok_bio = [], True, True
    for r in lr_rules:
        for lr in lrs:
            sel = (base == r) & np.isclose(sweep["lr"].values, lr)
            med = float(np.nanmedian(ratio[sel])) if np.isfinite(ratio[sel]).any() else math.nan
            table.append({"rule": r, "lr": lr, "median_ratio": med, "n": int(np.isfinite(ratio[sel]).sum())})
            if r == reference:
                ok_ref &= bool(np.isfinite(med) and med <= 1 + tolerance)
            else:
                ok_bio &= bool(np.isfinite(med) and med > 1 + tolerance)
    others = [r for r in lr_rules if r != reference]
    bio_ratio = ratio[np.isin(base, others)]
    return claim_row(
        id=f"B5-{task}", figure="B5", study="B", task=task,
        claim=f"{_label(reference)} stays near or below the stability bound 2/η while truncated rules "
        f"({', '.join(_label(r) for r in others) or 'none swept'}) settle beyond it, at every learning rate ({task})",
        statistic=f"median over seeds of λ_max·η/2 per rule and learning rate; holds when {_label(reference)}'s is "
        f"≤ 1 + {tolerance} and every other swept rule's is > 1 + {tolerance} at every η (tolerance: a held-out "
        "batch and minibatch noise put the measured sharpness of stable SGD slightly above 2/η)",
        value=float(np.nanmedian(bio_ratio)) if np.isfinite(bio_ratio).any() else None,
        table=table, tolerance=tolerance, n=int(np.isfinite(ratio).sum()), preset=preset,
        holds=bool(ok_ref and ok_bio and others),
    )


def claim_b6(ds: xr.Dataset, *, task: str, reference: str, lr_rules: list[str], windows: list[int], alpha: float,
             preset: str) -> dict:
    """Claim row B6 of the remedies task: larger learning rates and more gradient terms lower curvature and the
    gap."""
    sweep = ds.isel(run=np.flatnonzero(ds["lr_sweep"].values == 1))
    others = [r for r in lr_rules if r != reference]
    # B6: larger learning rates and more gradient terms lower curvature and the gap, at the matched point
    sweep_m = _matched(sweep)
    bio_sweep = sweep_m.isel(run=np.flatnonzero(np.isin(sweep_m["base_rule"].values, others or lr_rules)))
    lr_lam = correlation(bio_sweep["lr"].values, bio_sweep["lambda_final"].values)
    lr_gap = correlation(bio_sweep["lr"].values, bio_sweep["gap_loss"].values)
    order = {name: i for i, name in enumerate(terms_axis(windows))}
    terms_all = ds.isel(run=np.flatnonzero(ds["terms"].values == 1))
    terms = _matched(terms_all)
    rank = np.array([order.get(str(r), np.nan) for r in terms["rule"].values], dtype=np.float64)
    t_lam = correlation(rank, terms["lambda_final"].values)
    t_gap = correlation(rank, terms["gap_loss"].values)
    parts = {
        "lr_vs_lambda": lr_lam, "lr_vs_gap": lr_gap, "terms_vs_lambda": t_lam, "terms_vs_gap": t_gap,
    }
    verdicts = {k: bool(np.isfinite(v["spearman_p"]) and v["spearman_r"] < 0 and v["spearman_p"] < alpha)
                for k, v in parts.items()}
    return claim_row(
        id=f"B6-{task}", figure="B6", study="B", task=task,
        claim=f"Remedies reduce curvature and the generalization gap ({task}): a larger learning rate for the "
        "truncated rules, and keeping more gradient terms (e-prop → MDGL → tBPTT → BPTT)",
        statistic="Spearman ρ of the top eigenvalue and of the loss gap at the matched point (see B2; runs that never "
        "met the training criterion excluded) against the learning rate (swept non-reference rules pooled) and "
        f"against the rank on the terms-kept axis; holds when all four are negative with p < {alpha}",
        value=t_lam["spearman_r"], p=t_lam["spearman_p"],
        parts={k: {"spearman_r": v["spearman_r"], "spearman_p": v["spearman_p"], "n": v["n"], "holds": verdicts[k]}
               for k, v in parts.items()},
        criterion=ds.attrs.get("criterion", "") or None,
        n_excluded={"lr_sweep": int(sweep.sizes["run"] - sweep_m.sizes["run"]),
                    "terms": int(terms_all.sizes["run"] - terms.sizes["run"])},
        alpha=alpha, n=int(terms.sizes["run"] + bio_sweep.sizes["run"]), preset=preset, holds=all(verdicts.values()),
    )


def claims_remedies(ds: xr.Dataset, *, task: str, reference: str, lr_rules: list[str], windows: list[int],
                    alpha: float, tolerance: float, preset: str) -> dict[str, dict]:
    """Claim rows B5 (stability bound) and B6 (remedies) from the remedies task's summary."""
    return {"B5": claim_b5(ds, task=task, reference=reference, lr_rules=lr_rules, tolerance=tolerance, preset=preset),
            "B6": claim_b6(ds, task=task, reference=reference, lr_rules=lr_rules, windows=windows, alpha=alpha,
                           preset=preset)}
