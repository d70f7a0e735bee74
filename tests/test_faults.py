"""Faults leave clear errors and nothing half-written: corrupted checkpoints, failed writes, diverging runs."""

from __future__ import annotations

import errno
import json

import numpy as np
import pytest
import torch
import xarray as xr

from biocredit import io as bio
from biocredit.model import ModelConfig
from biocredit.rules import EProp
from biocredit.train import TrainConfig, load_checkpoints, save_checkpoints, train


def _result(reach_task):
    cfg = TrainConfig(n_updates=3, lr=1e-2, batch_size=4, n_test_trials=4, checkpoints=(0, 3))
    return train(reach_task, ModelConfig(3, 6, 2), EProp(), cfg, seed=0, progress=False)


def test_checkpoint_with_flipped_number_is_refused(reach_task, tmp_path):
    path = tmp_path / "checkpoints.pt"
    save_checkpoints(_result(reach_task), path)
    payload = torch.load(path, weights_only=True)
    payload["params"]["w_rec"][1, 0, 0] += 1e-3  # silent corruption that any container would accept
    torch.save(payload, path)
    with pytest.raises(ValueError, match="checksum"):
        load_checkpoints(path)


def test_checkpoint_bytes_flipped_are_refused(reach_task, tmp_path):
    path = tmp_path / "checkpoints.pt"
    save_checkpoints(_result(reach_task), path)
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    data[mid : mid + 8] = b"\xff" * 8
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="checkpoints.pt"):
        load_checkpoints(path)


def test_pickled_code_is_never_executed(tmp_path):
    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('unpickled!')",))

    path = tmp_path / "evil.pt"
    torch.save({"format": "biocredit-checkpoints-v1", "x": Boom()}, path)
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        load_checkpoints(path)


@pytest.mark.parametrize("fail_errno", [errno.ENOSPC, errno.EIO])
def test_failed_netcdf_write_leaves_nothing(tmp_path, monkeypatch, fail_errno):
    ds = xr.Dataset({"rate": (("unit", "time"), np.ones((3, 4)))})
    target = tmp_path / "out.nc"
    real = xr.Dataset.to_netcdf

    def half_then_fail(self, path, *a, **k):
        real(self, path, *a, **k)
        with open(path, "r+b") as f:  # the file is there, but cut short, as when the disk fills up
            f.truncate(100)
        raise OSError(fail_errno, "simulated write failure")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", half_then_fail)
    with pytest.raises(OSError):
        bio.write_netcdf(ds, target)
    assert list(tmp_path.iterdir()) == []


def test_existing_output_survives_a_failed_rewrite(tmp_path):
    target = tmp_path / "claims.json"
    bio.write_json([{"id": "old"}], target)

    class Unserialisable:
        pass

    with pytest.raises(TypeError):
        bio.write_json([{"id": Unserialisable()}], target)
    assert json.loads(target.read_text()) == [{"id": "old"}]
    assert [p.name for p in tmp_path.iterdir()] == ["claims.json"]
