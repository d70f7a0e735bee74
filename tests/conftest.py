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
