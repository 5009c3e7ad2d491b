"""AdaGrad: a per-weight step size that shrinks with the sum of that weight's squared gradients."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from axon.optim.base import Optimizer, _check_number
from axon.parameter import Parameter


class AdaGrad(Optimizer):
    """AdaGrad (Duchi et al., 2011), with PyTorch's semantics.

    With weight decay λ, g ← g + λθ first. Then, at the parameter's step t:

    - h ← h + g²                      (h starts at ``initial_accumulator_value``)
    - η_t = η / (1 + (t − 1)·lr_decay)
    - θ ← θ − η_t · g / (√h + ε)

    Weights whose gradients were large get small steps ("Deep Learning from Scratch", 6.1.5).

    Parameters
    ----------
    params : parameters to update (or None, bound later by ``compile``/:meth:`bind`).
    lr : learning rate η >= 0.
    eps : ε > 0 (PyTorch's default 1e-10).
    lr_decay : >= 0, decays η with the step count.
    initial_accumulator_value : starting value of h, >= 0.
    weight_decay : λ >= 0.
    clip_norm : global gradient-norm limit, or None (see :class:`Optimizer`).

    State per parameter: ``"sum"`` h, ``"step"`` t.
    """

    def __init__(self, params: Iterable[Parameter] | None = None, lr: float = 0.01,
                 eps: float = 1e-10, lr_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 weight_decay: float = 0.0, clip_norm: float | None = None) -> None:
        self.eps = _check_number("eps", eps, low_open=True, hint="; try 1e-10")
        self.lr_decay = _check_number("lr_decay", lr_decay)
        self.initial_accumulator_value = _check_number("initial_accumulator_value",
                                                       initial_accumulator_value)
        super().__init__(params, lr, weight_decay, clip_norm)

    def update(self, p: Parameter, g: np.ndarray, state: dict[str, Any]) -> None:
        h = self._array(state, "sum", p.data, self.initial_accumulator_value)
        tmp = self._scratch(state, "_tmp", p.data)
        np.multiply(g, g, out=tmp)
        h += tmp
        np.sqrt(h, out=tmp)
        tmp += self.eps
        np.divide(g, tmp, out=tmp)
        tmp *= self.lr / (1.0 + (state["step"] - 1) * self.lr_decay)
        p.data -= tmp

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "eps": self.eps, "lr_decay": self.lr_decay,
                "initial_accumulator_value": self.initial_accumulator_value}
