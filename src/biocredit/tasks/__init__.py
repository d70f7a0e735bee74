"""Task generators. Each task yields :class:`TaskBatch` trials and scores outputs; see :class:`Task`."""

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
