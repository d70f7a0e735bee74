"""Task generators. Each task yields :class:`TaskBatch` trials and scores outputs; see :class:`Task`."""

from biocredit.tasks.base import Task, TaskBatch
from biocredit.tasks.reach import ReachTask

__all__ = ["Task", "TaskBatch", "ReachTask", "TASKS"]

TASKS = {"reach": ReachTask}
