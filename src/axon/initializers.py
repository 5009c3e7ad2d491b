"""Weight initialisers: xavier (Glorot), he, lecun, normal, standard_normal, uniform, zeros.

Each takes ``(shape, rng, dtype)`` and returns a new array. The fans follow the weight layouts of
axon: Dense ``(in_features, out_features)``, Conv2D ``(out_channels, in_channels, kh, kw)``,
Conv1D ``(out_channels, in_channels, k)``.
A user-supplied callable has the signature ``init(shape, rng) -> array``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

Initializer = Callable[..., np.ndarray]


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight: inputs and outputs that one weight's unit connects."""
    if len(shape) == 2:
        return shape[0], shape[1]
    if len(shape) >= 3:  # conv weights (out, in, *kernel): Conv1D (F, C, k), Conv2D (F, C, kh, kw)
        receptive = math.prod(shape[2:])
        return shape[1] * receptive, shape[0] * receptive
    size = int(np.prod(shape))
    return size, size


def xavier(shape, rng, dtype=np.float32):
    """Glorot uniform: U(-a, a) with a = sqrt(6 / (fan_in + fan_out)); keeps variance through sigmoid/tanh."""
    fan_in, fan_out = fans(shape)
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


def he(shape, rng, dtype=np.float32):
    """He normal: N(0, 2 / fan_in); keeps variance through ReLU."""
    fan_in, _ = fans(shape)
    return (rng.standard_normal(shape) * math.sqrt(2.0 / fan_in)).astype(dtype)


def lecun(shape, rng, dtype=np.float32):
    """LeCun normal: N(0, 1 / fan_in); Nielsen's improved initialisation (chapter 3)."""
    fan_in, _ = fans(shape)
    return (rng.standard_normal(shape) * math.sqrt(1.0 / fan_in)).astype(dtype)


def normal(shape, rng, dtype=np.float32, std: float = 0.01):
    """Plain N(0, std²), std = 0.01 as in "Deep Learning from Scratch"."""
    return (rng.standard_normal(shape) * std).astype(dtype)


def standard_normal(shape, rng, dtype=np.float32):
    """N(0, 1): Nielsen's initialisation of chapter 1 (``network.py``) for weights and biases, and of
    chapter 3's ``large_weight_initializer``; his default there is "lecun" for the weights with
    N(0, 1) biases: ``Dense(n_in, n_out, init="lecun", bias_init="standard_normal")``.
    """
    return rng.standard_normal(shape).astype(dtype)


def uniform(shape, rng, dtype=np.float32, limit: float = 0.05):
    """Plain U(-limit, limit), limit = 0.05 as in Keras."""
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


def zeros(shape, rng=None, dtype=np.float32):
    """All zeros (the usual bias initialisation; for weights it makes every unit alike)."""
    return np.zeros(shape, dtype=dtype)


INITIALIZERS: dict[str, Initializer] = {
    "xavier": xavier,
    "glorot": xavier,
    "he": he,
    "lecun": lecun,
    "normal": normal,
    "standard_normal": standard_normal,
    "uniform": uniform,
    "zeros": zeros,
}


def initialize(init: str | Callable, shape: tuple[int, ...], rng: np.random.Generator,
               dtype: np.dtype) -> np.ndarray:
    """Make a weight of ``shape`` with the named initialiser or a user callable ``init(shape, rng)``."""
    if callable(init):
        value = np.asarray(init(shape, rng))
        if value.shape != tuple(shape):
            raise ValueError(f"init callable returned shape {value.shape}, expected {tuple(shape)}")
        return value.astype(dtype)
    if init not in INITIALIZERS:
        raise ValueError(f"unknown init {init!r}; choose one of {sorted(set(INITIALIZERS) - {'glorot'})} "
                         "or pass a callable init(shape, rng)")
    return INITIALIZERS[init](shape, rng, dtype)
