"""The 2-D convolution layer (NCHW), computed as im2col and one matrix product."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from axon import backend
from axon._config import as_generator, resolve_dtype
from axon.initializers import initialize
from axon.layers import compiled
from axon.layers.base import Layer, register_layer
from axon.layers.im2col import ConvWorkspace, col2im, conv_output_size, im2col, pair
from axon.layers.regularization import add_penalty_gradient, check_strengths, weight_penalty
from axon.validation import check_int

if TYPE_CHECKING:
    from axon._config import Seed


@register_layer
class Conv2D(ConvWorkspace, Layer):
    """2-D convolution (cross-correlation, as in every deep-learning library): NCHW in, NCHW out.

    ``y[n, f, p, q] = b[f] + Σ_c Σ_i Σ_j W[f, c, i, j] · x_pad[n, c, s·p + i, s·q + j]``

    Shapes: ``x`` (N, C, H, W) → ``y`` (N, F, Ho, Wo) with
    ``Ho = (H + 2·ph − kh) // sh + 1`` and likewise ``Wo``; weight ``W`` (F, C, kh, kw) as in
    PyTorch; bias ``b`` (F,). ``x_pad`` is ``x`` with ``padding`` zeros on each side.

    Computed as im2col (see :mod:`axon.layers.im2col`): the windows become columns
    ``X_col`` (N, C·kh·kw, Ho·Wo) and ``y = W_mat @ X_col`` with ``W_mat`` (F, C·kh·kw), one product
    per sample. For small outputs (Ho·Wo < :attr:`BATCH_LAST_BELOW`) the columns are laid out
    batch-last, (C·kh·kw, Ho·Wo·N), and each of the three products is one product for the whole
    batch: per-sample products that small run far below BLAS's speed, and batch-last copies move
    runs of Wo·N numbers instead of Wo (LeNet's second convolution: im2col 0.85 → 0.20 ms per
    batch of 64). The numbers are the same up to rounding (the sum over the batch is ordered
    differently).

    With Numba (:mod:`axon.fast`) the other outputs of stride 1 and small kernels (C·kh·kw <=
    :attr:`DIRECT_MAX_TAPS`) are computed directly, without columns: compiled loops over the kernel's
    rows that read the padded input where it lies, the batch split over the BLAS thread count (see
    :mod:`axon.layers.compiled`; ∂C/∂W and ∂C/∂x as the formulas below, ∂C/∂x as the same loop
    over δ with the flipped kernel). For LeNet's first layer (1 channel, 5×5, 28×28 outputs) forward
    and ∂C/∂W take 0.51 ms each per batch of 64 on one core instead of 1.02 and 0.90 ms.
    Backward, with δ = ∂C/∂y reshaped to (N, F, Ho·Wo):

    - ∂C/∂b = Σ_{n,p,q} δ
    - ∂C/∂W = Σ_n δ[n] · X_col[n]ᵀ                 (the convolution of the input with δ)
    - ∂C/∂x = col2im(W_matᵀ · δ)                    (δ convolved back with the flipped kernel)

    Regularisation as :class:`~axon.layers.Dense`: ``l2/2 · Σ W² + l1 · Σ |W|`` (biases excluded).

    Parameters
    ----------
    in_channels, out_channels : C and F.
    kernel_size : int or (kh, kw).
    stride : int or (sh, sw), default 1.
    padding : int or (ph, pw) zeros added on each side, default 0 ("same" size for odd k: k // 2).
    init : "he" (default), "xavier", "lecun", "normal", "uniform", "zeros" or ``init(shape, rng)``.
        Fans of a conv weight count the receptive field: fan_in = C·kh·kw.
    bias : whether to add ``b``.
    l1, l2 : penalty strengths, >= 0.
    dtype : "float32" or "float64"; default :func:`axon.get_default_dtype`.
    seed : the initial weights' randomness: None (axon's generator, :func:`axon.set_seed`), an int or a
        ``numpy.random.Generator``.
    """

    #: Outputs of fewer pixels than this (Ho·Wo) use the batch-last layout (see above).
    BATCH_LAST_BELOW = 256
    #: The direct layout (compiled loops, stride 1) serves kernels of at most this many numbers (C·kh·kw).
    DIRECT_MAX_TAPS = 75

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0, *,
                 init: str | Callable = "he", bias: bool = True, l1: float = 0.0, l2: float = 0.0,
                 dtype=None, seed: Seed = None, name: str | None = None) -> None:
        super().__init__(name)
        in_channels = check_int(in_channels, "Conv2D in_channels")
        out_channels = check_int(out_channels, "Conv2D out_channels")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = pair(kernel_size, "Conv2D kernel_size")
        self.stride = pair(stride, "Conv2D stride")
        self.padding = pair(padding, "Conv2D padding", minimum=0)
        self.init = init
        self.l1, self.l2 = check_strengths(l1, l2, "Conv2D")
        dt = resolve_dtype(dtype)
        shape = (self.out_channels, self.in_channels, *self.kernel_size)
        self.weight = self.add_parameter("weight", initialize(init, shape, as_generator(seed), dt))
        self.bias = self.add_parameter("bias", np.zeros(self.out_channels, dtype=dt)) if bias else None
        # What the last forward computed with (see the class docstring), what backward reads (the
        # im2col columns, or the padded input for "direct") and its input shape.
        self._layout = "per_sample"
        self._cols: np.ndarray
        self._in_shape: tuple[int, ...]
        self._work: dict[tuple, np.ndarray] = {}  # see ConvWorkspace

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        W = self.weight.data
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"{self.name} expects input of shape (n, {self.in_channels}, height, width), "
                             f"got {x.shape}")
        if x.dtype != W.dtype:
            x = x.astype(W.dtype)
        N, C, H, Wd = x.shape
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        Ho, Wo = conv_output_size(H, kh, sh, ph), conv_output_size(Wd, kw, sw, pw)
        if Ho < 1 or Wo < 1:
            raise ValueError(f"{self.name}: input of size {H}x{Wd} is smaller than the kernel "
                             f"{kh}x{kw} (padding {ph}x{pw}); use a larger input or more padding")
        F, Wm = self.out_channels, W.reshape(self.out_channels, -1)
        xp = backend.namespace(x)
        self._in_shape = x.shape
        if Ho * Wo < self.BATCH_LAST_BELOW:
            self._layout = "batch_last"
        elif (sh, sw) == (1, 1) and C * kh * kw <= self.DIRECT_MAX_TAPS and compiled.applies(x):
            self._layout = "direct"
        else:
            self._layout = "per_sample"
        if self._layout == "batch_last":
            # One product for the whole batch: columns (C·kh·kw, Ho·Wo·N), as col2im takes them.
            x_pad, _ = self._buffer("pad_batch_last", (C, H + 2 * ph, Wd + 2 * pw, N), x)
            x_pad[:, ph:ph + H, pw:pw + Wd] = x.transpose(1, 2, 3, 0)
            cols, _ = self._buffer("cols_batch_last", (C, kh, kw, Ho, Wo, N), x)
            self._cols = im2col(x_pad, kh, kw, sh, sw, Ho, Wo, out=cols, batch_last=True)
            yt = (Wm @ cols.reshape(C * kh * kw, -1)).reshape(F, Ho, Wo, N).transpose(3, 0, 1, 2)
            y = xp.empty((N, F, Ho, Wo), dtype=x.dtype)
            if self.bias is not None:  # the bias is added in the same pass as the copy to NCHW
                xp.add(yt, self.bias.data[:, None, None], out=y)
            else:
                xp.copyto(y, yt)
            return y
        if ph or pw:
            x_pad, _ = self._buffer("pad", (N, C, H + 2 * ph, Wd + 2 * pw), x)
            x_pad[:, :, ph:ph + H, pw:pw + Wd] = x
        else:
            x_pad = x
        if self._layout == "direct":
            self._cols = x_pad = xp.ascontiguousarray(x_pad)
            b = self.bias.data if self.bias is not None else xp.zeros(F, dtype=x.dtype)
            return compiled.conv2d(x_pad, W, b, xp.empty((N, F, Ho, Wo), dtype=x.dtype))
        cols, _ = self._buffer("cols", (N, C, kh, kw, Ho, Wo), x)
        self._cols = im2col(x_pad, kh, kw, sh, sw, Ho, Wo, out=cols)
        y = Wm @ cols.reshape(N, C * kh * kw, Ho * Wo)   # (N, F, Ho·Wo)
        if self.bias is not None:
            y += self.bias.data[:, None]
        return y.reshape(N, F, Ho, Wo)

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        N, C, H, Wd = self._in_shape
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        Ho, Wo = grad_y.shape[2:]
        F, Hp, Wp = self.out_channels, H + 2 * ph, Wd + 2 * pw
        if self._layout == "direct":
            delta = self._param_grads(grad_y, delta_batch_last=False)   # (N, F, Ho, Wo)
            delta_pad, _ = self._buffer("pad_delta", (N, F, Ho + 2 * (kh - 1), Wo + 2 * (kw - 1)), delta)
            delta_pad[:, :, kh - 1:kh - 1 + Ho, kw - 1:kw - 1 + Wo] = delta
            if not (ph or pw):  # the result is returned as it is: not a work array
                out = backend.namespace(delta).empty(self._in_shape, dtype=delta.dtype)
                return compiled.conv2d_input_grad(delta_pad, self.weight.data, out)
            dxp, _ = self._buffer("dx_direct", (N, C, Hp, Wp), delta)
            compiled.conv2d_input_grad(delta_pad, self.weight.data, dxp)
            return dxp[:, :, ph:ph + H, pw:pw + Wd].copy()
        delta_t = self._param_grads(grad_y)                        # (F, Ho·Wo·N)
        Wm = self.weight.data.reshape(F, -1)
        # ∂C/∂X_col = W_matᵀ · δ, batch-last (see col2im): δ as (F, Ho·Wo·N), one product.
        dcols = (Wm.T @ delta_t).reshape(C, kh, kw, Ho, Wo, N)
        dxp, _ = self._buffer("dpad", (C, Hp, Wp, N), delta_t)
        col2im(dcols, Hp, Wp, sh, sw, out=dxp)
        return backend.namespace(dxp).ascontiguousarray(dxp[:, ph:ph + H, pw:pw + Wd].transpose(3, 0, 1, 2))

    def backward_params(self, grad_y: np.ndarray) -> None:
        """∂C/∂W and ∂C/∂b only: the first layer of a model skips the col2im of ∂C/∂x."""
        self._param_grads(grad_y, delta_batch_last=False)

    def _param_grads(self, grad_y: np.ndarray, delta_batch_last: bool = True) -> np.ndarray:
        """Accumulate ∂C/∂W and ∂C/∂b; returns δ batch-last as (F, Ho·Wo·N) (``delta_batch_last``;
        otherwise δ in whichever layout the gradients were computed)."""
        N, C = self._in_shape[:2]
        F = self.out_channels
        kh, kw = self.kernel_size
        Ho, Wo = grad_y.shape[2:]
        xp = backend.namespace(grad_y)
        if self._layout == "direct":
            delta = xp.ascontiguousarray(grad_y)
            self.weight.accumulate(compiled.conv2d_weight_grad(self._cols, delta, kh, kw))
            add_penalty_gradient(self.weight, self.l1, self.l2)
            if self.bias is not None:
                self.bias.accumulate(delta.sum(axis=(0, 2, 3)))
            return delta
        if self._layout == "batch_last":
            delta_t = xp.ascontiguousarray(grad_y.transpose(1, 2, 3, 0)).reshape(F, -1)
            cols_t = self._cols.reshape(C * kh * kw, -1)
            self.weight.accumulate((delta_t @ cols_t.T).reshape(self.weight.shape))  # ∂C/∂W: one product
            add_penalty_gradient(self.weight, self.l1, self.l2)
            if self.bias is not None:
                self.bias.accumulate(delta_t.sum(axis=1))
            return delta_t
        delta = xp.ascontiguousarray(grad_y).reshape(N, F, Ho * Wo)
        cols = self._cols.reshape(N, C * kh * kw, Ho * Wo)
        # ∂C/∂W = Σ_n δ[n] · X_col[n]ᵀ: one batched product, summed over the batch.
        self.weight.accumulate((delta @ cols.transpose(0, 2, 1)).sum(axis=0).reshape(self.weight.shape))
        add_penalty_gradient(self.weight, self.l1, self.l2)
        if self.bias is not None:
            self.bias.accumulate(delta.sum(axis=(0, 2)))
        if not delta_batch_last:
            return delta
        return xp.ascontiguousarray(delta.transpose(1, 2, 0)).reshape(F, -1)

    def penalty(self) -> float:
        return weight_penalty(self.weight.data, self.l1, self.l2)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        if len(input_shape) != 3 or input_shape[0] != self.in_channels:
            raise ValueError(f"{self.name} expects samples of shape ({self.in_channels}, height, width), "
                             f"got {tuple(input_shape)}")
        _, H, Wd = input_shape
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        return (self.out_channels, conv_output_size(H, kh, sh, ph), conv_output_size(Wd, kw, sw, pw))

    def get_config(self) -> dict[str, Any]:
        config = {"in_channels": self.in_channels, "out_channels": self.out_channels,
                  "kernel_size": list(self.kernel_size), "stride": list(self.stride),
                  "padding": list(self.padding), "bias": self.bias is not None,
                  "l1": self.l1, "l2": self.l2}
        if isinstance(self.init, str):
            config["init"] = self.init
        return config
