"""The training loop's stop criterion: it stops at the first checkpoint meeting the threshold (oracle: the same run
without a criterion, scanned by hand), keeps the log's shape, resumes to identical numbers and is reproducible."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from biocredit.learning import BPTT
from biocredit.model import ModelConfig
from biocredit.train import TrainConfig, criterion_reached, train
from tests.killed import Killed, die_after

N_UPDATES = 60
CHECKPOINTS = tuple(range(0, N_UPDATES + 1, 5))




def _task(kill_after=None):
    from biocredit.tasks import SequentialDigits

    task = SequentialDigits.from_sklearn_digits(n_train=40, n_validation=20, n_test=20, seed=0)
    return die_after(task, kill_after)


def _run(seed=1, kill_after=None, resume=None, **stop):
    cfg = TrainConfig(n_updates=N_UPDATES, lr=0.05, batch_size=16, n_test_trials=8, checkpoints=CHECKPOINTS,
                      optimizer="sgd", activity_penalty=0.0, adapt_penalty=False, **stop)
    return train(_task(kill_after), ModelConfig(8, 16, 10, tau=1.0, activation="relu"), BPTT(), cfg, seed=seed,
                 device="cpu", progress=False, resume_path=resume, resume_every=7)


@pytest.fixture(scope="module")
def free():
    """The run without a criterion: the oracle for where each threshold is first met."""
    return _run()


def _first_index(values, ok, patience=1):
    for k in range(patience - 1, len(values)):
        if all(ok(v) for v in values[k - patience + 1: k + 1]):
            return k
    return None


def _threshold(free):
    """A training-set accuracy the free run reaches part-way (not at its first or last checkpoint)."""
    acc = free.metrics.train_set_accuracy.values
    level = float(np.sort(acc)[len(acc) // 2])
    k = _first_index(acc, lambda v: v >= level)
    assert 0 < k < len(acc) - 1, acc  # the task must learn part-way for the test to mean anything
    return level, k


def _assert_prefix_equal(stopped, free, k):
    """Up to checkpoint k (update CHECKPOINTS[k]) the stopped run is the free run; NaN afterwards."""
    step = CHECKPOINTS[k]
    for var in ("loss", "task_loss", "accuracy"):
        a, b = stopped.metrics[var].values, free.metrics[var].values
        np.testing.assert_array_equal(a[:step], b[:step])
        assert np.isnan(a[step:]).all()
    for var in ("train_set_accuracy", "train_set_loss", "test_loss", "validation_accuracy"):
        a, b = stopped.metrics[var].values, free.metrics[var].values
        np.testing.assert_array_equal(a[: k + 1], b[: k + 1])
        assert np.isnan(a[k + 1:]).all()
    assert stopped.steps == list(CHECKPOINTS[: k + 1])
    for name, v in stopped.states[-1].items():
        torch.testing.assert_close(v, free.states[k][name], rtol=0, atol=0)


def test_no_criterion_is_recorded_as_such(free):
    assert free.metrics.attrs["stop_criterion"] == ""
    assert free.metrics.attrs["reached_criterion"] == 0
    assert free.metrics.attrs["stopped_at"] == N_UPDATES
    assert free.steps == list(CHECKPOINTS)


def test_stops_at_the_first_checkpoint_meeting_the_threshold(free):
    level, k = _threshold(free)
    stopped = _run(stop_at=level)
    assert stopped.metrics.attrs["reached_criterion"] == 1
    assert stopped.metrics.attrs["stopped_at"] == CHECKPOINTS[k]
    assert stopped.metrics.attrs["stop_criterion"] == f"train_set_accuracy >= {level:g} x1"
    # fixed shape: every update and every scheduled checkpoint, NaN after the stop
    assert stopped.metrics.sizes == free.metrics.sizes
    np.testing.assert_array_equal(stopped.metrics.checkpoint.values, np.array(CHECKPOINTS))
    _assert_prefix_equal(stopped, free, k)


def test_patience_and_loss_metrics_follow_the_oracle(free):
    loss = free.metrics.train_set_loss.values
    level = float(np.sort(loss)[len(loss) // 2])  # a loss threshold: reached when loss <= level
    k = _first_index(loss, lambda v: v <= level, patience=2)
    assert k is not None and k < len(loss) - 1
    stopped = _run(stop_metric="train_set_loss", stop_at=level, stop_patience=2)
    assert stopped.metrics.attrs["stopped_at"] == CHECKPOINTS[k]
    assert stopped.metrics.attrs["stop_criterion"] == f"train_set_loss <= {level:g} x2"
    _assert_prefix_equal(stopped, free, k)


def test_unreached_criterion_runs_to_the_cap(free):
    capped = _run(stop_at=1.5)  # an accuracy above 1 is never reached
    assert capped.metrics.attrs["reached_criterion"] == 0
    assert capped.metrics.attrs["stopped_at"] == N_UPDATES
    for var in ("loss", "train_set_accuracy"):
        np.testing.assert_array_equal(capped.metrics[var].values, free.metrics[var].values)
    assert capped.steps == list(CHECKPOINTS)


def test_stopped_run_is_reproducible_and_resumes_to_identical_numbers(free, tmp_path):
    level, k = _threshold(free)
    ref = _run(stop_at=level)
    again = _run(stop_at=level)
    np.testing.assert_array_equal(again.metrics.loss.values, ref.metrics.loss.values)
    assert again.metrics.attrs["stopped_at"] == ref.metrics.attrs["stopped_at"]
    # kill the run before it stops, then resume: same stop, same numbers
    resume = tmp_path / "resume.pt"
    kill_after = max(2, CHECKPOINTS[k] - 3)
    if kill_after <= 7:
        pytest.skip(f"the run stops too early ({CHECKPOINTS[k]}) for a resume state to exist")
    with pytest.raises(Killed):
        _run(stop_at=level, kill_after=kill_after, resume=resume)
    assert resume.exists()
    resumed = _run(stop_at=level, resume=resume)
    assert resumed.metrics.attrs["stopped_at"] == ref.metrics.attrs["stopped_at"]
    assert resumed.metrics.attrs["reached_criterion"] == 1
    for var in ("loss", "train_set_accuracy", "test_loss"):
        np.testing.assert_array_equal(resumed.metrics[var].values, ref.metrics[var].values)
    for a, b in zip(resumed.states, ref.states, strict=True):
        for name in a:
            torch.testing.assert_close(a[name], b[name], rtol=0, atol=0)
    # the leftover resume file of a finished (stopped) run replays to the same result
    replay = _run(stop_at=level, resume=resume)
    np.testing.assert_array_equal(replay.metrics.loss.values, ref.metrics.loss.values)


def test_unknown_stop_metric_and_bad_patience_are_named():
    with pytest.raises(ValueError, match="stop_metric 'train_acc'"):
        _run(stop_metric="train_acc", stop_at=0.5)
    with pytest.raises(ValueError, match="stop_patience"):
        TrainConfig(n_updates=5, checkpoints=(0, 5), stop_at=0.5, stop_patience=0)


def test_criterion_direction():
    assert criterion_reached("train_set_accuracy", 0.9, 0.9) and not criterion_reached("test_accuracy", 0.89, 0.9)
    assert criterion_reached("train_set_loss", 0.1, 0.2) and not criterion_reached("test_loss", 0.3, 0.2)
    assert not criterion_reached("train_set_accuracy", float("nan"), 0.0)


def test_an_untrained_network_never_meets_the_criterion(free):
    acc = free.metrics.train_set_accuracy.values
    level = float(acc[0])  # met at update 0 by construction
    k = next(i for i in range(1, len(acc)) if acc[i] >= level)
    stopped = _run(stop_at=level)
    assert stopped.metrics.attrs["stopped_at"] == CHECKPOINTS[k] > 0
