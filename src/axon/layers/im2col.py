"""im2col and col2im: turn a convolution into one matrix product, and back.

A convolution reads, for every output pixel, a ``C × kh × kw`` window of the (padded) input. im2col
copies those windows into columns so the whole convolution is a single matrix product with the
weight matrix ``W`` of shape ``(F, C·kh·kw)``.

Layout (chosen so that the product lands directly in NCHW order, without a transpose)::

    x     (N, C, H, W)                         the input, padded to (N, C, Hp, Wp)
    cols  (N, C, kh, kw, Ho, Wo)               cols[n, c, i, j, p, q] = x_pad[n, c, i + s·p, j + s·q]
          viewed as (N, C·kh·kw, Ho·Wo)
    y     = W @ cols  ->  (N, F, Ho·Wo)        one batched matmul (BLAS gemm per sample)

The copy loops over the ``kh·kw`` kernel offsets (9 strided slices for a 3×3 kernel), never over
output pixels, so each Python step moves a whole ``(N, C, Ho, Wo)`` block. col2im is the adjoint:
the same loop, *adding* each offset's slice back into the padded input gradient (overlapping
windows sum), which replaces the slow ``np.add.at``. col2im works batch-last::

    dcols (C, kh, kw, Ho, Wo, N)  ->  dx_pad (C, Hp, Wp, N)

because an add over a strided window is slow when its contiguous runs are short: in NCHW each run
is one output row (Wo numbers, 10 for LeNet's second convolution), batch-last it is Wo·N numbers.
For that layer this took the backward pass's col2im from 2.1 ms to 0.9 ms per batch of 64,
transposes included.

Output size per spatial axis: ``Ho = (H + 2·ph − dh·(kh − 1) − 1) // sh + 1`` (PyTorch's floor
rule; the dilation ``dh`` spaces the kernel's taps, 1 for a plain convolution).

Conv1D uses the same two functions with the batch as the height axis of a kernel of height 1
(see :mod:`axon.layers.conv1d`), so that its columns come out as one (C·k, N·Lo) matrix.
"""

from __future__ import annotations

import copy

import numpy as np

from axon import backend
from axon.validation import check_int


def pair(value: int | tuple[int, int] | list[int], arg: str, minimum: int = 1) -> tuple[int, int]:
    """``3 -> (3, 3)``; ``(3, 2)`` stays; raises ValueError naming ``arg`` for anything else."""
    a: object
    b: object
    if isinstance(value, (list, tuple)) and len(value) == 2:
        a, b = value
    else:
        a = b = value
    return check_int(a, arg, minimum=minimum), check_int(b, arg, minimum=minimum)


def conv_output_size(size: int, kernel: int, stride: int, padding: int = 0, dilation: int = 1) -> int:
    """Output length along one axis: ``(size + 2·padding − dilation·(kernel − 1) − 1) // stride + 1``."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def im2col(x_pad: np.ndarray, kh: int, kw: int, sh: int, sw: int, Ho: int, Wo: int,
           out: np.ndarray | None = None, dilation: tuple[int, int] = (1, 1),
           batch_last: bool = False) -> np.ndarray:
    """Copy the windows of an already padded input into columns.

    Parameters
    ----------
    x_pad : (N, C, Hp, Wp) padded input; with ``batch_last``, (C, Hp, Wp, N).
    kh, kw, sh, sw : kernel size and stride.
    Ho, Wo : output size.
    out : optional (N, C, kh, kw, Ho, Wo) buffer of ``x_pad``'s dtype to fill (reused between calls);
        with ``batch_last``, (C, kh, kw, Ho, Wo, N).
    dilation : (dh, dw), the spacing of the kernel's taps: offset (i, j) reads row dh·i, column dw·j.
    batch_last : the layout of :func:`col2im`, whose copies move runs of Wo·N numbers instead of Wo.

    Returns
    -------
    cols : (N, C, kh, kw, Ho, Wo); ``cols.reshape(N, C*kh*kw, Ho*Wo)`` is the im2col matrix per sample.
        With ``batch_last``, (C, kh, kw, Ho, Wo, N): ``cols.reshape(C*kh*kw, Ho*Wo*N)`` is one matrix
        for the whole batch.
    """
    dh, dw = dilation
    if batch_last:
        C, N = x_pad.shape[0], x_pad.shape[-1]
        shape: tuple[int, ...] = (C, kh, kw, Ho, Wo, N)
    else:
        N, C = x_pad.shape[:2]
        shape = (N, C, kh, kw, Ho, Wo)
    if out is None:
        out = backend.namespace(x_pad).empty(shape, dtype=x_pad.dtype)
    for i in range(kh):
        r = i * dh
        rows = slice(r, r + sh * (Ho - 1) + 1, sh)
        for j in range(kw):
            c = j * dw
            cols = slice(c, c + sw * (Wo - 1) + 1, sw)
            if batch_last:
                out[:, i, j] = x_pad[:, rows, cols]
            else:
                out[:, :, i, j] = x_pad[:, :, rows, cols]
    return out


def col2im(cols: np.ndarray, Hp: int, Wp: int, sh: int, sw: int,
           out: np.ndarray | None = None, dilation: tuple[int, int] = (1, 1)) -> np.ndarray:
    """The adjoint of :func:`im2col`, batch-last: sum every column entry back into its input position.

    Parameters
    ----------
    cols : (C, kh, kw, Ho, Wo, N) gradients with respect to the columns (the batch axis last).
    Hp, Wp : padded input size.
    sh, sw : stride.
    out : optional (C, Hp, Wp, N) buffer; it is overwritten (zeroed first).
    dilation : (dh, dw), as in :func:`im2col`.

    Returns
    -------
    (C, Hp, Wp, N) gradient with respect to the padded input (the batch axis last).
    """
    C, kh, kw, Ho, Wo, N = cols.shape
    dh, dw = dilation
    if out is None:
        out = backend.namespace(cols).empty((C, Hp, Wp, N), dtype=cols.dtype)
    # A stride as long as the kernel's span means every input position receives at most one entry
    # (assign); otherwise windows overlap and their entries add up.
    overlap = sh < dh * (kh - 1) + 1 or sw < dw * (kw - 1) + 1
    if overlap and sh == sw == 1:
        # Stride 1: the first offset's window is the block [0, Ho) x [0, Wo), written instead of
        # added, so only the rest needs zeros (one pass fewer over the gradient).
        out[:, Ho:] = 0
        out[:, :Ho, Wo:] = 0
        out[:, :Ho, :Wo] = cols[:, 0, 0]
        first = 1
    else:
        out.fill(0)
        first = 0
    for i in range(kh):
        rows = slice(i * dh, i * dh + sh * (Ho - 1) + 1, sh)
        for j in range(kw):
            if i * kw + j < first:
                continue
            window = out[:, rows, j * dw:j * dw + sw * (Wo - 1) + 1:sw]
            if overlap:
                window += cols[:, i, j]
            else:
                window[...] = cols[:, i, j]
    return out


class ConvWorkspace:
    """Mixin of the convolution layers: work arrays reused between batches, left out of copies.

    Arrays are keyed by (kind, shape, dtype, device): the padded input (its zero border is written
    once) and the column matrix. Training repeats one batch shape, so each is allocated once. Copies of
    the layer (gradcheck, checkpoints) start without them, and ``_cols`` (the columns of the last
    forward) is not copied either.
    """

    _work: dict[tuple, np.ndarray]
    _cols: np.ndarray

    def _buffer(self, kind: str, shape: tuple[int, ...], like: np.ndarray) -> tuple[np.ndarray, bool]:
        """The work array ``kind`` of this shape, dtype and device as ``like`` (zeros for the kinds "pad…");
        True when newly made."""
        dtype = like.dtype
        key = (kind, shape, dtype, backend.device_of(like))
        buf = self._work.get(key)
        if buf is not None:
            return buf, False
        if len(self._work) >= 8:  # e.g. the last, smaller batch of each epoch: keep a few shapes only
            self._work.clear()
        xp = backend.namespace(like)
        buf = self._work[key] = (xp.zeros if kind.startswith("pad") else xp.empty)(shape, dtype=dtype)
        return buf, True

    def _clear_work(self) -> None:
        self._work.clear()
        self.__dict__.pop("_cols", None)  # the last forward's columns, of the old dtype

    def to_dtype(self, dtype: np.dtype) -> None:
        """Cast the parameters (as :meth:`Layer.to_dtype`) and drop the work arrays of the old dtype."""
        super().to_dtype(dtype)  # type: ignore[misc]  # the Layer this mixin is combined with
        self._clear_work()

    def to_device(self, device: str) -> None:
        """Move the parameters (as :meth:`Layer.to_device`) and drop the work arrays on the old device."""
        super().to_device(device)  # type: ignore[misc]
        self._clear_work()

    def __deepcopy__(self, memo):
        clone = type(self).__new__(type(self))
        memo[id(self)] = clone
        for k, v in self.__dict__.items():
            if k != "_cols":  # the columns of the last forward are not copied
                setattr(clone, k, {} if k == "_work" else copy.deepcopy(v, memo))
        return clone
