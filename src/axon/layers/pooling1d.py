"""Pooling over sequences: MaxPool1D and AvgPool1D on (N, C, L), GlobalAvgPool1D.

MaxPool1D and AvgPool1D are the 2-D pools of :mod:`axon.layers.pooling` on the input viewed as
(N, C, 1, L) with a window of height 1, so the window walk, the tie rule and the backward pass
are written once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from axon.layers.base import Layer, register_layer
from axon.layers.im2col import conv_output_size
from axon.layers.pooling import AvgPool2D, MaxPool2D
from axon.validation import check_int


class _Pool1D(Layer):
    """Shared code: a 2-D pool of window (1, k) on the (N, C, 1, L) view of the input."""

    _pool2d: Callable[..., Layer]  # MaxPool2D or AvgPool2D, set by the subclass

    def __init__(self, kernel_size: int, stride: int | None = None, name: str | None = None) -> None:
        super().__init__(name)
        kind = type(self).__name__
        self.kernel_size = check_int(kernel_size, f"{kind} kernel_size", example=2)
        self.stride = self.kernel_size if stride is None else check_int(stride, f"{kind} stride", example=2)
        self._pool = self._pool2d((1, self.kernel_size), (1, self.stride))

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if x.ndim != 3:
            raise ValueError(f"{self.name} expects input of shape (n, channels, length), got {x.shape}")
        if x.shape[2] < self.kernel_size:
            raise ValueError(f"{self.name}: input of length {x.shape[2]} is shorter than the pooling "
                             f"window {self.kernel_size}; use a smaller kernel_size")
        return self._pool.forward(x[:, :, None, :], training)[:, :, 0, :]

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        return self._pool.backward(grad_y[:, :, None, :])[:, :, 0, :]

    def compute_mask(self, x: np.ndarray, mask: np.ndarray | None) -> np.ndarray | None:
        return None

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        if len(input_shape) != 2 or input_shape[1] < self.kernel_size:
            raise ValueError(f"{self.name} expects samples of shape (channels, length >= {self.kernel_size}), "
                             f"got {tuple(input_shape)}")
        return (input_shape[0], conv_output_size(input_shape[1], self.kernel_size, self.stride))

    def get_config(self) -> dict[str, Any]:
        return {"kernel_size": self.kernel_size, "stride": self.stride}


@register_layer
class MaxPool1D(_Pool1D):
    """Max pooling over the length: ``y[n, c, t] = max_{i<k} x[n, c, s·t + i]``; (N, C, L) → (N, C, Lo).

    ``Lo = (L − k) // s + 1``; stride ``s`` defaults to ``k``. Backward routes each ∂C/∂y entry to
    its window's maximum (the first one when several are equal, as PyTorch).
    """

    _pool2d = MaxPool2D


@register_layer
class AvgPool1D(_Pool1D):
    """Average pooling over the length: ``y[n, c, t] = 1/k · Σ_{i<k} x[n, c, s·t + i]``; (N, C, L) → (N, C, Lo).

    ``Lo = (L − k) // s + 1``; stride ``s`` defaults to ``k``. Backward spreads each ∂C/∂y entry
    evenly, 1/k to every position of its window.
    """

    _pool2d = AvgPool2D


@register_layer
class GlobalAvgPool1D(Layer):
    """The mean over the whole length: one vector per sequence.

    ``channels_last=False`` (default): input (N, C, L) as Conv1D gives, ``y[n, c] = 1/L Σ_t x[n, c, t]``.
    ``channels_last=True``: input (N, T, D) as Embedding, the recurrent layers and attention give,
    ``y[n, d] = Σ_t m[n, t] x[n, t, d] / Σ_t m[n, t]``, where the padding mask m (True at real
    steps; all ones without one) leaves the padding out of the mean.
    Backward: ∂C/∂x[n, t] = m[n, t] · ∂C/∂y[n] / Σ_t m[n, t].
    """

    supports_mask = True

    def __init__(self, channels_last: bool = False, name: str | None = None) -> None:
        super().__init__(name)
        self.channels_last = bool(channels_last)
        self._weights: np.ndarray | None = None
        self._shape: tuple[int, ...]  # the input shape of the last forward

    def forward(self, x: np.ndarray, training: bool = False, mask: np.ndarray | None = None) -> np.ndarray:
        if x.ndim != 3:
            layout = "(n, steps, features)" if self.channels_last else "(n, channels, length)"
            raise ValueError(f"{self.name} expects input of shape {layout}, got {x.shape}")
        self._shape = x.shape
        if not self.channels_last:
            self._weights = None
            return x.mean(axis=2)
        if mask is None:
            self._weights = None
            return x.mean(axis=1)
        if mask.shape != x.shape[:2]:
            raise ValueError(f"{self.name}: mask of shape {mask.shape} does not match input {x.shape}")
        m = mask.astype(x.dtype)
        m /= np.maximum(m.sum(axis=1, keepdims=True), 1)     # an all-padding row averages nothing
        self._weights = m[:, :, None]
        return np.einsum("nt,ntd->nd", m, x)

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        N, A, B = self._shape
        if not self.channels_last:
            return np.broadcast_to((grad_y / B)[:, :, None], self._shape).copy()
        if self._weights is None:
            return np.broadcast_to((grad_y / A)[:, None, :], self._shape).copy()
        return self._weights * grad_y[:, None, :]

    def compute_mask(self, x: np.ndarray, mask: np.ndarray | None) -> np.ndarray | None:
        return None

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        if len(input_shape) != 2:
            raise ValueError(f"{self.name} expects samples of two axes, got {tuple(input_shape)}")
        return (input_shape[1],) if self.channels_last else (input_shape[0],)

    def get_config(self) -> dict[str, Any]:
        return {"channels_last": self.channels_last}
