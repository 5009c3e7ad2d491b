"""Global settings: the default floating-point dtype and axon's own random generator.

Randomness has one convention. Everything in axon that draws random numbers (weight
initialisation, dropout masks, shuffling, data generators, gradient-check sampling) takes a
``seed`` argument, read by :func:`as_generator`:

- ``None`` (the default): axon's own generator, which :func:`set_seed` reseeds;
- an int: a new generator seeded with it (the same int gives the same numbers);
- a ``numpy.random.Generator``: used as it is (it advances).

So ``ax.set_seed(s)`` once at the top of a script, before the model is built, makes the whole
script reproducible: the initial weights, dropout masks and, for ``fit(seed=None)``, the
shuffling. ``fit(seed=s)`` instead fixes a run's shuffling and dropout masks whatever came before
(not the weights, which exist before ``fit``); it takes an int or None only, since a Generator
would have advanced by the next run. axon never touches NumPy's global random state.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # numpy.random is imported on first use only (it is a tenth of `import axon`)
    from typing import TypeAlias

    #: What a ``seed`` argument may be (see the module docstring).
    Seed: TypeAlias = int | np.random.Generator | None

_ALLOWED = {"float32": np.float32, "float64": np.float64}
_default_dtype: np.dtype = np.dtype(np.float32)
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
    """Reseed axon's generator: weight initialisation, dropout masks and shuffling that use it.

    Layers already built see the new seed too: a Dropout layer given no ``seed`` of its own
    draws from axon's generator at every forward pass. ``None`` seeds from fresh entropy.
    """
    global _rng
    if seed is not None:
        from axon.validation import check_int
        check_int(seed, "seed", minimum=0, example=0)
    _rng = np.random.default_rng(seed)


def get_rng() -> np.random.Generator:
    """axon's current generator (see :func:`set_seed`); unseeded until set_seed is called."""
    global _rng
    if _rng is None:
        _rng = np.random.default_rng()
    return _rng


def as_generator(seed: Seed, name: str = "seed") -> np.random.Generator:
    """The generator a ``seed`` argument stands for: axon's (None), a new one (int), or itself."""
    if seed is None:
        return get_rng()
    if isinstance(seed, np.random.Generator):
        return seed
    from axon.validation import check_int
    return np.random.default_rng(check_int(seed, f"{name} (an int, a numpy.random.Generator or None)",
                                           minimum=0, example=0))


def blas_threads(n: int) -> contextlib.AbstractContextManager:
    """A context that limits the BLAS library (the matrix products) to ``n`` threads; 0 leaves its
    own default. ``axon train --threads`` and the search's workers train inside it."""
    if not n:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits  # only when asked: import axon stays light
    return threadpool_limits(limits=n, user_api="blas")
