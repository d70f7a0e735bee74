# Helpers of the scorecard (rules/scorecard.smk): the runs, architectures and matched level it reads.


def scorecard_runs():
    """Every training run the scorecard reads: all of study A's and study B's main grid, with rule, seed, metrics
    log and the Snakemake benchmark of its training job."""
    dirs = [
        (r, Path(r).parts[3], int(Path(r).parts[4][len("seed") :]))
        for r in similarity_runs()
        if Path(r).parts[3] in config["similarity"]["rules"]  # not the equal-lr sensitivity runs
    ]
    dirs += [
        (run_dir(STUDY_B, r["task"], r["arch"], r["rule"], r["seed"]), r["rule"], r["seed"])
        for r in B_RUNS
        if r["main"]
    ]
    return [
        {
            "metrics": f"results/runs/{d}/metrics.nc",
            "benchmark": f"results/benchmarks/train/{d}.tsv",
            "rule": rule,
            "seed": seed,
        }
        for d, rule, seed in dirs
    ]


def scorecard_archs():
    """The architecture each study-A dataset is scored at (the first of its task's list, as in the figures)."""
    return [archs_of(next(t for t in similarity_tasks() if dataset_of(t) == d))[0] for d in similarity_datasets()]


def scorecard_level():
    """The matched accuracy level of the Procrustes column: the middle of `similarity.matched_levels`."""
    levels = config["similarity"]["matched_levels"]
    return levels[len(levels) // 2]


def headline_figures():
    """The landing page's two study figures, (png, caption): A2 on the first dataset study A uses, B3 on study B's
    first task (the sharper minima, the paper's headline)."""
    figs = []
    if similarity_datasets():
        d = similarity_datasets()[0]
        figs.append((f"results/figures/A/A2_{d}.png", f"Study A: distance to {d} at matched accuracy (A2)"))
    if B_CFG["tasks"]:
        task = B_CFG["tasks"][0]
        figs.append(
            (f"results/figures/B/B3_{task}.png", f"Study B: top Hessian eigenvalue of each rule on {task} (B3)")
        )
    return figs
