"""Adam and AdamW: momentum on the gradient and a per-weight step size from its second moment."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from axon.optim.base import Optimizer, _check_number
from axon.parameter import Parameter


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), with PyTorch's semantics.

    With weight decay λ (coupled, L2), g ← g + λθ first. Then, at the parameter's step t:

    - m ← β₁·m + (1 − β₁)·g                 (first moment: a running mean of g)
    - v ← β₂·v + (1 − β₂)·g²                (second moment: a running mean of g²)
    - m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)  (bias correction: m and v start at 0)
    - θ ← θ − η · m̂ / (√v̂ + ε)

    The state holds the moments as decaying *sums*, S₁ ← β₁·S₁ + g and S₂ ← β₂·S₂ + g², so that
    m = (1 − β₁)·S₁ and v = (1 − β₂)·S₂: the same numbers up to rounding, with one pass over the
    weights less for each (an update is ten NumPy passes instead of thirteen; see bench/RESULTS.md).

    Parameters
    ----------
    params : parameters to update (or None, bound later by ``compile``/:meth:`bind`).
    lr : learning rate η >= 0 (default 1e-3).
    betas : (β₁, β₂), each in [0, 1).
    eps : ε > 0, keeps the division finite.
    weight_decay : λ >= 0 (for decoupled decay use :class:`AdamW`).
    clip_norm : global gradient-norm limit, or None (see :class:`Optimizer`).

    State per parameter: ``"grad_sum"`` S₁ and ``"grad_sq_sum"`` S₂ (shape of θ), ``"step"`` t.
    """

    def __init__(self, params: Iterable[Parameter] | None = None, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, clip_norm: float | None = None) -> None:
        self.betas = betas
        self.eps = _check_number("eps", eps, low_open=True, hint="; try 1e-8")
        super().__init__(params, lr, weight_decay, clip_norm)

    @property
    def betas(self) -> tuple[float, float]:
        """(β₁, β₂): decay rates of the first and second moment estimates."""
        return self._betas

    @betas.setter
    def betas(self, value: tuple[float, float]) -> None:
        try:
            b1, b2 = value
        except (TypeError, ValueError):
            raise ValueError(f"betas must be a pair (beta1, beta2), got {value!r}; try (0.9, 0.999)") from None
        new = (_check_number("betas[0]", b1, high=1.0), _check_number("betas[1]", b2, high=1.0))
        old = getattr(self, "_betas", new)
        # Keep the moments m = (1 − β₁)·S₁ and v = (1 − β₂)·S₂ as they are when the betas change.
        for state in getattr(self, "state", ()):
            for key, b_old, b_new in (("grad_sum", old[0], new[0]), ("grad_sq_sum", old[1], new[1])):
                if key in state and b_old != b_new:
                    state[key] *= (1.0 - b_old) / (1.0 - b_new)
        self._betas = new

    def update(self, p: Parameter, g: np.ndarray, state: dict[str, Any]) -> None:
        b1, b2 = self._betas
        t = state["step"]
        s1 = self._array(state, "grad_sum", p.data)
        s2 = self._array(state, "grad_sq_sum", p.data)
        tmp = state.get("_tmp")
        if tmp is None or tmp.dtype != p.data.dtype:
            tmp = self._scratch(state, "_tmp", p.data)
        s1 *= b1
        s1 += g
        s2 *= b2
        np.multiply(g, g, out=tmp)
        s2 += tmp
        # η·m̂/(√v̂ + ε) = s·S₁/(c·√S₂ + ε) with s = η(1 − β₁)/(1 − β₁ᵗ), c = √((1 − β₂)/(1 − β₂ᵗ));
        # dividing S₁ by (c/s)·√S₂ + ε/s folds the step size s into the denominator (one pass less).
        s = self.lr * (1.0 - b1) / (1.0 - b1 ** t)
        if s == 0.0:  # lr = 0: the moments move, the weights do not
            return
        np.sqrt(s2, out=tmp)
        tmp *= math.sqrt((1.0 - b2) / (1.0 - b2 ** t)) / s
        tmp += self.eps / s
        np.divide(s1, tmp, out=tmp)
        p.data -= tmp

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "betas": list(self._betas), "eps": self.eps}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as PyTorch's ``AdamW``.

    Each step first shrinks the weights, θ ← θ·(1 − η·λ), then applies the Adam update of
    :class:`Adam` with the raw gradient g (the decay never enters m or v, so it is not rescaled by
    the adaptive step size as L2 in Adam is). Default λ = 0.01, PyTorch's.

    Parameters are those of :class:`Adam`.
    """

    decoupled_weight_decay = True

    def __init__(self, params: Iterable[Parameter] | None = None, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.01, clip_norm: float | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, clip_norm)

    def update(self, p: Parameter, g: np.ndarray, state: dict[str, Any]) -> None:
        if self.weight_decay:
            p.data *= 1.0 - self.lr * self.weight_decay
        super().update(p, g, state)
