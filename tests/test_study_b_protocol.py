"""Study B's protocol (the authors': fixed budgets, every run kept, compared at the end; groups fixed in the
config), and seed_offset.

The claims are tested on hand-built run files whose answer is known: each run's final gap and curvature, and a
separate rule (truncated BPTT) whose values would flip the verdicts if it were (wrongly) pooled with the bio group.
Expected intervals come from scipy, not from the library.
"""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

from biocredit import runs as run_grid
from biocredit.claims import study_b as claims_b
from biocredit.stages.generalization import summarize
from biocredit.train import TrainConfig
from tests.conftest import REPO

CFG = {
    "tasks": ["sdigits", "decision"],
    "arch": "small",
    "task_arch": {"decision": "leaky"},
    "rules": ["bptt", "tbptt-w4", "eprop"],
    "seeds": [1, 2],
    "updates_factor": {"eprop": 1.6},
    "training": {"n_updates": 100, "n_checkpoints": 10, "lr": 0.1, "batch_size": 8, "weight_decay": 1e-3},
    "remedies": {"task": "sdigits", "lr_rules": ["bptt", "eprop"], "lrs": [0.05, 0.1], "windows": [2, 4]},
}


# ---------------------------------------------------------------------------------------------- config


def test_every_run_trains_its_fixed_budget():
    c = run_grid.train_config(CFG, "sdigits", "eprop")
    assert c["n_updates"] == 160 and c["checkpoints"] == run_grid.evaluation_schedule(160, 10)
    assert "stop_at" not in c and run_grid.train_config(CFG, "sdigits", "tbptt-w4")["n_updates"] == 100
    TrainConfig(**c)
    assert not hasattr(run_grid, "criterion_of")


def test_groups_are_fixed_in_the_config():
    g = run_grid.groups_of({**CFG, "groups": {"reference": "bptt", "bio": ["eprop", "rflo", "mdgl"]}})
    assert g == {"reference": "bptt", "bio": ["eprop"], "separate": ["tbptt-w4"]}  # untrained bio rules left out
    with pytest.raises(ValueError, match="reference 'rflo'"):
        run_grid.groups_of({**CFG, "groups": {"reference": "rflo"}})
    with pytest.raises(ValueError, match="names none"):
        run_grid.groups_of({**CFG, "groups": {"reference": "bptt", "bio": ["mdgl"]}})


def test_seed_offset_shifts_every_seed_and_nothing_else():
    base, shifted = run_grid.grid(CFG), run_grid.grid(CFG, seed_offset=100)
    assert len(base) == len(shifted)
    for a, b in zip(base, shifted, strict=True):
        assert b["seed"] == a["seed"] + 100
        assert {k: v for k, v in a.items() if k != "seed"} == {k: v for k, v in b.items() if k != "seed"}
    with pytest.raises(ValueError, match="seed_offset"):
        run_grid.grid(CFG, seed_offset=-1)


def _jobs(text: str, offset: int) -> set[tuple[str, str, str]]:
    """(rule, output, wildcards) of every job of a dry run, with the seeds shifted back by ``offset``."""
    jobs, rule, output = set(), None, ""
    for line in text.splitlines():
        s = line.strip()
        if re.match(r"^(local)?rule \w+:$", s):
            rule, output = s.split()[-1].rstrip(":"), ""
        elif s.startswith("output:"):
            output = s
        elif s.startswith("wildcards:") and rule:
            wc = s
            if offset:
                output = re.sub(r"seed(\d+)", lambda m: f"seed{int(m.group(1)) - offset}", output)
                wc = re.sub(r"seed=(\d+)", lambda m: f"seed={int(m.group(1)) - offset}", wc)
            jobs.add((rule, output, wc))
    return jobs


@pytest.mark.slow
def test_seed_offset_changes_only_the_seeds_of_the_workflow(tmp_path):
    def dry(*extra):
        args = [sys.executable, "-m", "snakemake", "-n", "-s", str(REPO / "Snakefile"), "-d", str(tmp_path),
                "--configfile", str(REPO / "config.yaml"), str(REPO / "tests/smoke/config.yaml"), *extra]
        proc = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        return proc.stdout + proc.stderr

    plain, shifted = dry(), dry("--config", "seed_offset=100")
    seeds = {int(s) for s in re.findall(r"seed=(\d+)", shifted)}
    assert seeds and min(seeds) > 100
    assert "results/runs/similarity/" in shifted and "results/runs/generalization/" in shifted
    assert any(j[0] == "train" and "similarity" in j[1] for j in _jobs(shifted, 100))
    assert _jobs(shifted, 100) == _jobs(plain, 0)
    assert _jobs(shifted, 0) != _jobs(plain, 0)


# ---------------------------------------------------------------------------------------------- oracle

STEPS = np.arange(0, 301, 50)
GROUPS = {"reference": "bptt", "bio": ["eprop", "rflo"], "separate": ["tbptt-w4"]}
THRESHOLDS = {"alpha": 0.05, "min_n": 3, "train_margin": 0.05, "sesoi_gap": 0.01, "sesoi_log_ratio": 0.1,
              "sesoi_correlation": 0.1}
# final values per (rule, seed): BPTT small gap and curvature; the bio rules larger; tBPTT (separate) smaller than
# BPTT on both, so that pooling it with the bio group would flip B2 and B3
GAP = {"bptt": [0.02, 0.03, 0.025, 0.035, 0.03], "eprop": [0.20, 0.35, 0.12, 0.28, 0.50],
       "rflo": [0.15, 0.40, 0.22, 0.60, 0.18], "tbptt-w4": [-0.9, -1.1, -1.0, -0.8, -1.2]}
LAM = {"bptt": [10.0, 11.0, 12.0, 10.5, 11.5], "eprop": [60.0, 90.0, 45.0, 70.0, 120.0],
       "rflo": [50.0, 100.0, 80.0, 150.0, 55.0], "tbptt-w4": [0.5, 0.4, 0.6, 0.45, 0.55]}
TRAIN_ACC = {"bptt": [0.95, 0.96, 0.955, 0.95, 0.96], "eprop": [0.94, 0.95, 0.945, 0.955, 0.95],
             "rflo": [0.70, 0.72, 0.69, 0.71, 0.70], "tbptt-w4": [0.95, 0.95, 0.96, 0.95, 0.955]}


def _run_files(tmp_path, rule, seed, *, with_validation_set=True):
    """One run's metrics and hessian files, trained for the whole budget: at its last checkpoint the clean
    validation − training loss gap is GAP, the training accuracy TRAIN_ACC and the top eigenvalue LAM. The validation
    batch (256 images) reads a different gap (+1), and so does the noisy test set (+2): neither is the claim's."""
    i = seed - 1
    n = len(STEPS)
    train_loss = np.linspace(2.0, 0.2, n)
    gap = GAP[rule][i] * np.arange(n) / (n - 1)
    acc = np.linspace(0.1, TRAIN_ACC[rule][i], n)
    data = {"train_set_loss": train_loss, "train_set_accuracy": acc,
            "validation_loss": train_loss + gap + (1.0 if with_validation_set else 0.0),
            "validation_accuracy": acc - 0.01, "test_loss": train_loss + gap + 2.0, "test_accuracy": acc - 0.2,
            "grad_cosine": np.full(n, 1.0 if rule == "bptt" else 0.5)}
    if with_validation_set:
        data |= {"validation_set_loss": train_loss + gap, "validation_set_accuracy": acc - 0.01}
    m = xr.Dataset({k: ("checkpoint", v) for k, v in data.items()}, coords={"checkpoint": STEPS},
                   attrs={"diverged_at": -1})
    lam = LAM[rule][i]
    hk = [0, n // 2, n - 1]
    h = xr.Dataset(
        {"lambda_max": ("checkpoint", np.linspace(lam / 4, lam, len(hk))),
         "trace": ("checkpoint", np.full(len(hk), 3.0 * lam)),
         "density_nodes": ("node", [0.0, lam]), "density_weights": ("node", [0.9, 0.1])},
        coords={"checkpoint": STEPS[hk]},
    )
    mp, hp = tmp_path / f"{rule}-{seed}-m.nc", tmp_path / f"{rule}-{seed}-h.nc"
    m.to_netcdf(mp)
    h.to_netcdf(hp)
    return str(mp), str(hp)


def _summary(tmp_path, **kw):
    runs, metrics, hessians = [], [], []
    for rule in GAP:
        for seed in range(1, 6):
            m, h = _run_files(tmp_path, rule, seed, **kw)
            runs.append({"task": "smnist", "arch": "b_relu", "rule": rule, "seed": seed, "main": True,
                         "lr_sweep": False, "terms": False})
            metrics.append(m)
            hessians.append(h)
    out = tmp_path / "summary.nc"
    summarize(metrics, hessians, runs, str(out), task="smnist", reference="bptt", base_lr=0.01)
    return xr.open_dataset(out).load()


@pytest.fixture
def oracle(tmp_path):
    return _summary(tmp_path)


def _of(d, rules):
    return np.concatenate([np.asarray(d[r], dtype=float) for r in rules])


def test_summary_reads_every_run_at_the_end_of_its_budget(oracle):
    ds = oracle
    assert ds.sizes["run"] == 20 and ds.attrs["held_out"] == "validation_set"
    expect = np.array([GAP[r][s - 1] for r, s in zip(ds.rule.values, ds.seed.values, strict=True)])
    np.testing.assert_allclose(ds.gap_loss.values, expect, atol=1e-12)  # the clean validation set, not the batch
    np.testing.assert_allclose(ds.gap_noisy_loss.values, expect + 2.0, atol=1e-12)
    np.testing.assert_array_equal(ds.final_update.values, np.full(20, 300.0))
    lam = np.array([LAM[r][s - 1] for r, s in zip(ds.rule.values, ds.seed.values, strict=True)])
    np.testing.assert_allclose(ds.lambda_final.values, lam, rtol=1e-12)


def test_without_a_validation_set_the_gap_uses_the_validation_batch(tmp_path):
    ds = _summary(tmp_path, with_validation_set=False)
    assert ds.attrs["held_out"] == "validation"
    expect = np.array([GAP[r][s - 1] for r, s in zip(ds.rule.values, ds.seed.values, strict=True)])
    np.testing.assert_allclose(ds.gap_loss.values, expect, atol=1e-12)


def test_claims_pool_the_bio_group_only_and_use_sound_intervals(oracle):
    from scipy import stats as sps

    rows = claims_b.claims_main(oracle, task="smnist", groups=GROUPS, thresholds=THRESHOLDS, preset="test")
    bio, ref = _of(GAP, ["eprop", "rflo"]), np.array(GAP["bptt"])
    b2 = rows["B2"]
    assert b2["value"] == pytest.approx(bio.mean() - ref.mean(), rel=1e-9)
    ci = sps.ttest_ind(bio, ref, equal_var=False).confidence_interval(1 - 0.05 / 2)
    assert b2["ci"] == pytest.approx([ci.low, ci.high], rel=1e-9)
    assert b2["parts"] == {"mean": "holds", "spread": "holds"} and b2["verdict"] == "holds"
    assert b2["per_rule"]["tbptt-w4"]["group"] == "separate" and b2["per_rule"]["tbptt-w4"]["verdict"] == "fails"
    assert "extension" not in b2  # sMNIST is the paper's task
    b3 = rows["B3"]
    lbio, lref = np.log(_of(LAM, ["eprop", "rflo"])), np.log(LAM["bptt"])
    assert b3["value"] == pytest.approx(lbio.mean() - lref.mean(), rel=1e-9) and b3["verdict"] == "holds"
    assert rows["B4"]["n"] == 15 and rows["B4"]["verdict"] in ("holds", "inconclusive")
    rho = sps.spearmanr(_of(GAP, ["bptt", "eprop", "rflo"]), _of(LAM, ["bptt", "eprop", "rflo"])).statistic
    assert rows["B4"]["value"] == pytest.approx(rho)
    assert rows["B7"]["verdict"] == "holds"
    # pooling tBPTT with the bio group (a wrong grouping) flips B2 and B3
    wrong = {"reference": "bptt", "bio": ["eprop", "rflo", "tbptt-w4"], "separate": []}
    flipped = claims_b.claims_main(oracle, task="smnist", groups=wrong, thresholds=THRESHOLDS, preset="test")
    assert flipped["B2"]["verdict"] != "holds" and flipped["B3"]["verdict"] != "holds"


def test_b1_reports_each_rule_s_difference_and_is_no_gate(oracle):
    rows = claims_b.claims_main(oracle, task="smnist", groups=GROUPS, thresholds=THRESHOLDS, preset="test")
    b1 = {x["rule"]: x for x in rows["B1"]["rules"]}
    assert b1["eprop"]["diff"] == pytest.approx(np.mean(TRAIN_ACC["eprop"]) - np.mean(TRAIN_ACC["bptt"]))
    assert b1["eprop"]["verdict"] == "holds" and b1["rflo"]["verdict"] == "fails"
    assert b1["tbptt-w4"]["group"] == "separate"
    assert rows["B1"]["verdict"] == "fails"
    assert rows["B2"]["verdict"] == "holds"  # B2 is still decided: the premise is reported, not a gate


def test_too_few_runs_are_inconclusive(oracle):
    few = oracle.isel(run=np.flatnonzero((oracle.rule.values != "bptt") | (oracle.seed.values <= 2)))
    rows = claims_b.claims_main(few, task="smnist", groups=GROUPS, thresholds=THRESHOLDS, preset="test")
    assert rows["B2"]["verdict"] == "inconclusive" and rows["B3"]["verdict"] == "inconclusive"


def test_figures_draw_the_claims_numbers(oracle):
    import matplotlib.pyplot as plt

    from biocredit.figures import generalization as fg

    rules = ["bptt", "tbptt-w4", "eprop", "rflo"]
    rows = claims_b.claims_main(oracle, task="smnist", groups=GROUPS, thresholds=THRESHOLDS, preset="test")
    fig = fg.gap_by_rule(oracle, rules, "smnist", rows["B2"])
    assert len(fig.axes) == 4 and [t.get_text() for t in fig.axes[0].get_xticklabels()][0].endswith("(n=5)")
    assert "holds" in fig._suptitle.get_text()
    fig = fg.training_curves(oracle, rules, "smnist", rows["B1"])
    assert "RFLO" in fig._suptitle.get_text() and "fails" in fig._suptitle.get_text()
    fig = fg.gap_vs_curvature(oracle, rules, "smnist", rows["B4"])
    assert f"{rows['B4']['value']:.3g}" in fig.axes[0].get_title() and "n=15" in fig.axes[0].get_title()
    fg.curvature_by_rule(oracle, rules, "smnist", 0.01, rows["B3"])
    fg.diagnostics(oracle, rules, "smnist", rows["B7"])
    plt.close("all")


def test_remedies_count_every_run():
    # λ and the gap fall with lr and with terms kept, every run at the end of its budget
    names, lam, lrs, sweep, terms, gap = [], [], [], [], [], []
    for lr in (0.005, 0.01, 0.02, 0.04):
        for s in range(5):
            names.append("eprop" if lr == 0.01 else f"eprop-lr{lr}")
            lam.append(8.0 / lr + s)
            gap.append(1.0 / lr + 0.01 * s)
            lrs.append(lr)
            sweep.append(1)
            terms.append(0)
    for i, r in enumerate(["eprop", "mdgl", "tbptt-w2", "bptt"]):
        for s in range(5):
            names.append(r)
            lam.append(100.0 / (i + 1) + s)
            gap.append(1.0 / (i + 1) + 0.01 * s)
            lrs.append(0.01)
            sweep.append(0)
            terms.append(1)
    n = len(names)
    ds = xr.Dataset({"lambda_final": ("run", np.array(lam)), "gap_loss": ("run", np.array(gap))},
                    coords={"run": np.arange(n), "rule": ("run", np.array(names, dtype=object)),
                            "seed": ("run", np.arange(n) % 5 + 1),
                            "base_rule": ("run", np.array([run_grid.parse_variant(x)["rule"] for x in names],
                                                          dtype=object)),
                            "lr": ("run", np.array(lrs)), "lr_sweep": ("run", np.array(sweep)),
                            "terms": ("run", np.array(terms))})
    kw = {"task": "smnist", "reference": "bptt", "lr_rules": ["bptt", "eprop"], "windows": [2], "tolerance": 0.5,
          "thresholds": THRESHOLDS, "preset": "test"}
    b6 = claims_b.claims_remedies(ds, **kw)["B6"]
    assert b6["verdict"] == "holds", b6["parts"]
    assert b6["n"] == 40 and b6["learning_rates"] == [0.005, 0.01, 0.02, 0.04]
    rising = ds.assign(lambda_final=("run", -ds.lambda_final.values))
    assert claims_b.claims_remedies(rising, **kw)["B6"]["verdict"] == "fails"
