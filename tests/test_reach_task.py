"""The reach task against its written definition."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from biocredit.tasks.reach import BUMP, BUMP_ON, ReachTask, normalized_error


def test_analysis_trials_follow_the_definition(reach_task):
    batch = reach_task.analysis_batch()
    assert batch.x.shape == (8, 250, 3) and batch.y.shape == (8, 250, 2)
    i1, i2 = 25, 105
    t_hold = i1 + 23 + i2
    for c in range(8):
        theta = np.deg2rad(45.0 * c)
        np.testing.assert_allclose(batch.x[c, i1 + 1 : i1 + 24, 0].numpy(), np.sin(theta) * BUMP, atol=1e-6)
        np.testing.assert_allclose(batch.x[c, i1 + 1 : i1 + 24, 1].numpy(), np.cos(theta) * BUMP, atol=1e-6)
        assert batch.x[c, : i1 + 1, :2].abs().max() == 0 and batch.x[c, i1 + 24 :, :2].abs().max() == 0
        hold = batch.x[c, :, 2].numpy()
        assert hold[0] == 0 and np.all(hold[1 : t_hold - 7] == 1)
        np.testing.assert_allclose(hold[t_hold - 7 : t_hold + 1], BUMP_ON[::-1], atol=1e-6)
        assert np.all(hold[t_hold + 1 :] == 0)
        onset = t_hold + 1 - 10
        np.testing.assert_allclose(batch.y[c, onset : onset + 51].numpy().T, reach_task.targets[c], atol=1e-6)
        mask = batch.mask[c].numpy()
        assert np.all(mask[: onset + 51] == 1) and np.all(mask[onset + 51 :] == 0)


def test_targets_are_the_joint_angles_from_minus_100_ms(reach_task):
    times = reach_task.times_ms
    start = int(np.flatnonzero(times == -100)[0])
    assert reach_task.targets.shape == (8, 2, 51)
    # targets were cut from the recordings' grid starting at -100 ms
    rng = np.random.default_rng(0)
    angles = np.cumsum(rng.normal(size=(8, 2, 121)), axis=-1) / 20
    np.testing.assert_array_equal(reach_task.targets, angles[:, :, start : start + 51])


def test_training_batch_covers_directions_and_is_seeded(reach_task):
    b1 = reach_task.sample_batch(20, np.random.default_rng(3))
    b2 = reach_task.sample_batch(20, np.random.default_rng(3))
    b3 = reach_task.sample_batch(20, np.random.default_rng(4))
    assert torch.equal(b1.x, b2.x) and not torch.equal(b1.x, b3.x)
    assert b1.condition[:8].tolist() == list(range(8))


def test_analysis_window_maps_recording_time_to_model_steps(reach_task):
    steps = reach_task.analysis_steps
    assert steps[0] == 185 - 80 and steps[-1] == 185 + 40 and len(steps) == 121
    with pytest.raises(ValueError, match="movement_onset_step=240"):
        ReachTask(reach_task.targets.repeat(3, axis=2)[:, :, :121], reach_task.times_ms, np.arange(8) * 45.0,
                  movement_onset_step=240)


def test_accuracy_is_one_minus_normalized_error(reach_task):
    batch = reach_task.sample_batch(30, np.random.default_rng(0))
    assert reach_task.accuracy(batch.y.clone(), batch) == pytest.approx(1.0)
    out = torch.randn_like(batch.y)
    sel = batch.mask.numpy().reshape(-1) > 0
    y = out.numpy().reshape(-1, 2)[sel].astype(float)
    t = batch.y.numpy().reshape(-1, 2)[sel].astype(float)
    ne = np.mean(((y - t) ** 2).sum(0) / ((t - t.mean(0)) ** 2).sum(0))
    assert normalized_error(out, batch.y, batch.mask) == pytest.approx(ne, rel=1e-6)
    # predicting each output's mean scores exactly 0
    mean_out = torch.as_tensor(np.broadcast_to(t.mean(0), out.shape).copy(), dtype=torch.float32)
    assert reach_task.accuracy(mean_out, batch) == pytest.approx(0.0, abs=1e-5)


def test_loss_is_masked_mse(reach_task):
    batch = reach_task.sample_batch(5, np.random.default_rng(1))
    out = torch.randn_like(batch.y)
    m = batch.mask.numpy()[..., None]
    want = (((out.numpy() - batch.y.numpy()) ** 2) * m).sum() / (m.sum() * 2)
    assert float(reach_task.loss(out, batch)) == pytest.approx(want, rel=1e-5)


def test_too_short_trials_are_refused(reach_task):
    with pytest.raises(ValueError, match="n_steps=200"):
        ReachTask(np.zeros((8, 2, 121)), reach_task.times_ms, np.arange(8) * 45.0, n_steps=200)
