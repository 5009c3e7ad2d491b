"""Checkpoints: model, optimizer state, position in training and random state, to resume exactly.

A checkpoint is a model file (same format, written by the same code, so ``axon.load`` reads the
model out of it) with more in it, in the JSON description's ``"checkpoint"`` section: the epoch
and batch reached, the history so far, a random generator's ``bit_generator.state``, the
optimizer's ``state_dict()`` and ``extra``, any plain data of the caller's (``fit`` keeps its loop's
state there, :meth:`axon.training.FitLoop.state_dict`: generators, running sums, callbacks' states;
its epoch, batch and history are the checkpoint's own fields, stored once).

Those states are plain data: JSON values and NumPy arrays (or GPU arrays, which are saved from a
host copy and read back as NumPy arrays). This module alone turns them into the file and back. Every array becomes a tensor of the one safetensors file, named by its path in the
state (``checkpoint.optimizer.state.0.velocity``, ``checkpoint.extra.callbacks.1.state.best_weights.3``),
and the JSON
holds ``{"__tensor__": name}`` in its place; generator states keep their few integer arrays
inline (``{"__ndarray__": [...], "dtype": "uint32"}``). Reading checks every tensor as the model
reader does (dtype, shape against byte range), that every reference names a tensor and that no
tensor is left over; what the arrays must look like is checked by whoever takes the state (the
optimizer, the loop, each callback), before anything changes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from axon import backend
from axon.io.model_file import (
    CHECKPOINT_TENSORS,
    ModelFileError,
    build_model,
    dumps,
    expect,
    expect_dict,
    is_int,
    model_payload,
    read_file,
    write_file,
)

if TYPE_CHECKING:
    from axon.model import Sequential
    from axon.optim.base import Optimizer

#: The first format version whose checkpoints this module reads (states with tensor references).
CHECKPOINT_FORMAT = 2
# rng states of some bit generators (MT19937) hold arrays; these dtypes may appear in them.
_STATE_ARRAY_DTYPES = {"uint32", "uint64", "int64", "float64"}
_TENSOR_DTYPES = {"float32", "float64", "int64"}
_BIT_GENERATORS = {"PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"}
_MAX_STATE_DEPTH = 16


@dataclass
class Checkpoint:
    """What :func:`load_checkpoint` returns.

    Attributes
    ----------
    model : the Sequential, as :func:`axon.load` would give it.
    optimizer_state : what ``optimizer.state_dict()`` returned (arrays included), or None; pass it
        to ``optimizer.load_state_dict`` after binding the optimizer to ``model.parameters()``.
    epoch, batch : where training was (epochs completed; batches into the next epoch).
    rng_state : the ``bit_generator.state`` of the generator given to :func:`save_checkpoint`, or
        None; restore it with ``rng.bit_generator.state = rng_state``.
    history : ``{"loss": [...], ...}`` so far.
    extra : the plain data given to :func:`save_checkpoint` (``fit`` writes
        :meth:`axon.training.FitLoop.state_dict` there, less ``epoch``, ``batch`` and ``history``,
        which are the fields above), arrays included; ``{}`` if none.
    """

    model: Sequential
    optimizer_state: dict[str, Any] | None = None
    epoch: int = 0
    batch: int = 0
    rng_state: dict[str, Any] | None = None
    history: dict[str, list[float]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


# =====================================================================================
# Plain data (JSON values and arrays) <-> JSON with tensor references
# =====================================================================================
def _encode(value: Any, path: str, tensors: dict[str, np.ndarray], depth: int = 0) -> Any:
    """``value`` as JSON, its float and int64 arrays moved into ``tensors`` under their path.

    Device (CuPy) arrays are copied to the host here, the one place for every state saved (a
    callback may keep its arrays where the model is).
    """
    if depth > _MAX_STATE_DEPTH:
        raise TypeError(f"cannot save {path}: nested too deeply")
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str) or k.startswith("__"):
                raise TypeError(f"cannot save {path}: key {k!r} must be a string without a leading '__'")
            out[k] = _encode(v, f"{path}.{k}", tensors, depth + 1)
        return out
    if isinstance(value, (list, tuple)):
        return [_encode(v, f"{path}.{i}", tensors, depth + 1) for i, v in enumerate(value)]
    if backend.on_gpu(value):
        value = backend.to_host(value)
    if isinstance(value, np.ndarray):
        if value.dtype.name in _TENSOR_DTYPES:
            if path in tensors:  # a key with a dot ("a.b") where a nested "a" → "b" holds an array
                raise TypeError(f"cannot save {path}: two arrays of the state would have this name")
            tensors[path] = np.ascontiguousarray(value)
            return {"__tensor__": path}
        if value.dtype.name in _STATE_ARRAY_DTYPES and value.ndim == 1:
            return {"__ndarray__": value.tolist(), "dtype": value.dtype.name}
        raise TypeError(f"cannot save {path}: an array of dtype {value.dtype}")
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot save {path}: a {type(value).__name__} is not plain data")


def _decode(value: Any, path: str, tensors: dict[str, np.ndarray], depth: int = 0) -> Any:
    """Undo :func:`_encode`: tensor references become the (popped) tensors. ValueError if malformed."""
    expect(depth <= _MAX_STATE_DEPTH, f"{path} is nested too deeply")
    if isinstance(value, dict):
        if "__tensor__" in value:
            name = value["__tensor__"]
            expect(set(value) == {"__tensor__"} and isinstance(name, str) and name in tensors,
                   f"{path} names a tensor the file does not hold")
            array = tensors.pop(name)
            expect(array.dtype.name in _TENSOR_DTYPES, f"tensor {name!r} has dtype {array.dtype}")
            return array
        if "__ndarray__" in value:
            expect(set(value) == {"__ndarray__", "dtype"} and value["dtype"] in _STATE_ARRAY_DTYPES
                   and isinstance(value["__ndarray__"], list), f"{path} holds a malformed array")
            try:
                return np.array(value["__ndarray__"], dtype=value["dtype"])
            except (TypeError, ValueError, OverflowError) as e:
                raise ValueError(f"{path} holds a bad array: {e}") from None
        return {k: _decode(v, f"{path}.{k}", tensors, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v, f"{path}.{i}", tensors, depth + 1) for i, v in enumerate(value)]
    return value


def _check_rng_state(state: Any, what: str) -> None:
    """Raise ValueError unless ``state`` can be set on a generator of the bit generator it names."""
    expect(isinstance(state, dict), f"{what} must be an object")
    name = state.get("bit_generator")
    expect(name in _BIT_GENERATORS, f"{what} names an unknown bit generator {str(name)[:40]!r}")
    try:
        getattr(np.random, name)().state = state  # name is from the allow-list above
    except Exception as e:
        raise ValueError(f"{what} is not a valid {name} state: {e}") from None


# =====================================================================================
# Writing and reading
# =====================================================================================
def save_checkpoint(path: str | os.PathLike, model: Sequential, optimizer: Optimizer | None = None, *,
                    epoch: int, batch: int = 0, rng: np.random.Generator | None = None,
                    history: dict[str, list[float]] | None = None,
                    extra: dict[str, Any] | None = None) -> None:
    """Save everything needed to continue training exactly where it stopped, atomically.

    Parameters
    ----------
    path : destination file (same format as :func:`axon.save`; ``axon.load`` reads its model).
    model : the Sequential (weights, buffers, architecture, loss, preprocessor).
    optimizer : its ``state_dict()`` is stored (arrays as tensors).
    epoch : epochs completed (int >= 0).
    batch : batches completed in the current epoch (int >= 0).
    rng : a generator (e.g. the one shuffling a hand-written loop); its ``bit_generator.state``
        is stored.
    history : ``{"loss": [floats], ...}``.
    extra : any plain data: JSON values and NumPy arrays, nested in dicts and lists (a
        hand-written loop's best loss, ``fit``'s :meth:`axon.training.FitLoop.state_dict`).

    The file is written to a temporary file in the same folder, fsync'ed and renamed over
    ``path``: an interrupted save never corrupts the previous checkpoint.
    """
    for arg, v in (("epoch", epoch), ("batch", batch)):
        if not (is_int(v) or isinstance(v, np.integer)) or v < 0:
            raise ValueError(f"save_checkpoint {arg} must be an integer >= 0, got {v!r}")
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise TypeError(f"save_checkpoint rng must be a numpy.random.Generator or None, got {type(rng).__name__}")
    hist: dict[str, list[float]] = {}
    for k, values in (history or {}).items():
        try:
            hist[str(k)] = [float(v) for v in values]
        except (TypeError, ValueError):
            raise TypeError(f"save_checkpoint history[{k!r}] must be a list of numbers") from None
    if extra is not None and not isinstance(extra, dict):
        raise TypeError(f"save_checkpoint extra must be a dict, got {type(extra).__name__}")

    tensors, meta = model_payload(model)
    state_tensors: dict[str, np.ndarray] = {}
    ckpt = {
        "epoch": int(epoch), "batch": int(batch), "history": hist,
        "rng_state": _encode(rng.bit_generator.state, f"{CHECKPOINT_TENSORS}rng_state", state_tensors)
        if rng is not None else None,
        "optimizer": _encode(optimizer.state_dict(), f"{CHECKPOINT_TENSORS}optimizer", state_tensors)
        if optimizer is not None else None,
        "extra": _encode(extra or {}, f"{CHECKPOINT_TENSORS}extra", state_tensors),
    }
    clash = tensors.keys() & state_tensors.keys()
    if clash:
        raise ValueError(f"cannot save: layer tensors {sorted(clash)} clash with the training state's "
                         "names; rename those layers")
    tensors.update(state_tensors)
    dumps(ckpt, "the checkpoint")
    write_file(path, tensors, {"kind": "checkpoint", "checkpoint_format": CHECKPOINT_FORMAT, **meta,
                               "checkpoint": ckpt})


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Load a checkpoint written by :func:`save_checkpoint`.

    Returns a :class:`Checkpoint` (model, optimizer_state, epoch, batch, rng_state, history,
    extra). Validation is that of :func:`axon.load` plus the checkpoint's own fields: every
    tensor reference resolves, every tensor is used, generator states are valid.

    Raises
    ------
    ModelFileError (a ValueError)
        The file is missing, corrupted or crafted, is a plain model file (no training state), or
        was written by an older axon whose checkpoints this one does not read.
    """
    meta, tensors = read_file(path)
    if meta["kind"] != "checkpoint":
        raise ModelFileError(f"{path}: is a model file, not a checkpoint (it has no optimizer or epoch); "
                             "load it with axon.load")
    if meta.get("checkpoint_format") != CHECKPOINT_FORMAT:
        raise ModelFileError(f"{path}: a checkpoint of an older axon (before checkpoint format "
                             f"{CHECKPOINT_FORMAT}); its model loads with axon.load, but training cannot "
                             "resume from it: start the run again from that model")
    try:
        ck = expect_dict(meta.get("checkpoint"), "no checkpoint section")
        epoch: Any = ck.get("epoch")
        batch: Any = ck.get("batch", 0)
        if not (is_int(epoch) and epoch >= 0 and is_int(batch) and batch >= 0):
            raise ValueError("epoch and batch must be integers >= 0")
        history = ck.get("history", {})
        expect(isinstance(history, dict) and all(
            isinstance(v, list) and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
            for v in history.values()), "history must map names to lists of numbers")
        states = {}
        for key in ("rng_state", "optimizer", "extra"):
            value = ck.get(key)
            expect(value is None or isinstance(value, dict), f"{key} must be an object")
            states[key] = _decode(value, f"{CHECKPOINT_TENSORS}{key}", tensors) if value is not None else None
        expect(not any(k.startswith(CHECKPOINT_TENSORS) for k in tensors),
               f"unused tensors {sorted(k for k in tensors if k.startswith(CHECKPOINT_TENSORS))[:5]}")
        if states["rng_state"] is not None:
            _check_rng_state(states["rng_state"], "rng_state")
        model = build_model(meta, tensors)
        expect(not tensors, f"unexpected tensors {sorted(tensors)[:5]}")
    except (ValueError, RecursionError) as e:
        raise ModelFileError(f"{path}: invalid checkpoint: {e}") from None
    return Checkpoint(model=model, optimizer_state=states["optimizer"], epoch=epoch, batch=batch,
                      rng_state=states["rng_state"], history={k: [float(x) for x in v] for k, v in history.items()},
                      extra=states["extra"] or {})
