"""Fidelity of study B's sMNIST set-up to the authors' code (Liu et al. 2022, BiolHessRNN ``bin/saveHess_seqMNIST.py``
and ``bin/neuron_models.py``), tested against a small reimplementation of what that code computes, written here
from their text without the library:

- data: TF's ``input_data.read_data_sets(..., one_hot=True)``: validation = the first 5,000 images of the training
  file, training = the rest, pixels ``numpy.multiply(float32(images), 1.0 / 255.0)``, each image fed row by row
  (``reshape(batch, 28, 28)``: step t receives row t);
- the step: the ALIF cell with ``tau_v = 0.01`` (leak ``exp(-100)``, 0 in float32 arithmetic), ``thr = 0``,
  ``beta = 0`` and ReLU rates, i.e. ``z_t = relu(x_t W_in + z_{t-1} W_rec)`` with the diagonal of ``W_rec`` masked to
  zero (``tf.where(recurrent_disconnect_mask, 0, w_rec)``); the readout ``psp W_out + b_out`` with the psp filter at
  the same leak (``psp = z``); the loss ``mean CE(logits at the last step) + reg_l2 (l2_loss(w_in) + l2_loss(w_rec) +
  l2_loss(w_out))`` with ``l2_loss(w) = ½‖w‖²`` and no term for ``b_out``; the three-factor rule
  (``custom_mode = 1``) stops the gradient of ``z_{t-1}`` in the recurrent drive only; plain SGD.

Their matrices are (pre, post); ours act on column vectors (post, pre), so theirs are our transposes.
"""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
import torch

from biocredit.data.mnist import write_fake_mnist
from biocredit.learning import make_rule
from biocredit.model import ModelConfig, RateRNN
from biocredit.tasks.smnist import SequentialDigits
from biocredit.train import TrainConfig, seed_streams, train, weight_decay_term

REG_L2, LR, N = 1e-2, 1e-2, 12


def _read_idx_gz(path) -> np.ndarray:
    """An IDX file as TF's ``mnist.extract_images`` / ``extract_labels`` read it (big-endian header, uint8 body)."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _tf_read_data_sets(folder, validation_size):
    """What ``read_data_sets(folder, one_hot=True)`` holds, labels as integers (their ``argmax`` of the one-hot)."""
    tr_x = _read_idx_gz(folder / "train-images-idx3-ubyte.gz")
    tr_y = _read_idx_gz(folder / "train-labels-idx1-ubyte.gz")
    te_x = _read_idx_gz(folder / "t10k-images-idx3-ubyte.gz")
    te_y = _read_idx_gz(folder / "t10k-labels-idx1-ubyte.gz")

    def dataset(x):  # DataSet.__init__: reshape to 784 and scale
        x = x.reshape(x.shape[0], x.shape[1] * x.shape[2]).astype(np.float32)
        return np.multiply(x, 1.0 / 255.0)

    return {"train": (dataset(tr_x[validation_size:]), tr_y[validation_size:]),
            "validation": (dataset(tr_x[:validation_size]), tr_y[:validation_size]),
            "test": (dataset(te_x), te_y)}


def test_data_split_scaling_and_row_encoding_are_the_authors(tmp_path):
    write_fake_mnist(tmp_path, n_train=30, n_test=8, seed=3)
    ours = SequentialDigits.from_mnist(tmp_path, n_validation=5)
    ref = _tf_read_data_sets(tmp_path, validation_size=5)
    for split, batch in (("train", ours.train_set()), ("validation", ours.validation_set()),
                         ("test", ours.test_set(noisy=False))):
        x, y = ref[split]
        spike_stack = x.reshape(len(x), 28, 28)  # get_data_dict: np.reshape(input_px, (batch_size, T, n_in))
        assert batch.x.dtype == torch.float32
        np.testing.assert_array_equal(batch.x.numpy(), spike_stack)  # bit for bit
        np.testing.assert_array_equal(batch.y[:, -1].numpy(), y)
        assert batch.mask[:, -1].all() and not batch.mask[:, :-1].any()  # read out at the last step only


def _authors_loss(x, y, w_in, w_rec_var, w_out, b_out, three_factor: bool):
    """The authors' graph on one batch: ``x`` (batch, 28, 28), their (pre, post) matrices."""
    n = w_rec_var.shape[0]
    decay = float(np.float32(np.exp(-1.0 / 0.01)))  # tf.exp(-dt / tau) in float32: a denormal, flushed on TF's CPU
    mask = torch.eye(n, dtype=torch.bool)
    w_rec = torch.where(mask, torch.zeros_like(w_rec_var), w_rec_var)
    v = torch.zeros(x.shape[0], n, dtype=x.dtype)
    z = torch.zeros_like(v)
    psp = torch.zeros_like(v)
    for t in range(x.shape[1]):
        z_stop = z.detach() if three_factor else z
        i_t = x[:, t] @ w_in + z_stop @ w_rec
        v = decay * v + (1 - decay) * i_t - z * 0.0  # I_reset = z · thr · dt, thr = 0 (+ b · beta, beta = 0)
        z = torch.relu(v - 0.0)
        psp = psp * decay + (1 - decay) * z
    logits = psp @ w_out + b_out
    ce = torch.nn.functional.cross_entropy(logits, y)
    l2 = REG_L2 * (0.5 * (w_in**2).sum() + 0.5 * (w_rec_var**2).sum() + 0.5 * (w_out**2).sum())
    return ce + l2


def _net(dtype=torch.float64):
    cfg = ModelConfig(n_in=28, n_hidden=N, n_out=10, activation="relu", tau=1.0, init="he", no_autapses=True,
                      learn_bias=False, learn_init_state=False)
    return RateRNN(cfg, generator=torch.Generator().manual_seed(0)).to(dtype)


@pytest.mark.parametrize(("rule", "three_factor"), [("bptt", False), ("eprop", True)])
def test_one_update_equals_the_authors(rule, three_factor, tmp_path):
    write_fake_mnist(tmp_path, n_train=40, n_test=8, seed=1)
    task = SequentialDigits.from_mnist(tmp_path, n_validation=5)
    batch = task.train_set()
    x, y = batch.x.double(), batch.y[:, -1]
    model = _net()
    theirs = {k: getattr(model, k).detach().t().clone().requires_grad_(True) for k in ("w_in", "w_rec", "w_out")}
    b_out = model.b_out.detach().clone().requires_grad_(True)
    loss = _authors_loss(x, y, theirs["w_in"], theirs["w_rec"], theirs["w_out"], b_out, three_factor)
    loss.backward()
    # ours: the library's model, rule, task loss and L2 term
    out, _ = model(x, make_rule(rule))
    ours = task.loss(out, type(batch)(x, batch.y, batch.mask.double(), batch.condition)) + weight_decay_term(
        model, REG_L2)
    ours.backward()
    assert float(ours.detach()) == pytest.approx(float(loss.detach()), rel=1e-12)
    for k, p in theirs.items():
        np.testing.assert_allclose(getattr(model, k).grad.t().numpy(), p.grad.numpy(), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(model.b_out.grad.numpy(), b_out.grad.numpy(), rtol=1e-10, atol=1e-13)


def test_training_loop_takes_the_authors_sgd_steps(tmp_path):
    """Three SGD updates of our training loop (float32) equal the authors' graph stepped by hand on the same
    minibatches (their ``GradientDescentOptimizer``: ``w -= lr · grad``)."""
    write_fake_mnist(tmp_path, n_train=60, n_test=8, seed=2)
    task = SequentialDigits.from_mnist(tmp_path, n_validation=10)
    cfg = ModelConfig(n_in=28, n_hidden=N, n_out=10, activation="relu", tau=1.0, init="he", no_autapses=True,
                      learn_bias=False, learn_init_state=False)
    tc = TrainConfig(n_updates=3, lr=LR, optimizer="sgd", batch_size=16, n_test_trials=4, checkpoints=(0, 3),
                     activity_penalty=0.0, adapt_penalty=False, weight_decay=REG_L2)
    for rule, three_factor in (("bptt", False), ("eprop", True)):
        res = train(task, cfg, make_rule(rule), tc, seed=5, device="cpu", progress=False)
        w0 = res.states[0]
        theirs = {k: w0[k].t().clone().requires_grad_(True) for k in ("w_in", "w_rec", "w_out")}
        b_out = w0["b_out"].clone().requires_grad_(True)
        replay = SequentialDigits.from_mnist(tmp_path, n_validation=10)  # a fresh sampler, same batch stream
        rng = np.random.default_rng(seed_streams(5)["batches"])
        for _ in range(3):
            b = replay.sample_batch(16, rng)
            loss = _authors_loss(b.x, b.y[:, -1], theirs["w_in"], theirs["w_rec"], theirs["w_out"], b_out,
                                 three_factor)
            grads = torch.autograd.grad(loss, [*theirs.values(), b_out])
            with torch.no_grad():
                for p, g in zip([*theirs.values(), b_out], grads, strict=True):
                    p -= LR * g
        last = res.states[-1]
        for k, p in theirs.items():
            # the authors keep W_rec's (unused) diagonal under L2 decay; ours is zero: compare off the diagonal
            mine = last[k].t()
            if k == "w_rec":
                p = p.detach() * (1 - torch.eye(N))
            np.testing.assert_allclose(mine.numpy(), p.detach().numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(last["b_out"].numpy(), b_out.detach().numpy(), rtol=1e-5, atol=1e-6)
