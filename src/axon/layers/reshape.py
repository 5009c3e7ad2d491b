"""Flatten: from image feature maps to feature rows, between the convolutional and dense parts."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from axon.layers.base import Layer, register_layer
from axon.validation import check_int


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


@register_layer
class Reshape(Layer):
    """Reshape every sample: (N, …) → (N, *shape), e.g. flat 64-pixel rows to (1, 8, 8) images.

    The number of values per sample must stay the same. Backward reshapes ∂C/∂y back to the input
    shape. ``shape`` is one sample's target shape (no batch axis).
    """

    def __init__(self, shape: tuple[int, ...] | list[int], name: str | None = None) -> None:
        super().__init__(name)
        shape = tuple(shape) if isinstance(shape, (list, tuple)) else (shape,)
        if not shape:
            raise ValueError("Reshape shape must be a tuple of positive integers, got ()")
        self.shape = tuple(check_int(s, "each size in Reshape's shape") for s in shape)
        self._in_shape: tuple[int, ...]  # the input shape of the last forward

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if x.ndim < 1 or math.prod(x.shape[1:]) != math.prod(self.shape):
            raise ValueError(f"{self.name} cannot reshape samples of shape {x.shape[1:]} to {self.shape}: "
                             f"{math.prod(self.shape)} values per sample are needed")
        self._in_shape = x.shape
        return x.reshape(x.shape[0], *self.shape)

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        return grad_y.reshape(self._in_shape)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        if math.prod(input_shape) != math.prod(self.shape):
            raise ValueError(f"{self.name} cannot reshape samples of shape {tuple(input_shape)} to {self.shape}")
        return self.shape

    def get_config(self) -> dict[str, Any]:
        return {"shape": list(self.shape)}
