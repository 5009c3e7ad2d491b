"""A trainable tensor and its gradient."""

from __future__ import annotations

import numpy as np

from axon.backend import namespace, to_device


class Parameter:
    """A trainable array ``data`` with a gradient ``grad`` of the same shape and dtype.

    ``name`` is set by the owning layer, e.g. ``"dense_1.weight"``. Backward passes
    *accumulate* into ``grad`` (``grad += ∂C/∂data``); ``zero_grad`` resets it.
    ``trainable=False`` freezes the parameter: optimizers skip it.

    ``zero_grad`` is lazy, as PyTorch's ``set_to_none``: it only marks the gradient as zero, and
    the next backward writes into the buffer instead of adding (no fill, no copy per step). Reading
    ``grad`` in between gives zeros; an array taken from ``grad`` *before* ``zero_grad`` keeps its
    old values until then.
    """

    __slots__ = ("data", "_grad", "name", "trainable", "_fresh", "_stale")

    def __init__(self, data: np.ndarray, name: str = "", trainable: bool = True) -> None:
        self.data = data
        self._grad = np.zeros_like(data)
        self.name = name
        self.trainable = trainable
        self._fresh = True   # grad is logically zero: the next accumulate may overwrite instead of add
        self._stale = False  # the buffer still holds old values: zero it before anyone reads it

    @property
    def grad(self) -> np.ndarray:
        """∂C/∂data, same shape and dtype as ``data`` (one buffer, reused between steps)."""
        if self._stale:
            self._grad.fill(0)
            self._stale = False
        return self._grad

    @grad.setter
    def grad(self, value: np.ndarray) -> None:
        self._grad = value
        self._fresh = self._stale = False

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    def zero_grad(self) -> None:
        """Make ``grad`` zero (lazily: the buffer is cleared when read, or overwritten by backward)."""
        if not self._fresh:
            self._fresh = self._stale = True

    def accumulate(self, value: np.ndarray) -> None:
        """``grad += value``; a copy into the zeroed buffer when nothing was accumulated yet."""
        if self._fresh:
            np.copyto(self._grad, value)
            self._fresh = self._stale = False
        else:
            self._grad += value

    def accumulate_matmul(self, a: np.ndarray, b: np.ndarray) -> None:
        """``grad += a @ b``; the product is written straight into ``grad`` when it is fresh.

        Saves a temporary and a copy per step for the weight gradients (BP4: ∂C/∂W = aᵀ·δ).
        """
        if self._fresh:
            namespace(a).matmul(a, b, out=self._grad)
            self._fresh = self._stale = False
        else:
            self._grad += a @ b

    def to_device(self, device: str) -> None:
        """Move ``data`` and ``grad`` to ``device`` ("cpu" or "cuda", see :mod:`axon.backend`)."""
        self.data = to_device(self.data, device)
        self._grad = to_device(self._grad, device)

    def astype(self, dtype: np.dtype) -> None:
        """Convert ``data`` and ``grad`` to ``dtype`` in place of the old arrays."""
        self.data = self.data.astype(dtype)
        fresh = self._fresh
        self.grad = self.grad.astype(dtype)
        self._fresh = fresh

    def __repr__(self) -> str:
        return f"Parameter({self.name!r}, shape={self.data.shape}, dtype={self.data.dtype})"
