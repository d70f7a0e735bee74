"""The reach task against its written definition."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from biocredit.tasks.reach import ReachTask, normalized_error


def _authors_trial(target, theta, interval1, interval2, n_steps, offset=-10):
    """One trial as the authors' generator builds it (Hatsopoulos2007_sincosbumpinput_holdcue), in our words.

    Their event times are 1-based time steps (step k is array index k - 1); the reimplementation keeps their
    arithmetic step for step so that an off-by-one in ours shows up. Returns inputs, targets and the mask of
    the first output (both outputs share it).
    """
    ramp_on = np.array([0.05, 0.1, 0.2, 0.35, 0.65, 0.8, 0.9, 0.95])
    bump = np.concatenate([ramp_on, np.ones(7), ramp_on[::-1]])
    x, y, m = np.zeros((n_steps, 3)), np.zeros((n_steps, 2)), np.ones((n_steps, 2))
    first_cue_step = interval1 + 1  # steps interval1+1 .. interval1+23 carry the direction bump
    last_cue_step = first_cue_step + 22
    last_hold_step = last_cue_step + interval2  # the hold cue is on from step 1 through this step
    first_out_step = last_hold_step + 1 + offset
    x[0:last_hold_step, 2] = 1
    x[last_hold_step - 8 : last_hold_step, 2] = ramp_on[::-1]
    x[first_cue_step - 1 : last_cue_step, 0] = np.sin(theta) * bump
    x[first_cue_step - 1 : last_cue_step, 1] = np.cos(theta) * bump
    n_out = min(target.shape[1], n_steps - first_out_step + 1)
    last_out_step = first_out_step + n_out - 1
    y[first_out_step - 1 : last_out_step] = target[:, :n_out].T
    m[last_out_step:] = 0
    return x, y, m[:, 0]


def _assert_authors_trials(task, batch, interval1, interval2, n_steps):
    for i, c in enumerate(batch.condition.tolist()):
        x, y, m = _authors_trial(task.targets[c], np.deg2rad(45.0 * c), int(interval1[i]), int(interval2[i]), n_steps)
        np.testing.assert_allclose(batch.x[i].numpy(), x, atol=1e-6, err_msg=f"inputs of trial {i}")
        np.testing.assert_allclose(batch.y[i].numpy(), y, atol=1e-6, err_msg=f"targets of trial {i}")
        np.testing.assert_array_equal(batch.mask[i].numpy(), m, err_msg=f"mask of trial {i}")


def test_analysis_trials_match_the_authors_generator(reach_task):
    batch = reach_task.analysis_batch()
    assert batch.x.shape == (8, 250, 3) and batch.y.shape == (8, 250, 2)
    _assert_authors_trials(reach_task, batch, [25] * 8, [105] * 8, 250)
    # their mask counts 25 + 23 + 105 - 10 + 51 = 194 steps; the first input step already carries the hold cue
    assert batch.mask.sum(1).tolist() == [194.0] * 8
    assert torch.all(batch.x[:, 0, 2] == 1)


def test_training_trials_match_the_authors_generator_at_every_interval(reach_task):
    rng = np.random.default_rng(5)
    i1 = np.concatenate([[0, 49, 0, 49], rng.integers(0, 50, size=12)])
    i2 = np.concatenate([[0, 149, 149, 0], rng.integers(0, 150, size=12)])
    conditions = np.arange(16) % 8
    batch = reach_task._trials(conditions, i1, i2, 300)
    _assert_authors_trials(reach_task, batch, i1, i2, 300)
    # a sampled batch draws intervals in the authors' ranges: the bump starts at index interval1 in 0..49
    sampled = reach_task.sample_batch(400, np.random.default_rng(1))
    first = (sampled.x[:, :, 0].abs() + sampled.x[:, :, 1].abs() > 0).float().argmax(1)
    assert first.min() == 0 and first.max() == 49


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
