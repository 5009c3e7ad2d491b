"""A stand-in for CuPy that runs on the CPU, so the GPU code path is tested without a GPU.

Its arrays (:class:`DeviceArray`) wrap NumPy arrays and behave as CuPy's do in the one way that
matters here: they never turn into NumPy arrays unasked. ``np.asarray(device_array)`` raises, and
so does any NumPy operation that mixes a device array with a NumPy array of more than one element
(CuPy raises ``TypeError: Unsupported type <class 'numpy.ndarray'>``). NumPy's functions called on
device arrays dispatch to this module through NumPy's ``__array_ufunc__`` and
``__array_function__`` protocols, as they dispatch to CuPy. So a layer that creates a host array in
its hot path (``np.zeros(shape)`` instead of ``xp.zeros``), or reads a device array as a host one,
fails its test here as it would copy or fail on a real GPU.

``use()`` installs the module as axon's GPU module (:func:`axon.backend.use_gpu_module`).
"""

from __future__ import annotations

import sys
import types
from typing import Any

import numpy as np

#: How many times data crossed between host and device (asarray and asnumpy calls).
transfers = {"to_device": 0, "to_host": 0}


class HostConversionError(TypeError):
    """A device array was about to become a NumPy array without an explicit ``asnumpy``."""


def _unwrap(x: Any) -> Any:
    if isinstance(x, DeviceArray):
        return x.a
    if isinstance(x, np.ndarray) and x.ndim > 0 and x.size > 1:
        raise HostConversionError(f"a NumPy array of shape {x.shape} mixed with device arrays "
                                  "(CuPy: Unsupported type <class 'numpy.ndarray'>)")
    if isinstance(x, (list, tuple)):
        return type(x)(_unwrap(v) for v in x)
    if isinstance(x, dict):
        return {k: _unwrap(v) for k, v in x.items()}
    return x


def _wrap(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return DeviceArray(x)
    if isinstance(x, tuple):
        return tuple(_wrap(v) for v in x)
    if isinstance(x, list):
        return [_wrap(v) for v in x]
    return x


class DeviceArray(np.lib.mixins.NDArrayOperatorsMixin):
    """An array "on the device": a NumPy array that refuses to be read as one."""

    __slots__ = ("a",)

    def __init__(self, a: np.ndarray) -> None:
        self.a = a

    # -- the protocols NumPy dispatches through ----------------------------------------------
    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise HostConversionError("implicit conversion of a device array to a NumPy array; "
                                  "copy it with backend.to_host (cupy.asnumpy)")

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = tuple(_unwrap(o) for o in out)
        result = getattr(ufunc, method)(*_unwrap(inputs), **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(result)

    def __array_function__(self, func: Any, types_: Any, args: Any, kwargs: Any) -> Any:
        return _wrap(func(*_unwrap(args), **_unwrap(kwargs)))

    # -- what an ndarray has ------------------------------------------------------------------
    shape = property(lambda self: self.a.shape)
    dtype = property(lambda self: self.a.dtype)
    ndim = property(lambda self: self.a.ndim)
    size = property(lambda self: self.a.size)
    nbytes = property(lambda self: self.a.nbytes)
    strides = property(lambda self: self.a.strides)
    flags = property(lambda self: self.a.flags)
    T = property(lambda self: DeviceArray(self.a.T))
    real = property(lambda self: DeviceArray(self.a.real))

    def __len__(self) -> int:
        return len(self.a)

    def __getitem__(self, key: Any) -> Any:
        return _wrap(self.a[_unwrap(key)])

    def __setitem__(self, key: Any, value: Any) -> None:
        self.a[_unwrap(key)] = _unwrap(value)

    def __float__(self) -> float:  # CuPy allows these on one element (they synchronise)
        return float(self.a)

    def __int__(self) -> int:
        return int(self.a)

    def __bool__(self) -> bool:
        return bool(self.a)

    def __index__(self) -> int:
        return int(self.a)

    def __repr__(self) -> str:
        return f"DeviceArray({self.a!r})"

    def __iter__(self):
        return (_wrap(v) for v in self.a)

    def get(self) -> np.ndarray:
        """The host copy (CuPy's ``ndarray.get``)."""
        transfers["to_host"] += 1
        return self.a.copy()

    def item(self) -> Any:
        return self.a.item()

    def tolist(self) -> Any:
        return self.a.tolist()

    def __getattr__(self, name: str) -> Any:
        # ndarray methods (reshape, astype, sum, max, copy, fill, transpose, ...): on the array, wrapped
        attr = getattr(self.a, name)
        if callable(attr):
            return lambda *args, **kwargs: _wrap(attr(*_unwrap(args), **_unwrap(kwargs)))
        return _wrap(attr)

    def __deepcopy__(self, memo: dict) -> DeviceArray:
        return DeviceArray(self.a.copy())

    def __reduce__(self) -> Any:
        raise HostConversionError("a device array cannot be pickled; copy it to the host first")


def _creation(name: str) -> Any:
    fn = getattr(np, name)

    def create(*args: Any, **kwargs: Any) -> Any:
        kwargs.pop("like", None)
        return _wrap(fn(*_unwrap(args), **_unwrap(kwargs)))
    create.__name__ = name
    return create


def asarray(x: Any, dtype: Any = None) -> DeviceArray:
    """To the device (CuPy's ``asarray``)."""
    if isinstance(x, DeviceArray):
        return x if dtype is None else DeviceArray(x.a.astype(dtype))
    transfers["to_device"] += 1
    return DeviceArray(np.array(x, dtype=dtype))


def asnumpy(x: Any) -> Any:
    """To the host (CuPy's ``asnumpy``)."""
    if isinstance(x, DeviceArray):
        return x.get()
    return np.asarray(x)


def scatter_add(target: DeviceArray, indices: Any, values: Any) -> None:
    """``cupyx.scatter_add``."""
    np.add.at(target.a, _unwrap(indices), _unwrap(values))


class _Generator:
    def __init__(self, seed: int) -> None:
        self._g = np.random.default_rng(seed)

    def random(self, size: Any = None, dtype: Any = np.float64) -> DeviceArray:
        return DeviceArray(self._g.random(size, dtype=dtype))


def _module() -> types.ModuleType:
    mod = types.ModuleType("fake_cupy")
    mod.ndarray = DeviceArray  # type: ignore[attr-defined]
    for name in ("zeros", "empty", "ones", "full", "arange", "eye", "array", "zeros_like", "empty_like",
                 "ones_like", "full_like", "linspace", "concatenate", "stack", "where", "tril", "triu"):
        setattr(mod, name, _creation(name))
    mod.asarray = asarray  # type: ignore[attr-defined]
    mod.asnumpy = asnumpy  # type: ignore[attr-defined]
    mod.scatter_add = scatter_add  # type: ignore[attr-defined]
    mod.random = types.SimpleNamespace(default_rng=_Generator)  # type: ignore[attr-defined]
    mod.lib = types.SimpleNamespace(stride_tricks=types.SimpleNamespace(  # type: ignore[attr-defined]
        sliding_window_view=lambda x, shape, axis=None: DeviceArray(
            np.lib.stride_tricks.sliding_window_view(x.a, shape, axis))))
    for name in dir(np):  # everything else NumPy has, on device arrays (np.exp, np.float32, ...)
        if not hasattr(mod, name) and not name.startswith("_"):
            value = getattr(np, name)
            setattr(mod, name, _creation(name) if callable(value) and not isinstance(value, type)
                    and not isinstance(value, np.ufunc) else value)
    return mod


#: The stand-in module.
fake_cupy = _module()


def use() -> None:
    """Make the stand-in axon's GPU module (undo with ``axon.backend.use_gpu_module(None)``)."""
    from axon import backend
    sys.modules.setdefault("fake_cupy", fake_cupy)
    backend.use_gpu_module(fake_cupy)
