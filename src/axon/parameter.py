"""A trainable tensor and its gradient."""

from __future__ import annotations

import numpy as np


class Parameter:
    """A trainable array ``data`` with a gradient ``grad`` of the same shape and dtype.

    ``name`` is set by the owning layer, e.g. ``"dense_1.weight"``. Backward passes
    *accumulate* into ``grad`` (``grad += ∂C/∂data``); ``zero_grad`` resets it.
    ``trainable=False`` freezes the parameter: optimizers skip it.
    """

    __slots__ = ("data", "grad", "name", "trainable", "_fresh")

    def __init__(self, data: np.ndarray, name: str = "", trainable: bool = True) -> None:
        self.data = data
        self.grad = np.zeros_like(data)
        self.name = name
        self.trainable = trainable
        self._fresh = True  # grad is all zeros: the next accumulate may overwrite instead of add

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
        """Set ``grad`` to zero (in place, so references to it stay valid)."""
        if not self._fresh:
            self.grad.fill(0)
            self._fresh = True

    def accumulate(self, value: np.ndarray) -> None:
        """``grad += value``; a copy into the zeroed buffer when nothing was accumulated yet."""
        if self._fresh:
            np.copyto(self.grad, value)
            self._fresh = False
        else:
            self.grad += value

    def accumulate_matmul(self, a: np.ndarray, b: np.ndarray) -> None:
        """``grad += a @ b``; the product is written straight into ``grad`` when it is fresh.

        Saves a temporary and a copy per step for the weight gradients (BP4: ∂C/∂W = aᵀ·δ).
        """
        if self._fresh:
            np.matmul(a, b, out=self.grad)
            self._fresh = False
        else:
            self.grad += a @ b

    def astype(self, dtype: np.dtype) -> None:
        """Convert ``data`` and ``grad`` to ``dtype`` in place of the old arrays."""
        self.data = self.data.astype(dtype)
        self.grad = self.grad.astype(dtype)

    def __repr__(self) -> str:
        return f"Parameter({self.name!r}, shape={self.data.shape}, dtype={self.data.dtype})"
