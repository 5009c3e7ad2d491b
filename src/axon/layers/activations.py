"""Activation layers: Sigmoid, Tanh, ReLU, LeakyReLU, Softmax, Identity.

Each applies its function element-wise (Softmax: over the last axis). In backward, the incoming
gradient ∂C/∂a is multiplied by the derivative, ∂C/∂z = ∂C/∂a ⊙ σ′(z): the ⊙ σ′(zˡ) factor of
the course's BP1 and BP2.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from axon import functions as F
from axon.layers.base import Layer, register_layer


@register_layer
class Sigmoid(Layer):
    """a = σ(z) = 1 / (1 + e^(−z)); backward ∂C/∂z = ∂C/∂a ⊙ a(1 − a). Any shape."""

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self._y = F.sigmoid(x)
        return self._y

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        d = F.sigmoid_prime_from_output(self._y)
        d *= grad_y
        return d


@register_layer
class Tanh(Layer):
    """a = tanh(z); backward ∂C/∂z = ∂C/∂a ⊙ (1 − a²). Any shape."""

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self._y = F.tanh(x)
        return self._y

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        d = F.tanh_prime_from_output(self._y)
        d *= grad_y
        return d


@register_layer
class ReLU(Layer):
    """a = max(0, z); backward ∂C/∂z = ∂C/∂a where z > 0, else 0. Any shape."""

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self._y = F.relu(x)
        return self._y

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        d = F.relu_prime(self._y)  # the output's mask is the input's: a > 0 exactly where z > 0
        d *= grad_y
        return d


@register_layer
class LeakyReLU(Layer):
    """a = z if z > 0 else αz; backward ∂C/∂z = ∂C/∂a ⊙ (1 if z > 0 else α). Any shape."""

    def __init__(self, alpha: float = 0.01, name: str | None = None) -> None:
        super().__init__(name)
        if not np.isfinite(alpha) or alpha < 0:
            raise ValueError(f"LeakyReLU alpha must be a finite number >= 0, got {alpha!r}")
        self.alpha = float(alpha)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self._x = x
        return F.leaky_relu(x, self.alpha)

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        d = F.leaky_relu_prime(self._x, self.alpha)
        d *= grad_y
        return d

    def get_config(self) -> dict[str, Any]:
        return {"alpha": self.alpha}


@register_layer
class Softmax(Layer):
    """aⱼ = e^(zⱼ) / Σₖ e^(zₖ) over the last axis; shape (n, k) in and out.

    Backward: ∂C/∂z = a ⊙ (∂C/∂a − Σⱼ ∂C/∂aⱼ aⱼ). To train a classifier, end the model with the
    logits and use :class:`axon.losses.SoftmaxCrossEntropy`, which fuses both into a − y.
    """

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self._y = F.softmax(x, axis=-1)
        return self._y

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        y = self._y
        return y * (grad_y - (grad_y * y).sum(axis=-1, keepdims=True))


@register_layer
class Identity(Layer):
    """a = z; backward passes the gradient through (a copy, so callers never share arrays)."""

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        return x

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        return grad_y.copy()
