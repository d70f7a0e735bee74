"""Backpropagation through time: the exact gradient of the loss."""

from biocredit.learning.base import LearningRule


class BPTT(LearningRule):
    """Exact gradient (autograd through every path of the unrolled network)."""

    name = "bptt"
