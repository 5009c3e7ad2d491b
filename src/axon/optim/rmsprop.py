"""RMSProp: divide the gradient by a running root-mean-square of its recent values."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from axon.optim.base import Optimizer, _check_number
from axon.parameter import Parameter


class RMSProp(Optimizer):
    """RMSProp (Hinton's lecture 6e), with PyTorch's semantics.

    With weight decay λ, g ← g + λθ first. Then:

    - s ← α·s + (1 − α)·g²                          (running mean of g², starts at 0)
    - centered: ḡ ← α·ḡ + (1 − α)·g, and d = √(s − ḡ²) + ε; otherwise d = √s + ε
    - without momentum: θ ← θ − η·g/d
    - with momentum μ:  b ← μ·b + g/d, θ ← θ − η·b

    Parameters
    ----------
    params : parameters to update (or None, bound later by ``compile``/:meth:`bind`).
    lr : learning rate η >= 0.
    alpha : smoothing constant α in [0, 1).
    eps : ε > 0.
    momentum : μ in [0, 1).
    centered : normalise by the estimated variance instead of the raw second moment.
    weight_decay : λ >= 0.
    clip_norm : global gradient-norm limit, or None (see :class:`Optimizer`).

    State per parameter: ``"square_avg"`` s, ``"grad_avg"`` ḡ (centered), ``"momentum_buffer"`` b
    (momentum), ``"step"``.
    """

    def __init__(self, params: Iterable[Parameter] | None = None, lr: float = 0.01,
                 alpha: float = 0.99, eps: float = 1e-8, momentum: float = 0.0,
                 centered: bool = False, weight_decay: float = 0.0,
                 clip_norm: float | None = None) -> None:
        self.alpha = _check_number("alpha", alpha, high=1.0)
        self.eps = _check_number("eps", eps, low_open=True, hint="; try 1e-8")
        self.momentum = _check_number("momentum", momentum, high=1.0)
        self.centered = bool(centered)
        super().__init__(params, lr, weight_decay, clip_norm)

    def update(self, p: Parameter, g: np.ndarray, state: dict[str, Any]) -> None:
        a = self.alpha
        s = self._array(state, "square_avg", p.data)
        tmp = self._scratch(state, "_tmp", p.data)
        s *= a
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - a
        s += tmp
        if self.centered:
            ga = self._array(state, "grad_avg", p.data)
            np.subtract(g, ga, out=tmp)  # ḡ += (1 − α)(g − ḡ), PyTorch's lerp
            tmp *= 1.0 - a
            ga += tmp
            np.multiply(ga, ga, out=tmp)
            np.subtract(s, tmp, out=tmp)
            np.sqrt(tmp, out=tmp)
        else:
            np.sqrt(s, out=tmp)
        tmp += self.eps
        np.divide(g, tmp, out=tmp)
        if self.momentum:
            b = self._array(state, "momentum_buffer", p.data)
            b *= self.momentum
            b += tmp
            np.multiply(b, self.lr, out=tmp)
        else:
            tmp *= self.lr
        p.data -= tmp

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "alpha": self.alpha, "eps": self.eps,
                "momentum": self.momentum, "centered": self.centered}
