"""Optimizers (the third step: pick the best function) and learning-rate schedules.

Every optimizer updates ``Parameter.data`` in place from ``Parameter.grad``; see
:class:`Optimizer` for clipping, weight decay, freezing and saving its state.
"""

from axon.optim import schedules
from axon.optim.adagrad import AdaGrad
from axon.optim.adam import Adam, AdamW
from axon.optim.base import Optimizer
from axon.optim.registry import OPTIMIZERS, get_optimizer
from axon.optim.rmsprop import RMSProp
from axon.optim.schedules import CosineDecay, ExponentialDecay, Schedule, StepDecay, Warmup
from axon.optim.sgd import SGD

__all__ = ["OPTIMIZERS", "AdaGrad", "Adam", "AdamW", "CosineDecay", "ExponentialDecay", "Optimizer",
           "RMSProp", "SGD", "Schedule", "StepDecay", "Warmup", "get_optimizer", "schedules"]
