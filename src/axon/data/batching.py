"""Minibatches: an epoch is one pass over a permutation of the samples."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from axon._config import as_generator
from axon.validation import check_int


def batches(X: np.ndarray, y: np.ndarray | None = None, batch_size: int = 32, shuffle: bool = True,
            seed: int | np.random.Generator | None = None
            ) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """Yield ``(xb, yb)`` minibatches covering every sample exactly once.

    With ``shuffle`` the order is a fresh permutation (sampling without replacement), drawn from
    ``seed``: an int, a ``numpy.random.Generator``, or None for axon's generator
    (:func:`axon.set_seed`); only indices are shuffled and each batch is
    one gather ``X[idx]``. Without it, batches are slices (views, no copy). The last batch may be
    smaller. ``xb`` has shape ``(≤batch_size, …)``; ``yb`` is None when ``y`` is None.
    """
    batch_size = check_int(batch_size, "batch_size", example=32)
    n = len(X)
    if y is not None and len(y) != n:
        raise ValueError(f"X has {n} samples but y has {len(y)}; they must match")
    if not shuffle:
        for start in range(0, n, batch_size):
            sl = slice(start, start + batch_size)
            yield X[sl], (None if y is None else y[sl])
        return
    rng = as_generator(seed)
    order = rng.permutation(n)
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], (None if y is None else y[idx])
