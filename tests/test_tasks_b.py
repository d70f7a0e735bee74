"""Study-B tasks: MNIST IDX reading, sequential digits, perceptual decision making, pattern generation."""

from __future__ import annotations

import gzip
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from biocredit.data.mnist import (
    MNIST_FILENAMES,
    MNIST_FILES,
    MNIST_SHA256,
    IDXFormatError,
    load_mnist,
    read_data_sets,
    read_idx,
    split_train_validation,
    write_fake_mnist,
    write_idx,
)
from biocredit.tasks.cognitive import PerceptualDecisionTask
from biocredit.tasks.pattern import PatternGenerationTask, make_patterns
from biocredit.tasks.smnist import DIGITS_SPLIT, EpochSampler, SequentialDigits, add_pixel_noise

# ---------------------------------------------------------------------------------------------------- MNIST / IDX


def test_mnist_registry_entries_are_well_formed():
    assert {f.relpath.split("/")[-1] for f in MNIST_FILES} == set(MNIST_FILENAMES.values())
    for f in MNIST_FILES:
        assert re.fullmatch(r"[0-9a-f]{64}", f.sha256)
        assert f.sha256 == MNIST_SHA256[f.relpath.split("/")[-1]]
        assert f.url.endswith(f.relpath.split("/")[-1]) and f.url.startswith("https://")
        assert f.size > 0


@pytest.mark.parametrize("suffix", [".gz", ""])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_idx_round_trip(tmp_path, suffix, dtype):
    arr = (np.arange(2 * 3 * 5).reshape(2, 3, 5) - 7).astype(dtype)
    if dtype == np.uint8:
        arr = np.arange(30, dtype=np.uint8).reshape(2, 3, 5)
    path = write_idx(tmp_path / f"a-idx3{suffix}", arr)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype).newbyteorder("=") and back.shape == arr.shape
    np.testing.assert_array_equal(back, arr)


def test_idx_header_is_upstream_format(tmp_path):
    labels = np.array([3, 1, 4], dtype=np.uint8)
    raw = gzip.decompress(write_idx(tmp_path / "l.gz", labels).read_bytes())
    assert raw[:4] == b"\x00\x00\x08\x01" and raw[4:8] == (3).to_bytes(4, "big") and raw[8:] == bytes([3, 1, 4])
    images = np.zeros((2, 4, 5), dtype=np.uint8)
    raw = (write_idx(tmp_path / "i", images)).read_bytes()
    assert raw[:4] == b"\x00\x00\x08\x03" and raw[4:16] == b"".join(n.to_bytes(4, "big") for n in (2, 4, 5))


@pytest.mark.parametrize("compress", [True, False])
def test_idx_bad_magic_is_a_clear_error(tmp_path, compress):
    good = write_idx(tmp_path / "x", np.zeros((2, 2), np.uint8), compress=False).read_bytes()
    bad = b"\x01\x02" + good[2:]
    path = tmp_path / ("bad.gz" if compress else "bad")
    path.write_bytes(gzip.compress(bad) if compress else bad)
    with pytest.raises(IDXFormatError, match="magic"):
        read_idx(path)
    unknown_type = b"\x00\x00\x07" + good[3:]
    path.write_bytes(gzip.compress(unknown_type) if compress else unknown_type)
    with pytest.raises(IDXFormatError, match="magic"):
        read_idx(path)


def test_idx_truncated_data_is_an_error(tmp_path):
    good = write_idx(tmp_path / "x", np.zeros((3, 4), np.uint8), compress=False).read_bytes()
    (tmp_path / "t").write_bytes(good[:-1])
    with pytest.raises(IDXFormatError, match="data bytes"):
        read_idx(tmp_path / "t")


@pytest.mark.parametrize("compress", [True, False])
def test_load_mnist_reads_fake_files(tmp_path, compress):
    written = write_fake_mnist(tmp_path, n_train=30, n_test=12, compress=compress)
    got = load_mnist(tmp_path)
    assert set(got) == {"train_images", "train_labels", "test_images", "test_labels"}
    for k, v in written.items():
        np.testing.assert_array_equal(got[k], v)
        assert got[k].dtype == np.uint8
    assert got["train_images"].shape == (30, 28, 28) and got["test_labels"].shape == (12,)


def test_split_follows_tf_read_data_sets(tmp_path):
    written = write_fake_mnist(tmp_path, n_train=60, n_test=10)
    (tr_x, tr_y), (va_x, va_y) = split_train_validation(written["train_images"], written["train_labels"], 5)
    assert len(tr_x) == 55 and len(va_x) == 5
    np.testing.assert_array_equal(va_x, written["train_images"][:5])
    np.testing.assert_array_equal(tr_y, written["train_labels"][5:])
    d = read_data_sets(tmp_path, n_validation=5)
    assert d["train_images"].shape == (55, 28, 28) and d["validation_images"].shape == (5, 28, 28)
    assert d["test_images"].shape == (10, 28, 28)
    assert d["train_images"].dtype == np.float32 and d["train_labels"].dtype == np.int64
    np.testing.assert_allclose(d["validation_images"], written["train_images"][:5] / 255.0, rtol=1e-6)
    assert d["train_images"].max() <= 1.0 and d["train_images"].min() >= 0.0
    with pytest.raises(ValueError):
        split_train_validation(written["train_images"], written["train_labels"], 61)


def test_from_mnist_on_fake_files(tmp_path):
    write_fake_mnist(tmp_path, n_train=40, n_test=15)
    task = SequentialDigits.from_mnist(tmp_path, n_validation=10)
    assert (task.n_train, task.n_validation, task.n_test) == (30, 10, 15)
    assert (task.n_steps, task.n_in, task.n_out) == (28, 28, 10)
    b = task.train_batch(8, np.random.default_rng(0))
    assert b.x.shape == (8, 28, 28) and b.y.shape == (8, 28)


# ---------------------------------------------------------------------------------------------------- sMNIST


@pytest.fixture(scope="module")
def digits() -> SequentialDigits:
    return SequentialDigits.from_sklearn_digits(seed=3)


def _tiny_task(n_train=10, h=5, w=4, seed=0) -> SequentialDigits:
    rng = np.random.default_rng(seed)
    imgs = [rng.random((n, h, w)).astype(np.float32) for n in (n_train, 6, 7)]
    labs = [rng.integers(0, 10, n) for n in (n_train, 6, 7)]
    return SequentialDigits(imgs[0], labs[0], imgs[1], labs[1], imgs[2], labs[2], noise_seed=seed)


def test_row_by_row_encoding_and_last_step_target():
    task = _tiny_task()
    images, labels = task._data["train"]
    b = task.train_set()
    assert b.x.shape == (10, 5, 4) and b.x.dtype == torch.float32
    assert b.y.dtype == torch.int64 and b.y.shape == (10, 5) and b.mask.shape == (10, 5)
    for i in range(10):
        for t in range(5):
            np.testing.assert_array_equal(b.x[i, t].numpy(), images[i, t])
    assert torch.equal(b.y[:, -1], torch.from_numpy(labels))
    expected_mask = torch.zeros(10, 5)
    expected_mask[:, -1] = 1
    assert torch.equal(b.mask, expected_mask)
    assert torch.equal(b.condition, torch.from_numpy(labels))


def test_loss_is_cross_entropy_at_last_step_and_accuracy():
    task = _tiny_task()
    b = task.train_set()
    torch.manual_seed(0)
    out = torch.randn(10, 5, 10)
    expected = F.cross_entropy(out[:, -1], b.y[:, -1])
    # by hand: -log softmax of the true class, averaged
    by_hand = -(out[:, -1].log_softmax(-1)[torch.arange(10), b.y[:, -1]]).mean()
    assert torch.allclose(task.loss(out, b), expected) and torch.allclose(task.loss(out, b), by_hand)
    perfect = torch.zeros(10, 5, 10)
    perfect[torch.arange(10), -1, b.y[:, -1]] = 5.0
    perfect[:, :-1, :] = torch.randn(10, 4, 10)  # earlier steps do not matter
    assert task.accuracy(perfect, b) == 1.0
    wrong = perfect.clone()
    wrong[:, -1] = 0
    wrong[torch.arange(10), -1, (b.y[:, -1] + 1) % 10] = 5.0
    assert task.accuracy(wrong, b) == 0.0


def test_noisy_test_set(digits):
    clean = digits.test_set(noisy=False).x
    noisy = digits.test_set().x
    assert noisy.min() >= 0 and noisy.max() <= 1
    assert not torch.equal(noisy, clean)
    assert torch.equal(noisy, digits.test_set().x)  # fixed per task
    again = SequentialDigits.from_sklearn_digits(seed=3)
    assert torch.equal(again.test_set().x, noisy)  # deterministic per seed
    other = SequentialDigits.from_sklearn_digits(seed=3, noise_seed=99)
    assert not torch.equal(other.test_set().x, noisy)
    sub = digits.test_batch(50, np.random.default_rng(0))
    assert sub.x.shape[0] == 50
    # each subset row is one of the fixed noisy test images
    full = noisy.reshape(len(noisy), -1)
    for row in sub.x.reshape(50, -1):
        assert (full == row).all(1).any()


def test_pixel_noise_std_on_mid_grey():
    grey = np.full((200, 28, 28), 0.5, np.float32)
    noisy = add_pixel_noise(grey, 0.2, np.random.default_rng(0))
    assert noisy.dtype == np.float32 and noisy.min() >= 0 and noisy.max() <= 1
    # 0.5 ± 2.5σ: clipping touches ~1% of pixels, so the std is just below 0.2
    assert 0.19 < noisy.std() < 0.201
    assert abs(noisy.mean() - 0.5) < 0.005
    np.testing.assert_array_equal(noisy, add_pixel_noise(grey, 0.2, np.random.default_rng(0)))


def test_digits_stand_in_sizes_and_disjoint_splits(digits):
    assert (digits.n_train, digits.n_validation, digits.n_test) == DIGITS_SPLIT
    assert sum(DIGITS_SPLIT) == 1797
    assert (digits.n_steps, digits.n_in, digits.n_out) == (8, 8, 10)
    idx = digits.split_indices
    assert idx is not None
    sets = [set(idx[k].tolist()) for k in ("train", "validation", "test")]
    assert sum(len(s) for s in sets) == len(set().union(*sets)) == 1797
    assert digits.train_set().x.max() <= 1 and digits.train_set().x.min() >= 0
    small = SequentialDigits.from_sklearn_digits(n_train=100, n_validation=50, n_test=60, seed=1)
    assert (small.n_train, small.n_validation, small.n_test) == (100, 50, 60)
    assert not np.array_equal(small.split_indices["test"], SequentialDigits.from_sklearn_digits(
        n_train=100, n_validation=50, n_test=60, seed=2).split_indices["test"])
    with pytest.raises(ValueError):
        SequentialDigits.from_sklearn_digits(n_train=1500, n_validation=200, n_test=200)
    vb = digits.validation_batch(32, np.random.default_rng(0))
    assert vb.x.shape == (32, 8, 8)
    ab = digits.analysis_batch()
    assert ab.y[:, -1].tolist() == list(range(10))


@pytest.mark.parametrize("batch_size", [4, 7, 20, 45])
def test_epoch_sampler_visits_each_example_once_per_epoch(batch_size):
    n = 20
    s = EpochSampler(n, np.random.default_rng(0))
    stream = np.concatenate([s.next_indices(batch_size) for _ in range(12)])
    epochs = stream[: len(stream) // n * n].reshape(-1, n)
    assert len(epochs) >= 2
    for e in epochs:
        assert sorted(e.tolist()) == list(range(n))
    assert not all(np.array_equal(epochs[0], e) for e in epochs[1:])  # reshuffled
    assert s.epochs_completed == (len(stream) - 1) // n


def test_train_batches_cover_training_set_and_state_resumes(digits):
    task = SequentialDigits.from_sklearn_digits(n_train=60, n_validation=10, n_test=10, seed=0)
    rng = np.random.default_rng(5)
    seen = torch.cat([task.train_batch(15, rng).x for _ in range(4)])
    full = task.train_set().x
    assert sorted(seen.reshape(60, -1).tolist()) == sorted(full.reshape(60, -1).tolist())
    nxt = task.sample_batch(15, rng).x.reshape(15, -1).tolist()  # the generic trainer's batch: training examples
    assert all(row in full.reshape(60, -1).tolist() for row in nxt)
    # save sampler + rng state mid-epoch, continue, restore: same batches
    rng2 = np.random.default_rng(1)
    task.train_batch(25, rng2)
    state, rng_state = task.sampler_state(), rng2.bit_generator.state
    ref = [task.train_batch(25, rng2).x for _ in range(3)]
    other = SequentialDigits.from_sklearn_digits(n_train=60, n_validation=10, n_test=10, seed=0)
    rng3 = np.random.default_rng()
    rng3.bit_generator.state = rng_state
    other.load_sampler_state(state, rng3)
    for r in ref:
        assert torch.equal(other.train_batch(25, rng3).x, r)


# ---------------------------------------------------------------------------------------------------- decision task


@pytest.fixture(scope="module")
def decision() -> PerceptualDecisionTask:
    return PerceptualDecisionTask(n_train=256, n_test=2000, seed=4)


def test_decision_training_set_is_fixed(decision):
    again = PerceptualDecisionTask(n_train=256, n_test=2000, seed=4)
    assert torch.equal(decision.train_set().x, again.train_set().x)
    assert decision.train_set() is decision.train_set()
    rng = np.random.default_rng(0)
    b = decision.train_batch(256, rng)
    # a full epoch is a permutation of the training trials
    key = lambda x: sorted(map(tuple, x.reshape(len(x), -1).tolist()))  # noqa: E731
    assert key(b.x) == key(decision.train_set().x)
    assert decision.sample_batch(8, rng).x.shape == (8, decision.n_steps, 3)
    different = PerceptualDecisionTask(n_train=256, seed=5)
    assert not torch.equal(different.train_set().x, decision.train_set().x)


def test_decision_test_trials_differ_from_training(decision):
    train = decision.train_set().x.reshape(256, -1)
    test = decision.test_set().x.reshape(2000, -1)
    # no test trial equals any training trial
    assert not (test[:, None, :] == train[None, :, :]).all(-1).any()
    fresh1 = decision.test_batch(16, np.random.default_rng(10)).x
    fresh2 = decision.test_batch(16, np.random.default_rng(11)).x
    assert not torch.equal(fresh1, fresh2)
    assert torch.equal(decision.test_set().x, PerceptualDecisionTask(n_train=256, n_test=2000, seed=4).test_set().x)


def test_decision_trial_structure(decision):
    b = decision.analysis_batch()
    assert b.x.shape == (decision.n_conditions, decision.n_steps, 3)
    t_go = decision.n_fix + decision.n_stim + (decision.delay_range[0] + decision.delay_range[1]) // 2
    for i in range(decision.n_conditions):
        assert b.x[i, :t_go, 0].eq(1).all() and b.x[i, t_go:, 0].eq(0).all()
        assert b.mask[i].nonzero().flatten().tolist() == list(range(t_go, t_go + decision.n_decision))
        coh = decision.coherences[i // 2]
        s = 1.0 if i % 2 == 0 else -1.0
        stim = slice(decision.n_fix, decision.n_fix + decision.n_stim)
        np.testing.assert_allclose(b.x[i, stim, 1].numpy(), 0.5 * (1 + s * coh), rtol=1e-6)
        np.testing.assert_allclose(b.x[i, stim, 2].numpy(), 0.5 * (1 - s * coh), rtol=1e-6)
        assert b.y[i, t_go].item() == i % 2 and b.condition[i].item() == i
    info = decision.train_info
    np.testing.assert_allclose(decision.integrated_evidence(decision.train_set()).numpy(), info["evidence"],
                               rtol=1e-4, atol=1e-4)


def test_decision_is_solvable_by_integration_and_random_is_chance(decision):
    test = decision.test_set()
    acc = decision.accuracy(decision.ideal_observer_output(test), test)
    expected = decision.ideal_accuracy()
    assert expected > 0.85 and abs(acc - expected) < 0.03
    torch.manual_seed(0)
    random_out = torch.randn(2000, decision.n_steps, 2)
    assert abs(decision.accuracy(random_out, test) - 0.5) < 0.03
    # a constant output reaches chance as well (balanced choices)
    assert abs(decision.accuracy(torch.zeros(2000, decision.n_steps, 2) + torch.tensor([1.0, 0.0]), test) - 0.5) < 0.05
    # the loss is the CE over decision-period steps
    out = torch.randn(2000, decision.n_steps, 2)
    sel = test.mask > 0
    assert torch.allclose(decision.loss(out, test), F.cross_entropy(out[sel], test.y[sel]))


def test_harder_decision_task_is_harder():
    easy = PerceptualDecisionTask(n_train=8, coherences=(0.8,), sigma=0.5)
    hard = PerceptualDecisionTask(n_train=8, coherences=(0.05,), sigma=1.0)
    assert easy.ideal_accuracy() > 0.99 and hard.ideal_accuracy() < 0.6


# ---------------------------------------------------------------------------------------------------- pattern task


@pytest.fixture(scope="module")
def pattern() -> PatternGenerationTask:
    return PatternGenerationTask(n_train=32, n_test=64, seed=2, n_outputs=2)


def test_pattern_targets_match_the_formula(pattern):
    p = pattern.pattern_params
    t_s = np.arange(pattern.pattern_steps) * pattern.dt_ms / 1000
    for k in range(pattern.n_patterns):
        for o in range(pattern.n_out):
            raw = sum(
                p["amplitude"][k, o, m] * np.sin(2 * np.pi * f * t_s + p["phase"][k, o, m])
                for m, f in enumerate(pattern.frequencies_hz)
            )
            np.testing.assert_allclose(pattern.patterns[k, o], raw / np.abs(raw).max(), rtol=1e-12)
    assert np.all((p["amplitude"] >= 0.5) & (p["amplitude"] <= 2))
    assert np.all((p["phase"] >= 0) & (p["phase"] < 2 * np.pi))
    raw_patterns, _ = make_patterns(4, 2, pattern.pattern_steps, pattern.dt_ms, normalize=False)
    np.testing.assert_allclose(raw_patterns, pattern.patterns * p["scale"][..., None])


def test_pattern_trials_place_cue_and_target(pattern):
    b = pattern.train_set()
    info = pattern.train_info
    for i in range(len(info["pattern"])):
        k, c, on = info["pattern"][i], info["cue_onset"][i], info["pattern_onset"][i]
        assert on == c + pattern.cue_steps + pattern.go_delay
        np.testing.assert_allclose(b.y[i, on : on + pattern.pattern_steps].numpy(), pattern.patterns[k].T,
                                   rtol=1e-6, atol=1e-6)
        assert b.y[i, :on].abs().max() == 0
        end = on + pattern.pattern_steps
        assert b.mask[i, :end].eq(1).all() and b.mask[i, end:].eq(0).all()
        assert b.x[i, c : c + pattern.cue_steps, k].mean() > 0.8  # cue (noise std 0.1)
        assert b.condition[i].item() == k
    ab = pattern.analysis_batch()
    assert ab.x.shape == (pattern.n_patterns, pattern.n_steps, pattern.n_patterns)
    assert set(ab.x.unique().tolist()) == {0.0, 1.0}


def test_pattern_train_fixed_test_fresh_and_perfect_score(pattern):
    again = PatternGenerationTask(n_train=32, n_test=64, seed=2, n_outputs=2)
    assert torch.equal(again.train_set().x, pattern.train_set().x)
    fresh = pattern.test_batch(32, np.random.default_rng(0))
    assert not torch.equal(fresh.x, pattern.train_set().x)
    test = pattern.test_set()
    assert pattern.accuracy(test.y.clone(), test) == pytest.approx(1.0)
    assert pattern.loss(test.y.clone(), test).item() == 0.0
    zero = torch.zeros_like(test.y)
    assert pattern.accuracy(zero, test) < 0.5
    b = pattern.train_batch(10, np.random.default_rng(0))
    assert b.x.shape == (10, pattern.n_steps, pattern.n_patterns) and b.y.shape == (10, pattern.n_steps, 2)
