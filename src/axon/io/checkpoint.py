"""Checkpoints: model, optimizer state, position in training and random state, to resume exactly.

A checkpoint is a model file (same format, written by the same code, so ``axon.load`` reads the
model out of it) with more in it: the optimizer's per-parameter arrays as tensors named
``optimizer.<i>.<key>``, and in the JSON description the optimizer's type, config, step count and
scalar state, the epoch and batch reached, the random generator's ``bit_generator.state``, the
history so far and a free ``extra`` dict (training keeps e.g. dropout generators' states and
callbacks' state there).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from axon.io.model_file import (
    ModelFileError,
    _dumps,
    _expect,
    _is_int,
    build_model,
    check_json_value,
    model_payload,
    read_file,
    write_file,
)

# rng states of some bit generators (MT19937) hold arrays; these dtypes may appear in them.
_STATE_ARRAY_DTYPES = {"uint32", "uint64", "int64", "float64"}
_BIT_GENERATORS = {"PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"}


@dataclass
class Checkpoint:
    """What :func:`load_checkpoint` returns.

    Attributes
    ----------
    model : the Sequential, as :func:`axon.load` would give it.
    optimizer_state : what ``optimizer.state_dict()`` returned (arrays included), or None; pass it
        to ``optimizer.load_state_dict`` after binding the optimizer to ``model.parameters()``.
    epoch, batch : where training was (epochs completed; batches into the next epoch).
    rng_state : the training generator's ``bit_generator.state``, or None; restore it with
        ``rng.bit_generator.state = rng_state``.
    history : ``{"loss": [...], ...}`` so far.
    extra : the JSON dict given to :func:`save_checkpoint`.
    """

    model: Any
    optimizer_state: dict | None = None
    epoch: int = 0
    batch: int = 0
    rng_state: dict | None = None
    history: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


def _encode_state(value: Any, what: str) -> Any:
    """A JSON form of a bit-generator state (arrays become tagged lists, numpy ints Python ints)."""
    if isinstance(value, dict):
        return {str(k): _encode_state(v, what) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode_state(v, what) for v in value]
    if isinstance(value, np.ndarray):
        if value.dtype.name not in _STATE_ARRAY_DTYPES:
            raise TypeError(f"cannot save {what}: array of dtype {value.dtype}")
        return {"__ndarray__": value.tolist(), "dtype": value.dtype.name}
    if isinstance(value, np.generic):
        return value.item()
    return value


def _decode_state(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__ndarray__", "dtype"}:
            _expect(value["dtype"] in _STATE_ARRAY_DTYPES, "rng_state holds an array of a bad dtype")
            try:
                return np.array(value["__ndarray__"], dtype=value["dtype"])
            except (TypeError, ValueError, OverflowError) as e:
                raise ValueError(f"rng_state holds a bad array: {e}") from None
        return {k: _decode_state(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode_state(v) for v in value]
    return value


def _check_rng_state(state: dict | None) -> None:
    """Raise ValueError unless ``state`` can be set on a generator of the bit generator it names."""
    if state is None:
        return
    name = state.get("bit_generator")
    _expect(name in _BIT_GENERATORS, f"rng_state names an unknown bit generator {str(name)[:40]!r}")
    try:
        getattr(np.random, name)().state = state  # name is from the allow-list above
    except Exception as e:
        raise ValueError(f"rng_state is not a valid {name} state: {e}") from None


def _optimizer_payload(optimizer) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    sd = optimizer.state_dict()
    tensors: dict[str, np.ndarray] = {}
    state_meta = []
    for i, s in enumerate(sd.get("state", [])):
        arrays, values = [], {}
        for k, v in s.items():
            if isinstance(v, np.ndarray):
                if v.dtype.name not in ("float32", "float64", "int64"):
                    raise TypeError(f"cannot save optimizer state {k!r} of dtype {v.dtype}")
                tensors[f"optimizer.{i}.{k}"] = np.ascontiguousarray(v)
                arrays.append(k)
            else:
                values[k] = v.item() if isinstance(v, np.generic) else v
        state_meta.append({"arrays": arrays, "values": values})
    rest = {k: v for k, v in sd.items() if k != "state"}
    meta = {**rest, "state": state_meta}
    _dumps(meta, "the optimizer state")
    return tensors, meta


def save_checkpoint(path: str | os.PathLike, model, optimizer=None, *, epoch: int, batch: int = 0,
                    rng: np.random.Generator | None = None, history: dict | None = None,
                    extra: dict | None = None) -> None:
    """Save everything needed to continue training exactly where it stopped, atomically.

    Parameters
    ----------
    path : destination file (same format as :func:`axon.save`; ``axon.load`` reads its model).
    model : the Sequential (weights, buffers, architecture, loss, preprocessor).
    optimizer : its ``state_dict()`` is stored (arrays as tensors ``optimizer.<i>.<key>``).
    epoch : epochs completed (int >= 0).
    batch : batches completed in the current epoch (int >= 0).
    rng : the generator driving shuffling; its ``bit_generator.state`` is stored.
    history : ``{"loss": [floats], ...}``.
    extra : any JSON-serialisable dict (e.g. dropout generators' states, callbacks' state).

    The file is written to a temporary file in the same folder, fsync'ed and renamed over
    ``path``: an interrupted save never corrupts the previous checkpoint.
    """
    for arg, v in (("epoch", epoch), ("batch", batch)):
        if not (_is_int(v) or isinstance(v, np.integer)) or v < 0:
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
    opt_meta = None
    if optimizer is not None:
        opt_tensors, opt_meta = _optimizer_payload(optimizer)
        clash = tensors.keys() & opt_tensors.keys()
        if clash:
            raise ValueError(f"cannot save: layer tensors {sorted(clash)} clash with the optimizer's "
                             "state names; rename those layers")
        tensors.update(opt_tensors)
    rng_state = _encode_state(rng.bit_generator.state, "rng") if rng is not None else None
    ckpt = {"epoch": int(epoch), "batch": int(batch), "rng_state": rng_state, "history": hist,
            "extra": extra or {}, "optimizer": opt_meta}
    _dumps(extra or {}, "save_checkpoint extra")
    meta = {"kind": "checkpoint", **meta, "checkpoint": ckpt}
    write_file(path, tensors, meta)


def _read_optimizer(opt: Any, tensors: dict[str, np.ndarray]) -> dict[str, Any]:
    _expect(isinstance(opt, dict), "'optimizer' must be an object")
    _expect(isinstance(opt.get("type"), str) and len(opt["type"]) <= 128, "optimizer has no type")
    config = opt.get("config", {})
    _expect(isinstance(config, dict), "optimizer config must be an object")
    check_json_value(config, "optimizer config")
    _expect(_is_int(opt.get("iterations", 0)) and opt.get("iterations", 0) >= 0,
            "optimizer iterations must be an integer >= 0")
    states = opt.get("state")
    _expect(isinstance(states, list), "optimizer state must be a list")
    restored = []
    for i, s in enumerate(states):
        _expect(isinstance(s, dict) and isinstance(s.get("arrays"), list)
                and isinstance(s.get("values"), dict), f"optimizer state {i} is malformed")
        check_json_value(s["values"], f"optimizer state {i}")
        entry = dict(s["values"])
        for k in s["arrays"]:
            name = f"optimizer.{i}.{k}" if isinstance(k, str) else ""
            _expect(name in tensors, f"optimizer tensor {name!r} is missing")
            entry[k] = tensors.pop(name)
        restored.append(entry)
    leftover = [k for k in tensors if k.startswith("optimizer.")]
    _expect(not leftover, f"unexpected optimizer tensors {leftover[:5]}")
    rest = {k: v for k, v in opt.items() if k != "state"}
    check_json_value(rest, "optimizer")
    return {**rest, "state": restored}


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Load a checkpoint written by :func:`save_checkpoint`.

    Returns a :class:`Checkpoint` (model, optimizer_state, epoch, batch, rng_state, history,
    extra). Validation is that of :func:`axon.load` plus the checkpoint's own fields.

    Raises
    ------
    ModelFileError (a ValueError)
        The file is missing, corrupted or crafted, or is a plain model file (no training state).
    """
    meta, tensors = read_file(path)
    if meta["kind"] != "checkpoint":
        raise ModelFileError(f"{path}: is a model file, not a checkpoint (it has no optimizer or epoch); "
                             "load it with axon.load")
    try:
        model = build_model(meta, tensors)
        ck = meta.get("checkpoint")
        _expect(isinstance(ck, dict), "no checkpoint section")
        epoch, batch = ck.get("epoch"), ck.get("batch", 0)
        _expect(_is_int(epoch) and epoch >= 0, "epoch must be an integer >= 0")
        _expect(_is_int(batch) and batch >= 0, "batch must be an integer >= 0")
        opt = ck.get("optimizer")
        optimizer_state = _read_optimizer(opt, tensors) if opt is not None else None
        _expect(not tensors, f"unexpected tensors {sorted(tensors)[:5]}")
        rng_state = ck.get("rng_state")
        _expect(rng_state is None or isinstance(rng_state, dict), "rng_state must be an object")
        rng_state = _decode_state(rng_state) if rng_state is not None else None
        _check_rng_state(rng_state)
        history = ck.get("history", {})
        _expect(isinstance(history, dict) and all(
            isinstance(v, list) and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
            for v in history.values()), "history must map names to lists of numbers")
        extra = ck.get("extra", {})
        _expect(isinstance(extra, dict), "extra must be an object")
    except (ValueError, RecursionError) as e:
        raise ModelFileError(f"{path}: invalid checkpoint: {e}") from None
    return Checkpoint(model=model, optimizer_state=optimizer_state, epoch=epoch, batch=batch,
                      rng_state=rng_state, history={k: [float(x) for x in v] for k, v in history.items()},
                      extra=extra)
