"""The array backend: NumPy on the CPU, CuPy on an NVIDIA GPU, one layer code for both.

This is how "Deep Learning from Scratch" volume 3 (DeZero) runs the same code on a GPU: CuPy
has NumPy's interface, so a layer asks its input which library it belongs to,
``xp = backend.namespace(x)``, and calls ``xp.zeros``, ``xp.exp``...; a NumPy array gives
``numpy``, a CuPy array ``cupy``. NumPy's functions called on a CuPy array (``np.maximum(x, 0)``,
``np.sum``) dispatch to CuPy by themselves (NumPy's ``__array_ufunc__`` and
``__array_function__`` protocols), so only what creates arrays and the few operations the two
libraries spell differently go through here:

=======================  =======================================  =============================
operation                NumPy                                    CuPy, through this module
=======================  =======================================  =============================
new arrays               ``np.zeros``, ``np.empty``, ...          ``namespace(x).zeros``, ...
                         (they make host arrays)                  on ``x``'s device
an array of what came    ``np.asarray(x)``                        :func:`as_array` (keeps a GPU
                                                                  array where it is)
targets for an output    (already together)                       :func:`to_device_of`
scatter-add              ``np.add.at``                            :func:`scatter_add`
                                                                  (``cupyx.scatter_add``)
random numbers           a ``numpy.random.Generator``             :func:`uniform`: drawn on the
                                                                  device from a seed the
                                                                  layer's host generator draws
host / device copies     (nothing to do)                          :func:`to_device`,
                                                                  :func:`to_host`
=======================  =======================================  =============================

Ufuncs with ``out=`` (the optimizers' and layers' in-place updates) and ``@`` work on CuPy arrays
as they are. tests/test_gpu.py runs every layer, loss and optimizer on a stand-in for CuPy whose
arrays refuse to become NumPy arrays, so a NumPy call left in a hot path fails there.

Nothing here imports CuPy until a GPU is asked for (``model.to("cuda")``, ``fit(device="cuda")``,
``axon train --device cuda``): ``import axon`` never does. Without CuPy, or without a GPU, asking
for one raises :class:`DeviceError` with what to install or check.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

import numpy as np

CPU, CUDA = "cpu", "cuda"
DEVICES = (CPU, CUDA)

#: The GPU array module in use: CuPy, imported on the first request for the GPU (tests may set a
#: stand-in with :func:`use_gpu_module`).
_gpu: ModuleType | None = None


class DeviceError(ValueError):
    """The device asked for cannot be used (unknown name, CuPy not installed, no GPU)."""


def use_gpu_module(module: ModuleType | None) -> None:
    """Make ``module`` the GPU array module instead of CuPy (None: CuPy again).

    The module needs CuPy's interface: ``ndarray``, ``asarray``, ``asnumpy``, the array creation
    functions, ``random.default_rng``, ``scatter_add`` (CuPy has it in ``cupyx``). The tests run the
    GPU code path on the CPU through such a stand-in, whose arrays refuse to become NumPy arrays
    unasked, as CuPy's do.
    """
    global _gpu
    _gpu = module


def gpu() -> ModuleType:
    """The GPU array module (CuPy), or :class:`DeviceError` saying why there is none."""
    global _gpu
    if _gpu is not None:
        return _gpu
    try:
        import cupy
    except ImportError:
        raise DeviceError("the GPU (device 'cuda') needs CuPy, which is not installed; install the GPU "
                          "extra, pip install -e \".[gpu]\" (CuPy for CUDA 12: cupy-cuda12x, for CUDA 13: "
                          "cupy-cuda13x), or train on the CPU (device='cpu', axon train --device cpu)") from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # CuPy raises its own CUDA errors when there is no driver
        raise DeviceError(f"device 'cuda': CuPy is installed but no CUDA device can be used ({e}); check "
                          "the NVIDIA driver (nvidia-smi), or train on the CPU (device='cpu', --device cpu)"
                          ) from None
    if count < 1:
        raise DeviceError("device 'cuda': no CUDA device found; train on the CPU (device='cpu', --device cpu)")
    _gpu = cupy
    return cupy


def free_memory() -> int:
    """Bytes free on the GPU now (a module without CuPy's ``cuda`` interface: unlimited)."""
    mod = gpu()
    cuda = getattr(mod, "cuda", None)
    if cuda is None:
        return sys.maxsize
    free, _total = cuda.Device().mem_info
    return int(free)


def check_device(device: str) -> str:
    """``"cpu"`` or ``"cuda"`` (also ``"gpu"``, ``"cuda:0"``); for the GPU, that it can be used."""
    name = str(device).lower()
    if name in ("gpu", "cuda:0"):
        name = CUDA
    if name not in DEVICES:
        raise DeviceError(f"device must be 'cpu' or 'cuda', got {device!r}")
    if name == CUDA:
        gpu()
    return name


def _gpu_if_loaded() -> ModuleType | None:
    """The GPU module when one is in use already (never imports CuPy)."""
    return _gpu or sys.modules.get("cupy")


def gpu_loaded() -> bool:
    """Whether a GPU module is loaded at all; while it is not, every array is a NumPy array
    (the CPU's fast paths check this one thing)."""
    return _gpu is not None or "cupy" in sys.modules


def on_gpu(x: Any) -> bool:
    """Whether ``x`` is an array of the GPU module (a CuPy array)."""
    mod = _gpu or sys.modules.get("cupy")
    return mod is not None and isinstance(x, mod.ndarray)


def is_array(x: Any) -> bool:
    """Whether ``x`` is an array of either library (NumPy or the GPU module)."""
    return isinstance(x, np.ndarray) or on_gpu(x)


def as_array(x: Any) -> Any:
    """``x`` as an array where it is: a NumPy or GPU array as it is, anything else as a NumPy array.

    What ``np.asarray`` does on the CPU; ``np.asarray`` would copy a CuPy array to the host (or
    refuse to), so code that takes arrays from either library calls this instead.
    """
    return x if on_gpu(x) else np.asarray(x)


def to_device_of(x: Any, reference: Any) -> Any:
    """``x`` as an array on ``reference``'s device (a copy to the GPU when ``reference`` is there).

    For targets that meet a model's output: a loss given NumPy labels for a GPU output copies them
    once here, explicitly, instead of failing inside an operation that mixes the two.
    """
    if type(x) is np.ndarray and (type(reference) is np.ndarray or not on_gpu(reference)):
        return x  # the CPU's case, first (two type checks: a loss asks this every step)
    if on_gpu(reference):
        return x if on_gpu(x) else _gpu_if_loaded().asarray(x)  # type: ignore[union-attr]
    return np.asarray(to_host(x))


def namespace(*arrays: Any) -> ModuleType:
    """The array module of ``arrays``: ``cupy`` when one of them is on the GPU, else ``numpy``."""
    mod = _gpu or sys.modules.get("cupy")
    if mod is not None:
        for a in arrays:
            if isinstance(a, mod.ndarray):
                return mod
    return np


def device_of(x: Any) -> str:
    """``"cuda"`` for an array on the GPU, else ``"cpu"``."""
    return CUDA if on_gpu(x) else CPU


def to_device(x: Any, device: str) -> Any:
    """``x`` (an array, or anything array-like) as an array on ``device``; the same object when it
    is there already."""
    if device == CUDA:
        return x if on_gpu(x) else gpu().asarray(x)
    return np.asarray(to_host(x))


def to_host(x: Any) -> Any:
    """``x`` as a NumPy array (a copy from the GPU; NumPy arrays and other values as they are)."""
    if on_gpu(x):
        return _gpu_if_loaded().asnumpy(x)  # type: ignore[union-attr]
    return x


def host_copy(x: Any) -> np.ndarray:
    """A NumPy copy of the array ``x``, wherever it is (one copy, not two, from the GPU)."""
    return to_host(x) if on_gpu(x) else np.array(x)


def scatter_add(target: Any, indices: Any, values: Any) -> None:
    """``target[indices] += values``, adding every repeated index (NumPy's ``np.add.at``), in place.

    Shapes: ``indices`` (m,) integers into ``target``'s first axis; ``values`` (m, *target.shape[1:])
    (or broadcastable to it): row i of ``values`` is added to ``target[indices[i]]``.
    """
    if on_gpu(target):
        mod = _gpu_if_loaded()
        add = getattr(mod, "scatter_add", None)
        if add is None:  # CuPy keeps it in cupyx
            import cupyx
            add = cupyx.scatter_add
        add(target, indices, values)
    else:
        np.add.at(target, indices, values)


def uniform(rng: np.random.Generator, shape: tuple[int, ...], dtype: Any, like: Any) -> Any:
    """U[0, 1) numbers of ``shape`` on ``like``'s device, from the host generator ``rng``.

    On the CPU they are ``rng.random(shape)``. On the GPU, ``rng`` draws one seed and the device
    draws the numbers from it, so no array crosses to the device and ``rng``'s state (what
    checkpoints save) advances by one number per call, the same on every run.
    """
    if on_gpu(like):
        seed = int(rng.integers(2**63))
        return _gpu_if_loaded().random.default_rng(seed).random(shape, dtype=dtype)  # type: ignore[union-attr]
    return rng.random(shape, dtype=dtype)


__all__ = ["CPU", "CUDA", "DEVICES", "DeviceError", "as_array", "check_device", "device_of", "free_memory", "gpu", "gpu_loaded", "host_copy",
           "is_array", "namespace", "on_gpu", "scatter_add", "to_device", "to_device_of",
           "to_host", "uniform", "use_gpu_module"]
