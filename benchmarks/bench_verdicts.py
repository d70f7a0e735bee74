"""The verdict rules on simulated runs with a known truth: the tables of docs/verdicts.md.

    python benchmarks/bench_verdicts.py [--draws 4000 --boot-draws 1000] > docs/verdicts-tables.md

Per-run values of two rules (BPTT ~ F, e-prop ~ F + Δ; F normal or right-skewed lognormal, standard deviation 0.01,
about the spread of study A's per-run distances), the equivalence verdict against ±0.05 at 95%:

1. holds / fails / inconclusive and the interval's coverage for Δ inside, on and outside the margin, per interval
   method and runs per rule (the false-holds rate is the holds column at Δ = 0.05);
2. two independent seed sets with Δ on the margin: how often one holds and the other fails, three-valued rule vs
   the two-valued rule of before;
3. a composite of three levels (A3) with one level on the margin: false holds with and without Bonferroni;
4. A5's excess of between- over within-rule pairwise distances: coverage when the interval resamples runs
   (jackknife, biocredit.stats.pairwise_excess_ci) vs the previous bootstrap of pair values as if independent.

Everything is seeded; the draws per cell are printed with each table. Functions: biocredit.claims.simulation.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from biocredit.claims.simulation import composite_false_holds, equivalence_rates, two_set_contradictions
from biocredit.stats import difference_of_means, pairwise_excess_ci

DELTAS = (0.0, 0.025, 0.05, 0.075, 0.1)


def table_rates(draws: int, boot_draws: int) -> str:
    lines = ["| runs/rule | F | method | draws | Δ | holds | fails | inconclusive | coverage |", "|" + "---|" * 9]
    for n in (5, 10):
        for shape in ("normal", "lognormal"):
            for method in ("welch", "bootstrap-t", "bca", "percentile"):
                d = draws if method == "welch" else boot_draws
                for delta in DELTAS:
                    r = equivalence_rates(delta=delta, n=n, draws=d, method=method, shape=shape, seed=11)
                    mark = "**" if delta == 0.05 else ""
                    lines.append(f"| {n} | {shape} | {method} | {d} | {delta:g} | {mark}{r['holds']:.3f}{mark} | "
                                 f"{r['fails']:.3f} | {r['inconclusive']:.3f} | {r['coverage']:.3f} |")
    return "\n".join(lines)


def table_contradictions(draws: int) -> str:
    lines = ["| runs/rule | Δ | draws (pairs) | three-valued: holds↔fails | two-valued: holds↔fails |",
             "|" + "---|" * 5]
    for n in (5, 10):
        for delta in (0.04, 0.05, 0.06):
            three = two_set_contradictions(delta=delta, n=n, draws=draws, seed=12)
            two = two_set_contradictions(delta=delta, n=n, draws=draws, seed=12, three_valued=False)
            lines.append(f"| {n} | {delta:g} | {draws} | {three:.4f} | {two:.4f} |")
    return "\n".join(lines)


def table_composite(draws: int) -> str:
    lines = ["| parts | Bonferroni | draws | holds (false) | fails |", "|---|---|---|---|---|"]
    for adjust in (False, True):
        r = composite_false_holds(k=3, draws=draws, adjust=adjust, seed=13)
        lines.append(f"| 3 (one on the margin) | {'yes' if adjust else 'no'} | {draws} | {r['holds']:.4f} | "
                     f"{r['fails']:.4f} |")
    return "\n".join(lines)


def _points(rng, k, shift, dim=4):
    g = np.repeat([0, 1], k)
    return rng.normal(size=(2 * k, dim)) + shift * g[:, None] * np.eye(dim)[0], g


def _excess(d, g):
    iu = np.triu_indices(len(g), 1)
    same = g[iu[0]] == g[iu[1]]
    return d[iu][~same].mean() - d[iu][same].mean(), d[iu][~same], d[iu][same]


def table_pairs(draws: int) -> str:
    lines = ["| runs/rule | draws | truth | runs resampled (jackknife t) | pairs resampled (old) |",
             "|---|---|---|---|---|"]
    rng = np.random.default_rng(14)
    big, gb = _points(rng, 1500, 0.4)
    truth = _excess(np.linalg.norm(big[:, None] - big[None], axis=-1), gb)[0]
    for k in (5, 10):
        jack = old = 0
        for i in range(draws):
            x, g = _points(rng, k, 0.4)
            d = np.linalg.norm(x[:, None] - x[None], axis=-1)
            lo, hi = pairwise_excess_ci(d, g)["ci"]
            jack += lo <= truth <= hi
            _, between, within = _excess(d, g)
            lo, hi = difference_of_means(between, within, n_boot=999, n_perm=1, seed=i)["ci"]
            old += lo <= truth <= hi
        lines.append(f"| {k} | {draws} | {truth:.4f} | {jack / draws:.3f} | {old / draws:.3f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--draws", type=int, default=4000, help="simulated experiments per cell (Welch, pairs)")
    parser.add_argument("--boot-draws", type=int, default=1000, help="per cell for the bootstrap methods")
    args = parser.parse_args()
    start = time.perf_counter()
    print("### 1. Verdicts and coverage (margin ±0.05, per-run sd 0.01, 95%)\n")
    print(table_rates(args.draws, args.boot_draws))
    print("\n### 2. Two seed sets, same truth: holds on one and fails on the other (Welch, 95%)\n")
    print(table_contradictions(args.draws))
    print("\n### 3. A composite of three levels, one on the margin (Welch, 5 runs per rule)\n")
    print(table_composite(args.draws))
    print("\n### 4. A5: interval of the between- minus within-rule distance (4-d points, shift 0.4; 95%)\n")
    print(table_pairs(min(args.draws, 2000)))
    print(f"\n({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
