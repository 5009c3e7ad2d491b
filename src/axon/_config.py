"""Global settings: the default floating-point dtype and axon's own random generator.

axon never touches NumPy's global random state. Initialisers and dropout draw from a
``numpy.random.Generator`` that :func:`set_seed` resets, or from one passed explicitly.
"""

from __future__ import annotations

import numpy as np

_ALLOWED = {"float32": np.float32, "float64": np.float64}
_default_dtype: type[np.floating] = np.float32
# Created on first use: importing numpy.random is a tenth of `import axon`'s time.
_rng: np.random.Generator | None = None


def set_default_dtype(dtype: str | type | np.dtype) -> None:
    """Set the dtype new layers create their parameters in: "float32" (default) or "float64"."""
    global _default_dtype
    _default_dtype = resolve_dtype(dtype)


def get_default_dtype() -> np.dtype:
    """The dtype new parameters are created in (float32 unless changed)."""
    return np.dtype(_default_dtype)


def resolve_dtype(dtype: str | type | np.dtype | None) -> np.dtype:
    """Turn a dtype spelling into float32 or float64; None means the default dtype."""
    if dtype is None:
        return np.dtype(_default_dtype)
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = str(dtype)
    if name not in _ALLOWED:
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    return np.dtype(_ALLOWED[name])


def set_seed(seed: int | None) -> None:
    """Reseed axon's generator, which drives weight initialisation and dropout masks."""
    global _rng
    _rng = np.random.default_rng(seed)


def get_rng() -> np.random.Generator:
    """axon's current generator (see :func:`set_seed`); unseeded until set_seed is called."""
    global _rng
    if _rng is None:
        _rng = np.random.default_rng()
    return _rng
