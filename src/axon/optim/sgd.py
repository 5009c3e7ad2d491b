"""Stochastic gradient descent, with momentum and Nesterov momentum."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from axon.optim.base import Optimizer, _check_number
from axon.parameter import Parameter


class SGD(Optimizer):
    """Gradient descent θ ← θ − η·g (the course's update rule), optionally with momentum.

    With weight decay λ, g ← g + λθ first (L2 regularisation). Then, as PyTorch's ``SGD``:

    - plain:     θ ← θ − η·g
    - momentum μ: v ← μ·v + g  (v = g on the first step), θ ← θ − η·v
    - Nesterov:  v ← μ·v + g,  θ ← θ − η·(g + μ·v)

    Parameters
    ----------
    params : parameters to update (or None, bound later by ``compile``/:meth:`bind`).
    lr : learning rate η >= 0.
    momentum : μ in [0, 1).
    nesterov : use Nesterov's look-ahead form (needs momentum > 0).
    weight_decay : λ >= 0.
    clip_norm : global gradient-norm limit, or None (see :class:`Optimizer`).

    State per parameter: ``"velocity"`` v (with momentum), ``"step"``.

    With Numba loaded (:mod:`axon.fast`) the momentum step runs as one compiled pass over the weights
    (:mod:`axon.optim.compiled_loops`), the same float operations in the same order: the same bits.
    """

    def __init__(self, params: Iterable[Parameter] | None = None, lr: float = 0.01,
                 momentum: float = 0.0, nesterov: bool = False, weight_decay: float = 0.0,
                 clip_norm: float | None = None) -> None:
        self.momentum = _check_number("momentum", momentum, high=1.0)
        if nesterov and self.momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0; pass momentum=0.9, for example")
        self.nesterov = bool(nesterov)
        super().__init__(params, lr, weight_decay, clip_norm)

    def update(self, p: Parameter, g: np.ndarray, state: dict[str, Any]) -> None:
        mu = self.momentum
        if not mu:
            tmp = self._scratch(state, "_tmp", p.data)
            np.multiply(g, self.lr, out=tmp)
            p.data -= tmp
            return
        v = state.get("velocity")
        if v is None:  # PyTorch starts the velocity at g, not at 0
            v = state["velocity"] = g.copy()
        else:
            v = self._array(state, "velocity", g)
            fused = None if self.nesterov else self._fused(p.data, g, v)
            if fused is not None:  # the four passes below in one (compiled, axon.fast; same bits)
                loops, (theta, gf, vf) = fused
                loops.sgd_momentum(theta, gf, vf, theta.dtype.type(mu), theta.dtype.type(self.lr))
                return
            v *= mu
            v += g
        tmp = self._scratch(state, "_tmp", p.data)
        if self.nesterov:
            np.multiply(v, mu, out=tmp)
            tmp += g
            tmp *= self.lr
        else:
            np.multiply(v, self.lr, out=tmp)
        p.data -= tmp

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
