"""Task generators. Each task yields :class:`TaskBatch` trials and scores outputs; see :class:`Task`."""

from biocredit.tasks.base import Task, TaskBatch
from biocredit.tasks.emg import EMGTask
from biocredit.tasks.reach import ReachTask

__all__ = ["Task", "TaskBatch", "ReachTask", "EMGTask", "TASKS"]

TASKS = {"reach": ReachTask, "emg": EMGTask}
