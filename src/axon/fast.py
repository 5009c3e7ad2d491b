"""Compiled loops (Numba) where NumPy's whole-array passes are slow.

NumPy runs every element-wise expression as one pass over memory per operation, on one core, and
cannot fuse them; a convolution becomes im2col copies and products too small for BLAS. With Numba
installed (a dependency of axon; it is imported only when first needed) a few hot spots run
compiled loops instead, each next
to the NumPy code it replaces, which stays the readable reference:

- :class:`~axon.layers.Conv2D` (stride 1, small kernels, large outputs) and :class:`~axon.layers.MaxPool2D`
  (2×2) through :mod:`axon.layers.compiled`, the batch split over the BLAS thread count;
- the updates of :class:`~axon.optim.SGD` (with momentum) and :class:`~axon.optim.Adam` in one pass
  over the weights instead of four and ten, through :mod:`axon.optim.compiled_loops`: the same
  float32 operations in the same order, so the same bits as the NumPy code. These run once Numba
  is loaded (by the layers above, or by an ``import numba`` of your own) but do not load it
  themselves: loading Numba takes about 0.4 s and 150 MiB of memory (LLVM), more than a model of
  Dense layers alone gains.

The loops run on NumPy arrays only (CuPy arrays keep the NumPy-style code). They are compiled on
first use and cached on disk next to their source (a few seconds, once per machine and dtype).
``AXON_KERNELS=numpy`` in the environment, :func:`set_enabled` (False) or ``with enabled(False):``
runs without them.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import warnings
from collections.abc import Iterator
from types import ModuleType

import numpy as np

_enabled = os.environ.get("AXON_KERNELS", "").strip().lower() != "numpy"
_modules: dict[str, ModuleType | None] = {}  # loaded loop modules; None: Numba is not installed
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def set_enabled(flag: bool) -> bool:
    """Use the compiled loops where they apply (True, the default when Numba is installed) or never;
    returns the previous setting."""
    global _enabled
    before, _enabled = _enabled, bool(flag)
    return before


@contextlib.contextmanager
def enabled(flag: bool) -> Iterator[None]:
    """``with fast.enabled(False): ...`` runs the block on the NumPy code only (True: with the loops
    where they apply), then restores the setting it found."""
    before = set_enabled(flag)
    try:
        yield
    finally:
        set_enabled(before)


def loops(module: str, load: bool = True) -> ModuleType | None:
    """The compiled-loop module ``module`` (e.g. ``"axon.layers.compiled_loops"``), or None when the
    loops are switched off or Numba is not installed. Numba is imported on the first call only, so
    ``import axon`` stays light; with ``load=False`` it is not imported at all, and the answer is
    None unless something loaded it already."""
    if not _enabled or (not load and "numba" not in sys.modules):
        return None
    if module not in _modules:
        try:
            _modules[module] = importlib.import_module(module)
        except ImportError as exc:
            if exc.name != "numba" and not str(exc.name).startswith("numba."):
                raise  # a real error in axon's own module, not a missing dependency
            _modules[module] = None
        except Exception as exc:  # Numba is there but cannot work here (e.g. no writable cache directory)
            warnings.warn(f"axon's compiled loops are off ({type(exc).__name__}: {exc}); the NumPy code runs "
                          "instead. Setting NUMBA_CACHE_DIR to a writable folder may help; AXON_KERNELS=numpy "
                          "silences this.", RuntimeWarning, stacklevel=2)
            _modules[module] = None
    return _modules[module]


def takes(*arrays: object) -> bool:
    """Whether the compiled loops can take these arrays: NumPy arrays of one dtype, float32 or float64
    (the dtypes axon computes in; anything else keeps the NumPy code)."""
    first = arrays[0]
    if not isinstance(first, np.ndarray) or first.dtype not in _FLOATS:
        return False
    return all(isinstance(a, np.ndarray) and a.dtype == first.dtype for a in arrays[1:])
