"""Shared fixtures: where the data mirror is, and a small reach task built from fake recordings."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def merged_config(*files):
    """config.yaml and presets merged and validated the way Snakemake merges --configfile files."""
    from snakemake.common.configfile import load_configfile
    from snakemake.utils import update_config, validate

    config: dict = {}
    for f in ("config.yaml", *files):
        update_config(config, load_configfile(str(REPO / f)))
    validate(config, schema=str(REPO / "rules/schemas/config.schema.yaml"))
    return config


def assert_same_run(a, b, exact: bool, state_close=None) -> None:
    """Two :class:`~biocredit.train.TrainResult` s equal: checkpoints, metrics attrs, metrics and states, bit for
    bit (``exact``) or to float32 rounding grown over a few Adam updates (metrics rtol 1e-4, atol 1e-6: a last-bit
    difference in one product is ~1e-7 relative, and Adam's first steps divide by the gradient's own size, which can
    amplify it near zero-gradient entries); ``state_close(x, y)`` replaces the states' tolerance check."""
    import torch

    assert a.steps == b.steps and len(a.states) == len(b.states)
    assert a.metrics.attrs == b.metrics.attrs
    for name in a.metrics.data_vars:
        if exact:
            np.testing.assert_array_equal(a.metrics[name].values, b.metrics[name].values, err_msg=name)
        else:
            np.testing.assert_allclose(a.metrics[name].values, b.metrics[name].values, rtol=1e-4, atol=1e-6,
                                       err_msg=name)
    for sa, sb in zip(a.states, b.states, strict=True):
        assert list(sa) == list(sb)
        for k in sa:
            if exact:
                assert torch.equal(sa[k], sb[k]), k
            elif state_close is not None:
                state_close(sa[k], sb[k])
            else:
                torch.testing.assert_close(sa[k], sb[k], rtol=1e-4, atol=1e-6)


def data_mirror() -> Path | None:
    """The mirror folder: $BIOCREDIT_DATA_MIRROR, else ../shared/data beside the repository, else None."""
    env = os.environ.get("BIOCREDIT_DATA_MIRROR")
    for candidate in (env, REPO.parent / "shared" / "data"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate).resolve()
    return None


@pytest.fixture
def mirror() -> Path:
    m = data_mirror()
    if m is None:
        pytest.skip("no data mirror: set BIOCREDIT_DATA_MIRROR or place shared/data beside the repository")
    return m


@pytest.fixture
def reach_task():
    from biocredit.tasks import ReachTask

    rng = np.random.default_rng(0)
    times = np.linspace(-800, 400, 121)
    angles = np.cumsum(rng.normal(size=(8, 2, 121)), axis=-1) / 20
    return ReachTask(angles, times, np.arange(8) * 45.0)
