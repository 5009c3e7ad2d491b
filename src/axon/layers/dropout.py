"""Inverted dropout."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from axon import backend
from axon._config import as_generator
from axon.layers.base import Layer, register_layer

if TYPE_CHECKING:
    from axon._config import Seed


@register_layer
class Dropout(Layer):
    """Inverted dropout: in training, a = z ⊙ m / (1 − p) with mᵢ ~ Bernoulli(1 − p).

    Each unit is zeroed with probability ``p`` and the survivors are scaled by 1/(1 − p), so the
    expected activation is unchanged and inference is the identity (no rescaling needed).
    Backward applies the same mask: ∂C/∂z = ∂C/∂a ⊙ m / (1 − p). Any shape.

    ``seed`` draws the masks: None (default) uses axon's generator at every forward pass, so
    :func:`axon.set_seed` reaches this layer even after it was built; an int or a Generator gives
    the layer its own. ``fit(seed=...)`` gives it its own for the run. The generator in use is
    ``layer.rng``.
    """

    stochastic = True

    def __init__(self, p: float = 0.5, seed: Seed = None, name: str | None = None) -> None:
        super().__init__(name)
        if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0 <= p < 1:
            raise ValueError(f"Dropout p must be a probability in [0, 1), got {p!r}")
        self.p = float(p)
        self._rng = None if seed is None else as_generator(seed)
        self._mask: np.ndarray | None = None

    @property
    def rng(self) -> np.random.Generator:
        """The generator the masks come from: the layer's own, or axon's (:func:`axon.set_seed`)."""
        return self._rng if self._rng is not None else as_generator(None)

    @rng.setter
    def rng(self, value: np.random.Generator) -> None:
        """Give the layer its own generator: a Generator (used as is) or an int that seeds a new one."""
        self._rng = as_generator(value, "rng")

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if not training or self.p == 0:
            self._mask = None
            return x
        dtype = x.dtype if x.dtype == np.float32 else np.float64
        keep = backend.uniform(self.rng, x.shape, dtype, like=x) >= self.p  # drawn on x's device
        self._mask = keep.astype(x.dtype)
        self._mask *= 1.0 / (1.0 - self.p)
        return x * self._mask

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        if self._mask is None:
            return grad_y.copy()
        return grad_y * self._mask

    def get_config(self) -> dict[str, Any]:
        return {"p": self.p}
