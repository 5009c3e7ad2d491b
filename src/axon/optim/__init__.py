"""Optimizers (the third step: pick the best function) and learning-rate schedules."""

from axon.optim.base import Optimizer
from axon.optim.sgd import SGD

__all__ = ["Optimizer", "SGD"]
