"""Adam and AdamW: momentum on the gradient and a per-weight step size from its second moment."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from axon.optim.base import Optimizer, _check_number
from axon.parameter import Parameter


def adam_step(theta: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, t: int, *, lr: float,
              betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One Adam step as the paper writes it; returns the new (θ, m, v). New arrays, any shape.

    - m ← β₁·m + (1 − β₁)·g                 (first moment: a running mean of g)
    - v ← β₂·v + (1 − β₂)·g²                (second moment: a running mean of g²)
    - m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)  (bias correction: m and v start at 0; t counts from 1)
    - θ ← θ − η · m̂ / (√v̂ + ε)

    The readable reference of :meth:`Adam.update`, which computes the same numbers (to rounding,
    checked by the tests) in fewer passes over the weights.
    """
    b1, b2 = betas
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    m_hat = m / (1 - b1 ** t)
    v_hat = v / (1 - b2 ** t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), with PyTorch's semantics: the update of :func:`adam_step`.

    With weight decay λ (coupled, L2), g ← g + λθ first. Then, at the parameter's step t, the
    paper's m, v, m̂, v̂ and θ ← θ − η·m̂/(√v̂ + ε) (see :func:`adam_step`, the formula as written).

    How :meth:`update` computes it, in ten passes over the weights instead of thirteen (the
    same numbers up to rounding; bench/RESULTS.md has the timings):

    - the moments are kept as decaying sums, S₁ ← β₁·S₁ + g and S₂ ← β₂·S₂ + g², so that
      m = (1 − β₁)·S₁ and v = (1 − β₂)·S₂ (no (1 − β) multiply per step);
    - the step is θ ← θ − S₁ / ((c/s)·√S₂ + ε/s), with s = η(1 − β₁)/(1 − β₁ᵗ) and
      c = √((1 − β₂)/(1 − β₂ᵗ)): η·m̂/(√v̂ + ε) = s·S₁/(c·√S₂ + ε), the step size s folded into the
      denominator.

    With Numba loaded (:mod:`axon.fast`) those ten passes are one compiled loop
    (:mod:`axon.optim.compiled_loops`), the same float operations in the same order: the same bits.

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
        s = self.lr * (1.0 - b1) / (1.0 - b1 ** t)
        c = math.sqrt((1.0 - b2) / (1.0 - b2 ** t))
        fused = self._fused(p.data, g, s1, s2) if s != 0.0 else None
        if fused is not None:  # the ten passes below in one (compiled, axon.fast; same bits)
            loops, (theta, gf, s1f, s2f) = fused
            f = theta.dtype.type
            loops.adam(theta, gf, s1f, s2f, f(b1), f(b2), f(c / s), f(self.eps / s))
            return
        tmp = self._scratch(state, "_tmp", p.data)
        s1 *= b1
        s1 += g
        s2 *= b2
        np.multiply(g, g, out=tmp)
        s2 += tmp
        if s == 0.0:  # lr = 0: the moments move, the weights do not
            return
        np.sqrt(s2, out=tmp)
        tmp *= c / s
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
