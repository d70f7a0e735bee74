"""A training job killed part-way resumes from its last state and ends with the uninterrupted run's numbers."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
import xarray as xr

from biocredit.data.hatsopoulos import load_hatsopoulos, make_fake_hatsopoulos_npy
from biocredit.io import write_netcdf
from biocredit.stages.train import train_run
from biocredit.train import load_checkpoints
from tests.killed import Killed, die_after

KW = dict(
    task="reach", task_cfg={"n_steps": 300}, arch="tiny", arch_cfg={"n_hidden": 8}, rule="eprop", seed=7,
    train_cfg={"n_updates": 500, "lr": 3e-3, "batch_size": 4, "n_test_trials": 4}, device="cpu",
    progress=False, resume_every=5,
)  # fmt: skip


@pytest.fixture
def recordings(tmp_path):
    raw = tmp_path / "fake.npy"
    sha = make_fake_hatsopoulos_npy(raw, n_units=6)
    path = tmp_path / "data.nc"
    write_netcdf(load_hatsopoulos(raw, sha256=sha), path)
    return path


def _outputs(folder):
    with xr.open_dataset(folder / "metrics.nc") as m:
        metrics = m.load()
    return metrics, load_checkpoints(folder / "checkpoints.pt")


@pytest.mark.slow
def test_killed_job_resumes_to_identical_numbers(tmp_path, recordings):
    ref, cut = tmp_path / "ref", tmp_path / "cut"
    train_run(str(recordings), str(ref / "checkpoints.pt"), str(ref / "metrics.nc"), **KW)

    script = (
        "import json, sys; from biocredit.stages.train import train_run; "
        "kw = json.loads(sys.argv[1]); train_run(sys.argv[2], sys.argv[3], sys.argv[4], **kw)"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, json.dumps(KW), str(recordings),
                             str(cut / "checkpoints.pt"), str(cut / "metrics.nc")])
    resume = cut / "resume.pt"
    deadline = time.time() + 120
    while not resume.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    assert proc.poll() is None, "the job finished before it could be killed; make it longer"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert resume.exists() and not (cut / "checkpoints.pt").exists()
    step_at_kill = int(torch.load(resume, weights_only=True)["step"])
    assert 0 < step_at_kill < KW["train_cfg"]["n_updates"]

    train_run(str(recordings), str(cut / "checkpoints.pt"), str(cut / "metrics.nc"), **KW)
    assert not resume.exists()
    (m_ref, (c_ref, s_ref, st_ref)), (m_cut, (c_cut, s_cut, st_cut)) = _outputs(ref), _outputs(cut)
    for name in m_ref.data_vars:
        np.testing.assert_array_equal(m_ref[name].values, m_cut[name].values, err_msg=name)
    assert c_ref == c_cut and s_ref == s_cut
    for a, b in zip(st_ref, st_cut, strict=True):
        for k in a:
            assert torch.equal(a[k], b[k]), k


def test_resume_file_of_another_run_is_ignored(tmp_path, recordings):
    out = tmp_path / "run"
    out.mkdir()
    (out / "resume.pt").write_bytes(b"garbage, not a torch file")
    kw = dict(KW, train_cfg=dict(KW["train_cfg"], n_updates=20))
    train_run(str(recordings), str(out / "checkpoints.pt"), str(out / "metrics.nc"), **kw)
    ref = tmp_path / "ref"
    train_run(str(recordings), str(ref / "checkpoints.pt"), str(ref / "metrics.nc"), **kw)
    np.testing.assert_array_equal(_outputs(out)[0].loss.values, _outputs(ref)[0].loss.values)


def test_resume_restores_a_finite_training_set_sampler(tmp_path):
    """Tasks with a finite training set draw epochs from a stateful sampler; a resumed run continues its epoch."""
    from biocredit.learning import BPTT
    from biocredit.model import ModelConfig
    from biocredit.tasks import SequentialDigits
    from biocredit.train import TrainConfig, train

    def run(resume=None, kill_after=None):
        task = SequentialDigits.from_sklearn_digits(n_train=40, n_validation=20, n_test=20, seed=0)
        die_after(task, kill_after)
        cfg = TrainConfig(n_updates=30, lr=1e-2, batch_size=16, n_test_trials=8, checkpoints=(0, 30),
                          optimizer="sgd", activity_penalty=0.0)
        return train(task, ModelConfig(8, 12, 10, tau=1.0, activation="relu"), BPTT(), cfg, seed=1,
                     progress=False, resume_path=resume, resume_every=7)

    ref = run()
    resume = tmp_path / "resume.pt"
    with pytest.raises(Killed):
        run(resume, kill_after=20)  # 1 test batch + 19 updates: the last resume state is at update 14, mid-epoch
    assert int(torch.load(resume, weights_only=True)["step"]) == 14
    resumed = run(resume)
    np.testing.assert_array_equal(resumed.metrics.loss.values, ref.metrics.loss.values)
