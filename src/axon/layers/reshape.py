"""Flatten: from image feature maps to feature rows, between the convolutional and dense parts."""

from __future__ import annotations

import math

import numpy as np

from axon.layers.base import Layer, register_layer


@register_layer
class Flatten(Layer):
    """Flatten every sample to a row: (N, d₁, d₂, …) → (N, d₁·d₂·…), in C order.

    For NCHW feature maps the row is ``x[n].reshape(-1)``: channel by channel, then row by row, as
    PyTorch's ``nn.Flatten()``, so weights of a following Dense layer line up with PyTorch's. Backward
    reshapes ∂C/∂y back to the input shape. A view, no copy, when the input is contiguous.
    """

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name)
        self._shape: tuple[int, ...] | None = None

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if x.ndim < 2:
            raise ValueError(f"{self.name} expects a batch of shape (n, ...), got {x.shape}")
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        return grad_y.reshape(self._shape)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return (math.prod(input_shape),)
