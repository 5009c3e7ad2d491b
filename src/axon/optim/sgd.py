"""Stochastic gradient descent, with momentum and Nesterov momentum."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from axon.optim.base import Optimizer
from axon.parameter import Parameter


class SGD(Optimizer):
    """Gradient descent θ ← θ − η·g (the course's update rule), optionally with momentum.

    With momentum μ (as PyTorch): v ← μ·v + g, θ ← θ − η·v.
    Nesterov: θ ← θ − η·(g + μ·v), with v updated first.
    ``weight_decay`` λ adds λθ to g (L2 regularisation).
    """

    def __init__(self, params: Iterable[Parameter] | None = None, lr: float = 0.01,
                 momentum: float = 0.0, nesterov: bool = False, weight_decay: float = 0.0,
                 clip_norm: float | None = None) -> None:
        if not np.isfinite(momentum) or not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        if nesterov and momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        super().__init__(params, lr, weight_decay, clip_norm)

    def update(self, p: Parameter, g: np.ndarray, state: dict[str, Any]) -> None:
        if self.momentum:
            v = state.get("velocity")
            if v is None:
                v = state["velocity"] = g.copy()
            else:
                v *= self.momentum
                v += g
            g = g + self.momentum * v if self.nesterov else v
        p.data -= self.lr * g

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
