"""Stage of ``rules/activity.smk``: every checkpoint's hidden activity on the analysis trials."""

from __future__ import annotations

from biocredit import __version__
from biocredit.activity import checkpoint_activity
from biocredit.io import open_netcdf, write_netcdf
from biocredit.tasks import build_task
from biocredit.train import load_checkpoints

__all__ = ["extract_activity"]


def extract_activity(data: str, checkpoints: str, out: str, *, task: str, task_cfg: dict, meta: dict) -> None:
    """Hidden activity of every checkpoint on the analysis trials (NetCDF)."""
    with open_netcdf(data) as ds:
        t = build_task(task, task_cfg, ds.load())
    config, steps, states = load_checkpoints(checkpoints)
    attrs = {k: v for k, v in meta.items()} | {"biocredit_version": __version__}
    write_netcdf(checkpoint_activity(t, config, steps, states, attrs=attrs), out)
