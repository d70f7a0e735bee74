"""User-supplied Sussillo 2015 data: the loader, the EMG task, and skipping when the files are absent."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io
import torch

from biocredit.data.sussillo import load_sussillo, make_fake_sussillo_files, read_mat_array
from biocredit.tasks.emg import EMGTask
from biocredit.tasks.reach import BUMP_ON
from tests.test_workflow import REPO, SMOKE, snakemake


@pytest.fixture
def files(tmp_path):
    return make_fake_sussillo_files(tmp_path / "sussillo")


def test_loader_layout_and_window(files):
    ds = load_sussillo(**files)
    raw = read_mat_array(files["neural"])
    assert ds["rate"].dims == ("unit", "time", "condition") and ds.sizes["time"] == 186
    assert float(ds.time[0]) == -1450 and float(ds.time[-1]) == 400
    np.testing.assert_array_equal(ds["rate"].values, raw[:, 10:, :])  # bins from -1450 ms onwards
    assert ds.sizes["emg_time"] == 66 and float(ds.emg_time[0]) == -250
    assert ds.sizes["plan_time"] == 196


def test_loader_errors_name_the_file(tmp_path, files):
    bad = tmp_path / "two.mat"
    scipy.io.savemat(bad, {"a": np.zeros((2, 2)), "b": np.ones((2, 2))})
    with pytest.raises(ValueError, match="two.mat"):
        read_mat_array(bad)
    np.testing.assert_array_equal(read_mat_array(f"{bad}:b"), np.ones((2, 2)))
    wrong = tmp_path / "emg.mat"
    scipy.io.savemat(wrong, {"e": np.zeros((7, 66, 5))})
    with pytest.raises(ValueError, match="emg.mat: emg must have shape"):
        load_sussillo(files["neural"], str(wrong), files["plan_input"])
    with pytest.raises(FileNotFoundError, match="nowhere.mat"):
        read_mat_array(tmp_path / "nowhere.mat")


def test_emg_task_trials(files):
    ds = load_sussillo(**files)
    task = EMGTask.from_dataset(ds)
    batch = task.analysis_batch()
    assert batch.x.shape == (27, 196, 16) and batch.y.shape == (27, 196, 7)
    plan = ds["plan_input"].sel(plan_time=-550.0).values.T
    plan = plan / np.abs(plan).max()
    s0, off = 38, 38 + 8 + 69
    c = 3
    np.testing.assert_allclose(batch.x[c, s0 + 8 : off, :15].numpy(), np.broadcast_to(plan[c], (69, 15)), atol=1e-6)
    np.testing.assert_allclose(batch.x[c, s0 : s0 + 8, 0].numpy(), plan[c, 0] * BUMP_ON, atol=1e-6)
    np.testing.assert_allclose(batch.x[c, off : off + 8, 15].numpy(), BUMP_ON[::-1], atol=1e-6)
    onset = off - 10
    np.testing.assert_allclose(batch.y[c, onset : onset + 66].numpy().T, ds["emg"].values[:, :, c], atol=1e-6)
    assert batch.mask[c, : onset + 66].min() == 1 and batch.mask[c, onset + 66 :].max() == 0
    assert list(task.analysis_steps[[0, -1]]) == [10, 195]
    assert task.accuracy(batch.y.clone(), batch) == pytest.approx(1.0)
    assert float(task.loss(torch.zeros_like(batch.y), batch)) > 0


def test_missing_user_data_is_skipped_with_one_message(tmp_path):
    out = snakemake("-n", "-d", str(tmp_path), "--configfile", str(REPO / "config.yaml"), str(SMOKE))
    text = out.stdout + out.stderr
    assert text.count("skipping dataset sussillo2015") == 1
    assert "emg" not in {line.split("wildcards:")[-1] for line in text.splitlines() if "task=emg" in line}
    assert "task=emg" not in text
    cfg = tmp_path / "user.yaml"
    cfg.write_text("user_data:\n  sussillo2015: {neural: /no/such.mat, emg: /no/e.mat, plan_input: /no/p.mat}\n")
    out = snakemake("-n", "-d", str(tmp_path), "--configfile", str(REPO / "config.yaml"), str(SMOKE), str(cfg),
                    check=False)
    assert out.returncode != 0  # a path that is given must exist (issue 13): an error naming its key, not a skip
    assert "user_data.sussillo2015.neural = /no/such.mat" in out.stdout + out.stderr


@pytest.mark.slow
def test_user_supplied_dataset_runs_when_given(tmp_path, files, mirror):
    cfg = tmp_path / "user.yaml"
    cfg.write_text("user_data:\n  sussillo2015:\n" + "".join(f"    {k}: {v}\n" for k, v in files.items())
                   + "similarity:\n  tasks: [emg]\n")
    snakemake("-d", str(tmp_path), "--configfile", str(REPO / "config.yaml"), str(SMOKE), str(cfg), "--cores", "2",
              "results/figures/A/A2_sussillo2015.png", "results/figures/A/A1_emg.png",
              env={"BIOCREDIT_DATA_MIRROR": str(mirror)})
    assert (tmp_path / "results/figures/A/A2_sussillo2015.png").stat().st_size > 10_000
    assert (tmp_path / "results/figures/A/A1_emg.png").exists()
