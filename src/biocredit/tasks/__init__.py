"""Task generators. Each task yields :class:`TaskBatch` trials and scores outputs; see :class:`Task`. A run builds
its task from the config's ``tasks`` row with :func:`build_task` / :func:`load_task`."""

from pathlib import Path

import xarray as xr

from biocredit.io import open_netcdf
from biocredit.tasks.base import Task, TaskBatch
from biocredit.tasks.cognitive import PerceptualDecisionTask
from biocredit.tasks.emg import EMGTask
from biocredit.tasks.mante import ManteTask
from biocredit.tasks.pattern import PatternGenerationTask
from biocredit.tasks.reach import ReachTask
from biocredit.tasks.smnist import SequentialDigits

__all__ = [
    "Task",
    "TaskBatch",
    "ReachTask",
    "EMGTask",
    "ManteTask",
    "SequentialDigits",
    "PerceptualDecisionTask",
    "PatternGenerationTask",
    "TASKS",
    "build_task",
    "load_task",
]

#: config task name -> constructor (called with the task's config options, or ``from_dataset`` when it has one)
TASKS = {
    "reach": ReachTask,
    "emg": EMGTask,
    "mante": ManteTask,
    "smnist": SequentialDigits.from_mnist,
    "sdigits": SequentialDigits.from_sklearn_digits,
    "decision": PerceptualDecisionTask,
    "pattern": PatternGenerationTask,
}


def build_task(task_name: str, task_cfg: dict, data: xr.Dataset | None):
    """Instantiate a task from its config entry (keys other than ``dataset`` are constructor options)."""
    if task_name not in TASKS:
        raise ValueError(f"unknown task {task_name!r}; known tasks: {sorted(TASKS)}")
    options = {k: v for k, v in task_cfg.items() if k != "dataset"}
    if "analysis_intervals" in options:
        options["analysis_intervals"] = tuple(options["analysis_intervals"])
    cls = TASKS[task_name]
    return cls.from_dataset(data, **options) if hasattr(cls, "from_dataset") else cls(**options)


def load_task(task_name: str, task_cfg: dict, data):
    """Build a task from what its rule gets as ``data``: the path of a NetCDF of recordings (study A), the files of
    a folder-backed dataset (MNIST's IDX files; the folder is passed as ``folder``), or nothing (generated tasks)."""
    paths = [data] if isinstance(data, (str, Path)) else [str(p) for p in (data or [])]
    if len(paths) == 1 and str(paths[0]).endswith(".nc"):
        with open_netcdf(paths[0]) as ds:
            return build_task(task_name, task_cfg, ds.load())
    if paths:
        return build_task(task_name, {**task_cfg, "folder": str(Path(paths[0]).parent)}, None)
    return build_task(task_name, task_cfg, None)
