"""The measurement stages of study A (``stages/networks.py``): what figure jobs A1 and A5 computed themselves before
(forward passes, recurrent spectra, DSA over pairs of runs) is now a NetCDF summary. Each test computes the numbers
the old way, inside the test, from the same files, and compares."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import torch
import xarray as xr

from biocredit.data.hatsopoulos import load_hatsopoulos, make_fake_hatsopoulos_npy
from biocredit.dynamics import dsa_distance, dynamics_similarity, recurrent_spectrum
from biocredit.io import write_netcdf
from biocredit.model import RateRNN
from biocredit.stages.networks import network_dynamics, network_outputs
from biocredit.stages.train import train_run
from biocredit.stats import pairwise_excess_ci
from biocredit.tasks import build_task
from biocredit.train import load_checkpoints

DSA = {"n_delays": 2, "rank": 4, "iters": 15, "lr": 0.01}
RANK = 3
LEVEL = 0.5
# accuracy per checkpoint of each run: (rule, seed) -> curve; "rflo" is not compared, (eprop, 3) never gets there
CURVES = {("bptt", 1): [0.10, 0.50, 0.80, 0.90], ("bptt", 2): [0.20, 0.40, 0.60, 0.95],
          ("eprop", 1): [0.10, 0.30, 0.70, 0.85], ("eprop", 2): [0.15, 0.55, 0.75, 0.80],
          ("eprop", 3): [0.10, 0.12, 0.14, 0.16], ("rflo", 1): [0.10, 0.90, 0.90, 0.90]}
RULES = ["bptt", "eprop"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Fake recordings and one tiny trained network per run of CURVES (real checkpoint files)."""
    tmp = tmp_path_factory.mktemp("networks")
    raw = tmp / "fake.npy"
    sha = make_fake_hatsopoulos_npy(raw, n_units=6)
    data = tmp / "data.nc"
    write_netcdf(load_hatsopoulos(raw, sha256=sha), data)
    kw = dict(task="reach", task_cfg={}, arch="base", arch_cfg={"n_hidden": 8}, device="cpu", progress=False,
              train_cfg={"n_updates": 6, "lr": 5e-3, "batch_size": 4, "n_test_trials": 4, "checkpoints": [0, 2, 4, 6]})
    ckpts = {}
    for rule, seed in CURVES:
        ckpts[(rule, seed)] = tmp / rule / f"seed{seed}" / "checkpoints.pt"
        train_run(str(data), str(ckpts[(rule, seed)]), str(ckpts[(rule, seed)].with_name("metrics.nc")),
                  rule=rule, seed=seed, **kw)
    return tmp, data, ckpts


def _activity_files(tmp, ckpts) -> list[str]:
    """An ``activity.nc`` per run with the accuracy curve of CURVES at the run's checkpoints and random rates."""
    rng = np.random.default_rng(5)
    paths = []
    for (rule, seed), ckpt in ckpts.items():
        _, steps, _ = load_checkpoints(ckpt)
        curve = CURVES[(rule, seed)]
        assert len(steps) == len(curve), steps
        rate = rng.normal(size=(len(steps), 8, 30, 4)).cumsum(axis=2) / 5
        act = xr.Dataset({"rate": (("checkpoint", "unit", "time", "condition"), rate),
                          "accuracy": ("checkpoint", np.asarray(curve))},
                         coords={"checkpoint": steps}, attrs={"rule": rule, "seed": seed})
        path = tmp / rule / f"seed{seed}" / "activity.nc"
        write_netcdf(act, path)
        paths.append(str(path))
    return paths


def _summary_file(tmp) -> str:
    """A similarity summary holding the accuracy curves of CURVES (dims rule, arch, seed, checkpoint)."""
    rules, seeds = sorted({r for r, _ in CURVES}), sorted({s for _, s in CURVES})
    acc = np.full((len(rules), 1, len(seeds), 4), np.nan)
    for (rule, seed), curve in CURVES.items():
        acc[rules.index(rule), 0, seeds.index(seed)] = curve
    pr = np.linspace(1, 3, acc.size).reshape(acc.shape)
    ds = xr.Dataset({"accuracy": (("rule", "arch", "seed", "checkpoint"), acc),
                     "participation_ratio": (("rule", "arch", "seed", "checkpoint"), pr)},
                    coords={"rule": rules, "arch": ["base"], "seed": seeds, "checkpoint": np.arange(4)})
    path = tmp / "summary.nc"
    write_netcdf(ds, path)
    return str(path)


def _old_a5(summary: str, activities: list[str], checkpoints: list[str]):
    """What figure job A5 did before: the matched level from the first and best accuracies, then per run the first
    checkpoint reaching it, the W_rec eigenvalues there from the checkpoint, and DSA and the spectral distance over
    every pair of the runs reached, in file order."""
    with xr.open_dataset(summary) as s:
        acc = s["accuracy"].sel(rule=RULES).load()
    lo = float(acc.isel(checkpoint=0).max())
    hi = float(acc.max(dim=["arch", "seed", "checkpoint"]).min())
    target = lo + LEVEL * (hi - lo)
    rates, spectra, steps = {}, {}, {}
    for act_path, ckpt_path in zip(activities, checkpoints, strict=True):
        with xr.open_dataset(act_path) as act:
            key = (str(act.attrs["rule"]), int(act.attrs["seed"]))
            reached = [c for c, a in zip(act.checkpoint.values, act["accuracy"].values, strict=True) if a >= target]
            if key[0] not in RULES or not reached:
                continue
            step = int(reached[0])
            rates[key] = act["rate"].sel(checkpoint=step).transpose("unit", "time", "condition").values
        config, ckpt_steps, states = load_checkpoints(ckpt_path)
        model = RateRNN(config)
        model.load_state_dict(states[ckpt_steps.index(step)])
        spectra[key] = recurrent_spectrum(model.effective_w_rec().detach().double().numpy())
        steps[key] = step
    pairs = {(ka, kb): (dsa_distance(rates[ka], rates[kb], **DSA), dynamics_similarity(rates[ka], rates[kb],
                                                                                       rank=RANK))
             for ka, kb in itertools.combinations(rates, 2)}
    return target, steps, spectra, pairs


def test_network_dynamics_holds_what_figure_a5_computed(trained, tmp_path):
    tmp, _, ckpts = trained
    activities, summary = _activity_files(tmp, ckpts), _summary_file(tmp)
    checkpoints = [str(ckpts[k]) for k in CURVES]
    out = tmp_path / "dynamics.nc"
    network_dynamics(summary, activities, checkpoints, str(out), arch="base", rules=RULES, level=LEVEL, rank=RANK,
                     dsa=DSA)
    target, steps, spectra, pairs = _old_a5(summary, activities, checkpoints)
    assert set(steps) == {("bptt", 1), ("bptt", 2), ("eprop", 1), ("eprop", 2)}  # rflo and (eprop, 3) left out

    with xr.open_dataset(out) as ds:
        ds = ds.load()
    assert ds.attrs["level_accuracy"] == pytest.approx(target, abs=1e-12)
    assert json.loads(ds.attrs["dsa"]) == DSA and ds.attrs["rank"] == RANK
    keys = [(str(r), int(s)) for r, s in zip(ds["rule"].values, ds["seed"].values, strict=True)]
    assert keys == list(steps)  # file order
    assert [int(x) for x in ds["step"].values] == [steps[k] for k in keys]
    for k, re, im in zip(keys, ds["eig_real"].values, ds["eig_imag"].values, strict=True):
        np.testing.assert_array_equal(re + 1j * im, spectra[k])
    got = {(keys[int(i)], keys[int(j)]): (float(d), float(e), str(kind)) for i, j, d, e, kind in zip(
        ds["a"].values, ds["b"].values, ds["dsa"].values, ds["spectral"].values, ds["kind"].values, strict=True)}
    assert set(got) == set(pairs)
    for (ka, kb), (d, e) in pairs.items():
        assert got[(ka, kb)][:2] == (d, e)
        assert got[(ka, kb)][2] == ("within" if ka[0] == kb[0] else "between")

    # the claim reads the pairs: its interval is the one over the old distance matrix
    from biocredit.claims.study_a import claim_a5

    with xr.open_dataset(summary) as s:
        summary_ds = s.load().sel(rule=RULES)
    row = claim_a5(summary_ds, ds, dataset="fake", rules=RULES, level=LEVEL, margin=0.1, rank=RANK, preset="test",
                   dsa=DSA, verdicts={"min_runs": 2})
    from biocredit.dynamics import pair_rows

    rows = pair_rows(ds)
    idx = {k: n for n, k in enumerate(keys)}
    matrix = np.zeros((len(keys), len(keys)))
    for (ka, kb), (d, _) in pairs.items():
        matrix[idx[ka], idx[kb]] = matrix[idx[kb], idx[ka]] = d
    cfg_level = row["ci_level"]
    expected = pairwise_excess_ci(matrix, np.array([k[0] for k in keys]), level=cfg_level, min_n=2)
    assert row["value"] == expected["diff"] and row["ci"] == list(expected["ci"])
    assert len(rows) == len(pairs) and {r["kind"] for r in rows} == {"within", "between"}


def test_network_dynamics_names_a_mismatch_of_files(trained, tmp_path):
    tmp, _, ckpts = trained
    with pytest.raises(ValueError, match="2 activity files but 1 checkpoint"):
        network_dynamics(_summary_file(tmp), ["a.nc", "b.nc"], ["a.pt"], str(tmp_path / "d.nc"), arch="base",
                         rules=RULES, level=LEVEL, rank=RANK, dsa=DSA)


def test_a_damaged_activity_file_is_named(trained, tmp_path):
    from biocredit.io import CorruptFileError

    tmp, _, ckpts = trained
    bad = tmp_path / "activity.nc"
    bad.write_bytes(b"not a netcdf file")
    with pytest.raises(CorruptFileError, match=str(bad)):
        network_dynamics(_summary_file(tmp), [str(bad)], [str(ckpts[("bptt", 1)])], str(tmp_path / "d.nc"),
                         arch="base", rules=RULES, level=LEVEL, rank=RANK, dsa=DSA)


def test_network_outputs_hold_what_figure_a1_computed(trained, tmp_path):
    tmp, data, ckpts = trained
    checkpoints = [str(ckpts[("bptt", 1)]), str(ckpts[("eprop", 1)])]
    out = tmp_path / "outputs.nc"
    network_outputs(str(data), checkpoints, str(out), task="reach", task_cfg={}, rules=RULES)
    with xr.open_dataset(data) as rec:
        t = build_task("reach", {}, rec.load())
    batch = t.analysis_batch()
    with xr.open_dataset(out) as ds:
        ds = ds.load()
    np.testing.assert_array_equal(ds["x"].values, batch.x.numpy())
    np.testing.assert_array_equal(ds["y"].values, batch.y.numpy())
    np.testing.assert_array_equal(ds["mask"].values, batch.mask.numpy())
    assert ds.attrs["dt_ms"] == t.dt_ms
    for rule, path in zip(RULES, checkpoints, strict=True):
        config, _, states = load_checkpoints(path)
        model = RateRNN(config)
        model.load_state_dict(states[-1])
        with torch.no_grad():
            expected = model(batch.x)[0].numpy()
        np.testing.assert_array_equal(ds["output"].sel(rule=rule).values, expected)
    with pytest.raises(ValueError, match="1 checkpoint files for 2 rules"):
        network_outputs(str(data), checkpoints[:1], str(tmp_path / "o.nc"), task="reach", task_cfg={}, rules=RULES)


def test_figure_a1_and_a5_draw_from_the_summaries_alone(trained, tmp_path):
    """The claim stage writes A5's row from the summaries; the figure stages draw from the summaries and the row, and
    import no model, training or task code."""
    import subprocess
    import sys

    from biocredit.stages.claims_a import claim_a5
    from biocredit.stages.figures_a import figure_a1, figure_a5
    from biocredit.stages.similarity import matched_participation

    tmp, data, ckpts = trained
    outputs, dyn = tmp_path / "outputs.nc", tmp_path / "dynamics.nc"
    network_outputs(str(data), [str(ckpts[("bptt", 1)]), str(ckpts[("eprop", 1)])], str(outputs), task="reach",
                    task_cfg={}, rules=RULES)
    summary = _summary_file(tmp)
    network_dynamics(summary, _activity_files(tmp, ckpts), [str(ckpts[k]) for k in CURVES], str(dyn), arch="base",
                     rules=RULES, level=LEVEL, rank=RANK, dsa=DSA)
    figure_a1(str(data), str(outputs), str(tmp_path / "a1.png"), str(tmp_path / "a1.pdf"), task="reach")
    claim_a5(summary, str(dyn), str(tmp_path / "a5.json"), dataset="fake", arch="base", rules=RULES, level=LEVEL,
             margin=0.1, rank=RANK, preset="test", dsa=DSA)
    matched_participation(summary, str(tmp_path / "pr.nc"), dataset="fake", arch="base", rules=RULES, n_grid=5)
    figure_a5(summary, str(dyn), str(tmp_path / "pr.nc"), str(tmp_path / "a5.json"), str(tmp_path / "a5.png"),
              str(tmp_path / "a5.pdf"), dataset="fake", arch="base", rules=RULES)
    assert (tmp_path / "a1.png").stat().st_size > 10_000 and (tmp_path / "a5.png").stat().st_size > 10_000
    assert json.loads((tmp_path / "a5.json").read_text())["id"] == "A5-fake"
    loaded = subprocess.run([sys.executable, "-c", "import sys, biocredit.stages.figures_a; "
                             "print(sorted(m for m in sys.modules if m.startswith('biocredit')))"],
                            capture_output=True, text=True, check=True).stdout
    for module in ("biocredit.model", "biocredit.train", "biocredit.learning", "biocredit.tasks"):
        assert f"'{module}'" not in loaded, module
