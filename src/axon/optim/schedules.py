"""Learning-rate schedules: callables ``epoch -> lr``, composable.

A schedule is any callable that takes the epoch number (counted from 0) and returns the learning
rate for that epoch, a Python float >= 0. The built-in ones carry their base learning rate::

    from axon.optim.schedules import CosineDecay, Warmup
    schedule = Warmup(CosineDecay(0.1, decay_epochs=45), warmup_epochs=5)
    [round(schedule(e), 4) for e in (0, 4, 5, 50)]     # [0.0167, 0.0833, 0.1, 0.0]

The ``LearningRateScheduler`` callback calls ``schedule(epoch)`` at the start of every epoch and
sets ``optimizer.lr`` to the result; a plain function such as ``lambda epoch: 0.1 * 0.95 ** epoch``
works the same way. A wrapped schedule (``Warmup``) accepts a schedule, a plain function or a
constant learning rate.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from axon.optim.base import _check_number
from axon.validation import check_int


def _check_epoch(epoch: Any) -> int:
    return check_int(epoch, "a schedule's epoch (counted from 0)", minimum=0)


class Schedule:
    """Base class: ``schedule(epoch) -> lr`` for epoch = 0, 1, 2, … (subclasses implement ``lr_at``)."""

    def __call__(self, epoch: int) -> float:
        return float(self.lr_at(_check_epoch(epoch)))

    def lr_at(self, epoch: int) -> float:
        """The learning rate of ``epoch`` (already checked to be an int >= 0)."""
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments (JSON-serialisable where the wrapped schedule is)."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class StepDecay(Schedule):
    """Multiply the rate by γ every ``step_size`` epochs (PyTorch's ``StepLR``).

    lr(e) = initial_lr · γ^⌊e / step_size⌋

    Parameters
    ----------
    initial_lr : lr(0) >= 0.
    step_size : epochs between drops, a positive integer.
    gamma : factor γ >= 0 applied at each drop (0.1: divide by ten).
    """

    def __init__(self, initial_lr: float, step_size: int, gamma: float = 0.1) -> None:
        self.initial_lr = _check_number("initial_lr", initial_lr)
        self.step_size = check_int(step_size, "step_size")
        self.gamma = _check_number("gamma", gamma)

    def lr_at(self, epoch: int) -> float:
        return self.initial_lr * self.gamma ** (epoch // self.step_size)

    def get_config(self) -> dict[str, Any]:
        return {"initial_lr": self.initial_lr, "step_size": self.step_size, "gamma": self.gamma}


class ExponentialDecay(Schedule):
    """Smooth exponential decay (PyTorch's ``ExponentialLR`` when ``decay_epochs=1``).

    lr(e) = initial_lr · γ^(e / decay_epochs)

    Parameters
    ----------
    initial_lr : lr(0) >= 0.
    gamma : factor γ >= 0 applied per ``decay_epochs`` epochs (e.g. 0.95).
    decay_epochs : the epochs over which the rate is multiplied by γ once, a positive integer.
    """

    def __init__(self, initial_lr: float, gamma: float, decay_epochs: int = 1) -> None:
        self.initial_lr = _check_number("initial_lr", initial_lr)
        self.gamma = _check_number("gamma", gamma)
        self.decay_epochs = check_int(decay_epochs, "decay_epochs")

    def lr_at(self, epoch: int) -> float:
        return self.initial_lr * self.gamma ** (epoch / self.decay_epochs)

    def get_config(self) -> dict[str, Any]:
        return {"initial_lr": self.initial_lr, "gamma": self.gamma, "decay_epochs": self.decay_epochs}


class CosineDecay(Schedule):
    """Half a cosine from ``initial_lr`` down to ``min_lr`` over ``decay_epochs``, then ``min_lr``.

    lr(e) = min_lr + (initial_lr − min_lr) · (1 + cos(π · min(e, T) / T)) / 2,  T = decay_epochs

    (SGDR without restarts; PyTorch's ``CosineAnnealingLR`` with ``T_max = T``, ``eta_min = min_lr``
    for e <= T.)

    Parameters
    ----------
    initial_lr : lr(0) >= 0.
    decay_epochs : T, a positive integer; lr(T) = min_lr.
    min_lr : the floor, 0 <= min_lr (may exceed initial_lr for a cosine rise, rarely useful).
    """

    def __init__(self, initial_lr: float, decay_epochs: int, min_lr: float = 0.0) -> None:
        self.initial_lr = _check_number("initial_lr", initial_lr)
        self.decay_epochs = check_int(decay_epochs, "decay_epochs")
        self.min_lr = _check_number("min_lr", min_lr)

    def lr_at(self, epoch: int) -> float:
        t = min(epoch, self.decay_epochs) / self.decay_epochs
        return self.min_lr + (self.initial_lr - self.min_lr) * 0.5 * (1.0 + math.cos(math.pi * t))

    def get_config(self) -> dict[str, Any]:
        return {"initial_lr": self.initial_lr, "decay_epochs": self.decay_epochs, "min_lr": self.min_lr}


class _Constant(Schedule):
    def __init__(self, lr: float) -> None:
        self.initial_lr = _check_number("learning rate", lr)

    def lr_at(self, epoch: int) -> float:
        return self.initial_lr

    def __repr__(self) -> str:
        return repr(self.initial_lr)


class Warmup(Schedule):
    """Linear warm-up for ``warmup_epochs`` epochs, then the wrapped schedule (shifted to start).

    With W = warmup_epochs, s = start_factor and peak = schedule(0):

    - e < W:  lr(e) = peak · (s + (1 − s) · e / W)     (a straight line from s·peak towards peak)
    - e >= W: lr(e) = schedule(e − W)                   (the wrapped schedule starts at epoch W)

    The default s = 1/(W + 1) gives lr(e) = peak · (e + 1)/(W + 1): never 0, rising to the peak
    at epoch W. Large learning rates with Adam or big batches are steadier after a warm-up.

    Parameters
    ----------
    schedule : a :class:`Schedule`, any callable ``epoch -> lr``, or a constant learning rate.
    warmup_epochs : W, a positive integer.
    start_factor : s in (0, 1], or None for 1/(W + 1).
    """

    def __init__(self, schedule: Schedule | Callable[[int], float] | float, warmup_epochs: int,
                 start_factor: float | None = None) -> None:
        if callable(schedule):
            self.schedule = schedule
        else:
            self.schedule = _Constant(schedule)
        self.warmup_epochs = check_int(warmup_epochs, "warmup_epochs")
        self.start_factor = (1.0 / (self.warmup_epochs + 1) if start_factor is None else
                             _check_number("start_factor", start_factor, low_open=True, high=1.0,
                                           high_open=False))

    @property
    def initial_lr(self) -> float:
        """The peak rate, the wrapped schedule's first value."""
        return float(self.schedule(0))

    def lr_at(self, epoch: int) -> float:
        w = self.warmup_epochs
        if epoch < w:
            s = self.start_factor
            return float(self.schedule(0)) * (s + (1.0 - s) * epoch / w)
        return float(self.schedule(epoch - w))

    def get_config(self) -> dict[str, Any]:
        return {"schedule": self.schedule, "warmup_epochs": self.warmup_epochs,
                "start_factor": self.start_factor}
