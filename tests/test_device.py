"""Device choice, and (where CUDA exists) GPU results equal to CPU results within tolerance."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from biocredit.learning import make_rule
from biocredit.model import ModelConfig, RateRNN
from biocredit.train import TrainConfig, resolve_device, train


def test_auto_device_follows_cuda_availability(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")
    assert resolve_device("cpu") == torch.device("cpu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
@pytest.mark.parametrize("rule", ["bptt", "eprop", "mdgl", "rflo"])
def test_gpu_gradients_equal_cpu(rule):
    gen = torch.Generator().manual_seed(0)
    model = RateRNN(ModelConfig(3, 64, 2), generator=gen).double()
    x = torch.randn(16, 50, 3, generator=gen, dtype=torch.float64)
    grads = {}
    for device in ("cpu", "cuda"):
        m = RateRNN(model.config).double().to(device)
        m.load_state_dict(model.state_dict())
        y, h = m(x.to(device), make_rule(rule, **({"seed": 0} if rule == "rflo" else {})))
        (y.pow(2).mean() + h.pow(2).mean()).backward()
        grads[device] = {k: p.grad.cpu().numpy() for k, p in m.named_parameters() if p.grad is not None}
    for k in grads["cpu"]:
        np.testing.assert_allclose(grads["cuda"][k], grads["cpu"][k], rtol=1e-9, atol=1e-12, err_msg=k)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_gpu_training_matches_cpu_within_tolerance(reach_task):
    cfg = TrainConfig(n_updates=20, lr=1e-3, batch_size=8, n_test_trials=8, checkpoints=(0, 20))
    runs = {d: train(reach_task, ModelConfig(3, 32, 2), make_rule("eprop"), cfg, seed=0, device=d, progress=False)
            for d in ("cpu", "cuda")}
    np.testing.assert_allclose(runs["cuda"].metrics.loss.values, runs["cpu"].metrics.loss.values, rtol=1e-4)
