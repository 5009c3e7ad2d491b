"""The 1-D convolution layer (N, C, L), computed as im2col and one matrix product."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from axon import backend
from axon._config import as_generator, resolve_dtype
from axon.initializers import initialize
from axon.layers.base import Layer, register_layer
from axon.layers.im2col import ConvWorkspace, col2im, conv_output_size, im2col
from axon.layers.regularization import add_penalty_gradient, check_strengths, weight_penalty
from axon.validation import check_int

if TYPE_CHECKING:
    from axon._config import Seed


@register_layer
class Conv1D(ConvWorkspace, Layer):
    """1-D convolution (cross-correlation) over sequences: (N, C, L) in, (N, F, Lo) out, as PyTorch.

    ``y[n, f, t] = b[f] + Σ_c Σ_i W[f, c, i] · x_pad[n, c, s·t + d·i]``

    with stride ``s``, dilation ``d`` (the spacing of the kernel's taps) and ``x_pad`` the input
    with ``padding`` zeros at each end. ``Lo = (L + 2·padding − d·(k − 1) − 1) // s + 1``.
    Weight ``W`` (F, C, k) as PyTorch's ``nn.Conv1d``, bias ``b`` (F,).

    Computed as im2col (:mod:`axon.layers.im2col`) with the batch inside the columns: the windows
    become one matrix ``X_col`` (C·k, N·Lo) and ``y = W_mat @ X_col`` with ``W_mat`` (F, C·k) is a
    single product for the whole batch. Backward, with δ = ∂C/∂y as (F, N·Lo):

    - ∂C/∂b = Σ_{n,t} δ            (a row of ones under X_col and b beside W_mat: one product for both)
    - ∂C/∂W = δ · X_colᵀ
    - ∂C/∂x = col2im(W_matᵀ · δ)       (each column's gradient added back where it was read)

    Regularisation as :class:`~axon.layers.Dense`: ``l2/2 · Σ W² + l1 · Σ |W|`` (biases excluded).

    Parameters
    ----------
    in_channels, out_channels : C and F.
    kernel_size : k.
    stride, padding, dilation : as above; defaults 1, 0, 1 ("same" length for odd k and stride 1:
        padding = d·(k − 1) // 2).
    init : "he" (default), "xavier", "lecun", "normal", "uniform", "zeros" or ``init(shape, rng)``;
        fan_in = C·k.
    bias : whether to add ``b``.
    l1, l2 : penalty strengths, >= 0.
    dtype : "float32" or "float64"; default :func:`axon.get_default_dtype`.
    seed : the initial weights' randomness: None (axon's generator), an int or a Generator.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int = 0, dilation: int = 1, *, init: str | Callable = "he", bias: bool = True,
                 l1: float = 0.0, l2: float = 0.0, dtype=None, seed: Seed = None,
                 name: str | None = None) -> None:
        super().__init__(name)
        self.in_channels = check_int(in_channels, "Conv1D in_channels", example=1)
        self.out_channels = check_int(out_channels, "Conv1D out_channels", example=16)
        self.kernel_size = check_int(kernel_size, "Conv1D kernel_size", example=3)
        self.stride = check_int(stride, "Conv1D stride", example=1)
        self.padding = check_int(padding, "Conv1D padding", minimum=0, example=1)
        self.dilation = check_int(dilation, "Conv1D dilation", example=1)
        self.l1, self.l2 = check_strengths(l1, l2, "Conv1D")
        self.init = init
        dt = resolve_dtype(dtype)
        shape = (self.out_channels, self.in_channels, self.kernel_size)
        self.weight = self.add_parameter("weight", initialize(init, shape, as_generator(seed), dt))
        self.bias = self.add_parameter("bias", np.zeros(self.out_channels, dtype=dt)) if bias else None
        self._cols: np.ndarray  # the im2col matrix and input shape of the last forward
        self._in_shape: tuple[int, ...]
        self._work: dict[tuple, np.ndarray] = {}  # see ConvWorkspace

    def _out_length(self, L: int) -> int:
        Lo = conv_output_size(L, self.kernel_size, self.stride, self.padding, self.dilation)
        if Lo < 1:
            raise ValueError(f"{self.name}: input of length {L} is shorter than the kernel's span "
                             f"{self.dilation * (self.kernel_size - 1) + 1} (padding {self.padding}); "
                             f"use a longer input, more padding or a smaller kernel")
        return Lo

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        W = self.weight.data
        if x.ndim != 3 or x.shape[1] != self.in_channels:
            raise ValueError(f"{self.name} expects input of shape (n, {self.in_channels}, length), got {x.shape}")
        if x.dtype != W.dtype:
            x = x.astype(W.dtype)
        N, C, L = x.shape
        k, s, p, d, F = self.kernel_size, self.stride, self.padding, self.dilation, self.out_channels
        Lo = self._out_length(L)
        # Channels first, batch second: (C, N, Lp). im2col then treats the batch as the height of
        # a kernel of height 1, and its columns (1, C, 1, k, N, Lo) are the (C·k, N·Lo) matrix.
        x_pad, _ = self._buffer("pad", (1, C, N, L + 2 * p), x)
        x_pad[0, :, :, p:p + L] = x.transpose(1, 0, 2)
        # With a bias, the columns get one more row of ones (written once: the buffer is reused)
        # and W_mat the bias as one more column, so the product adds b and backward's product
        # gives ∂C/∂b = Σ δ with ∂C/∂W.
        extra = self.bias is not None
        cols, fresh = self._buffer("cols", (C * k + extra) * N * Lo, x)
        if fresh and extra:
            cols[C * k * N * Lo:] = 1
        im2col(x_pad, 1, k, 1, s, N, Lo, out=cols[:C * k * N * Lo].reshape(1, C, 1, k, N, Lo), dilation=(1, d))
        self._cols, self._in_shape = cols.reshape(C * k + extra, N * Lo), x.shape
        Wm = W.reshape(F, C * k)
        if extra:
            assert self.bias is not None
            Wm = np.concatenate([Wm, self.bias.data[:, None]], axis=1)
        y = Wm @ self._cols                                         # (F, N·Lo)
        return y.reshape(F, N, Lo).transpose(1, 0, 2)             # (N, F, Lo), a view

    def _delta(self, grad_y: np.ndarray) -> np.ndarray:
        """δ as (F, N·Lo), after accumulating ∂C/∂W and ∂C/∂b."""
        N, F, Lo = grad_y.shape
        delta = backend.namespace(grad_y).ascontiguousarray(grad_y.transpose(1, 0, 2)).reshape(F, N * Lo)
        grads = delta @ self._cols.T                              # (F, C·k [+ 1])
        Ck = self.in_channels * self.kernel_size
        self.weight.accumulate(grads[:, :Ck].reshape(self.weight.shape))
        add_penalty_gradient(self.weight, self.l1, self.l2)
        if self.bias is not None:
            self.bias.accumulate(grads[:, Ck])
        return delta

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        delta = self._delta(grad_y)
        N, C, L = self._in_shape
        k, s, p, d = self.kernel_size, self.stride, self.padding, self.dilation
        Lo = grad_y.shape[2]
        dcols = (self.weight.data.reshape(self.out_channels, C * k).T @ delta).reshape(C, 1, k, N, Lo, 1)
        dxp, _ = self._buffer("dpad", (C, N, L + 2 * p, 1), delta)
        col2im(dcols, N, L + 2 * p, 1, s, out=dxp, dilation=(1, d))
        return backend.namespace(dxp).ascontiguousarray(dxp[:, :, p:p + L, 0].transpose(1, 0, 2))

    def backward_params(self, grad_y: np.ndarray) -> None:
        """∂C/∂W and ∂C/∂b only: the first layer of a model skips the col2im of ∂C/∂x."""
        self._delta(grad_y)

    def penalty(self) -> float:
        return weight_penalty(self.weight.data, self.l1, self.l2)

    def compute_mask(self, x: np.ndarray, mask: np.ndarray | None) -> np.ndarray | None:
        return None  # (N, C, L): no (N, T) time axis for a padding mask to describe

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        if len(input_shape) != 2 or input_shape[0] != self.in_channels:
            raise ValueError(f"{self.name} expects samples of shape ({self.in_channels}, length), "
                             f"got {tuple(input_shape)}")
        return (self.out_channels, self._out_length(input_shape[1]))

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"in_channels": self.in_channels, "out_channels": self.out_channels,
                  "kernel_size": self.kernel_size, "stride": self.stride, "padding": self.padding,
                  "dilation": self.dilation, "bias": self.bias is not None, "l1": self.l1, "l2": self.l2}
        if isinstance(self.init, str):
            config["init"] = self.init
        return config
