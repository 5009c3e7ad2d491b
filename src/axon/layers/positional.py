"""Sinusoidal positional encoding: where in the sequence each step is, for attention to see."""

from __future__ import annotations

from typing import Any

import numpy as np

from axon import backend
from axon.layers.base import Layer, register_layer
from axon.validation import check_int


def sinusoids(steps: int, dim: int) -> np.ndarray:
    """The (steps, dim) table of "Attention is all you need" (Vaswani et al., 2017), float64.

    ``PE[t, 2i] = sin(t / 10000^(2i/dim))``, ``PE[t, 2i+1] = cos(t / 10000^(2i/dim))``: each pair
    of columns turns at its own frequency, so every position has its own pattern and a shift by a
    fixed offset is a linear map of it.
    """
    pos = np.arange(steps, dtype=np.float64)[:, None]
    pair = (np.arange(dim) // 2) * 2
    angle = pos / np.power(10000.0, pair / dim)
    return np.where(np.arange(dim) % 2 == 0, np.sin(angle), np.cos(angle))


@register_layer
class PositionalEncoding(Layer):
    """``y[n, t] = x[n, t] + PE[t]`` with the sinusoids of :func:`sinusoids`; (N, T, dim) in and out.

    Self-attention is blind to order (permuting the steps permutes its output), so the position
    is added to each step's vector. No parameters; any length T. Backward passes ∂C/∂y through.
    """

    def __init__(self, dim: int, name: str | None = None) -> None:
        super().__init__(name)
        self.dim = check_int(dim, "PositionalEncoding dim", example=64)
        self._table: np.ndarray | None = None

    def table(self, steps: int, dtype: np.dtype, device: str = backend.CPU) -> np.ndarray:
        """PE for ``steps`` positions in ``dtype`` on ``device`` (kept, and extended as longer
        inputs come)."""
        t = self._table
        if t is None or t.shape[0] < steps or t.dtype != dtype or backend.device_of(t) != device:
            t = self._table = backend.to_device(sinusoids(max(steps, 64), self.dim).astype(dtype), device)
        return t[:steps]

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if x.ndim != 3 or x.shape[2] != self.dim:
            raise ValueError(f"{self.name} expects input of shape (n, steps, {self.dim}), got {x.shape}")
        return x + self.table(x.shape[1], x.dtype, backend.device_of(x))

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        return grad_y.copy()

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {"dim": self.dim}
