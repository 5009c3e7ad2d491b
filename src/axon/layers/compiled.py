"""Compiled loops for the convolution and max pooling, on all cores (Numba, :mod:`axon.fast`).

NumPy runs a convolution as im2col, which copies every input pixel ``kh·kw`` times, and one
matrix product that is too small for BLAS to run fast when the kernel sees few numbers (LeNet's
first layer: 1 channel, 5×5, so a 6×25 by 25×784 product per image). Max pooling takes a dozen
whole-array passes, and all of it except the products runs on one core. With Numba installed,
:class:`~axon.layers.Conv2D` (stride 1, large outputs, small kernels) and
:class:`~axon.layers.MaxPool2D` (2×2 windows, stride 2) run loops that read the input where it
lies (:mod:`axon.layers.compiled_loops`), the batch split over the BLAS thread count
(:mod:`axon._workers`). The formulas are those of the layers' docstrings; the NumPy code in the
layers stays the reference, and the tests compare the two.

Results repeat exactly from run to run and do not depend on the thread count; against the NumPy
path they differ by rounding (sums taken in another order).
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from axon import fast
from axon._workers import split_batch

LOOPS = "axon.layers.compiled_loops"


def applies(x: object) -> bool:
    """Whether the compiled loops can take ``x``: they are on (:mod:`axon.fast`), and ``x`` is a
    float32 or float64 NumPy array."""
    return fast.takes(x) and fast.loops(LOOPS) is not None


def _loaded() -> ModuleType:
    mod = fast.loops(LOOPS)
    if mod is None:
        raise RuntimeError("the compiled loops are not available; check compiled.applies() first")
    return mod


def conv2d(x_pad: np.ndarray, w: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Stride-1 convolution into ``out``: ``out[n, f, p, q] = b[f] + Σ_{c,i,j} w[f,c,i,j]·x_pad[n,c,p+i,q+j]``.

    Shapes: x_pad (N, C, Hp, Wp), w (F, C, kh, kw), b (F,) → out (N, F, Hp − kh + 1, Wp − kw + 1).
    """
    split_batch(_loaded().conv2d, x_pad.shape[0], np.ascontiguousarray(x_pad), np.ascontiguousarray(w), b, out)
    return out


def conv2d_weight_grad(x_pad: np.ndarray, delta: np.ndarray, kh: int, kw: int) -> np.ndarray:
    """∂C/∂W of a stride-1 convolution: ``Σ_n Σ_{p,q} δ[n, f, p, q] · x_pad[n, c, p + i, q + j]``.

    Shapes: x_pad (N, C, Hp, Wp), delta (N, F, Ho, Wo) → (F, C, kh, kw). Each sample's share is
    computed on its thread, then the shares are summed in sample order.
    """
    N, C = x_pad.shape[:2]
    part = np.empty((N, delta.shape[1], C, kh, kw), dtype=delta.dtype)
    split_batch(_loaded().conv2d_weight_grad, N, x_pad, np.ascontiguousarray(delta), part, delta.dtype.type(0))
    return part.sum(axis=0)


def conv2d_input_grad(delta_pad: np.ndarray, w: np.ndarray, out: np.ndarray) -> np.ndarray:
    """∂C/∂x_pad of a stride-1 convolution, into ``out``: δ convolved with the flipped kernel,
    ``dx_pad[n, c, u, v] = Σ_{f,i,j} w[f, c, i, j] · δ[n, f, u − i, v − j]``.

    ``delta_pad`` (N, F, Ho + 2(kh − 1), Wo + 2(kw − 1)) is δ with ``kh − 1`` and ``kw − 1`` zeros on
    each side, so that this is the forward loop with the weight ``w[:, :, ::-1, ::-1]`` with its
    two channel axes swapped. out: (N, C, Hp, Wp).
    """
    flipped = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
    return conv2d(delta_pad, flipped, np.zeros(flipped.shape[0], dtype=w.dtype), out)


def max_pool_2x2(x: np.ndarray, y: np.ndarray, arg: np.ndarray) -> np.ndarray:
    """2×2 max pooling with stride 2 into ``y`` (N, C, H // 2, W // 2); ``arg`` (uint8, y's shape)
    gets each window's offset ``2·i + j`` of its maximum (the first in row-major order). x: (N, C, H, W)."""
    split_batch(_loaded().max_pool_2x2, x.shape[0], np.ascontiguousarray(x), y, arg)
    return y


def max_pool_2x2_backward(grad_y: np.ndarray, arg: np.ndarray, dx: np.ndarray) -> np.ndarray:
    """Route each ∂C/∂y entry to its window's maximum (``arg`` from :func:`max_pool_2x2`), zeros
    elsewhere, into ``dx`` (N, C, H, W)."""
    split_batch(_loaded().max_pool_2x2_backward, dx.shape[0], np.ascontiguousarray(grad_y), arg, dx)
    return dx
