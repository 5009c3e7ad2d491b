"""Model files: safetensors tensors plus the architecture as JSON in the file's metadata.

Layout of a ``.axon`` file (a valid safetensors file that any safetensors reader can open)::

    8 bytes   little-endian length N of the header
    N bytes   JSON header: one entry per tensor (dtype, shape, byte offsets) and "__metadata__",
              whose key "axon" holds one JSON string: format_version, kind ("model" or
              "checkpoint"), dtype, architecture (model.get_config()), frozen parameter names,
              compile info (loss and optimizer type + config, metrics) and the preprocessor
    data      the tensors: every parameter ("dense_1.weight"), every layer buffer
              ("batchnorm2d_1.running_mean"), the preprocessor's arrays ("preprocessor.mean"); in a
              checkpoint also the training state's arrays ("checkpoint.optimizer.state.0.velocity")

Loading trusts nothing in the file. It checks the header length against the file size before
reading anything else, every tensor's dtype, shape and byte range, the format version, and every
layer type against :data:`axon.layers.base.LAYER_REGISTRY` (a type *name*: never a class path,
never code); config values must be plain JSON of bounded size, and constructor errors become
:class:`ModelFileError`. Only then are the layers built and the tensors copied in, after checking
that each one exists with exactly the built shape and the model's dtype and that nothing is left
over. No pickle, no eval, nothing from the file is ever executed.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from axon import backend
from axon.io.atomic import atomic_write_bytes
from axon.validation import is_int

FORMAT_VERSION = 1
#: Largest JSON header accepted; a real header is a few kB, even for big models.
MAX_HEADER_BYTES = 100 * 2**20

T = TypeVar("T")
_SAFETENSORS_DTYPES: dict[str, np.dtype] = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8"), "I64": np.dtype("<i8")}
_MODEL_DTYPES = {"float32": "F32", "float64": "F64"}
_JSON_MAX_DEPTH = 6
_MAX_STR = 512
_MAX_LIST = 4096
_MAX_INT = 2**53  # larger ints are not sizes or counts of anything a layer can hold
#: A checkpoint's training-state tensors (see axon.io.checkpoint) are named under this prefix.
CHECKPOINT_TENSORS = "checkpoint."
_MAX_NESTING = 4  # wrappers (Residual) inside wrappers


class ModelFileError(ValueError):
    """A model or checkpoint file that is missing, corrupted, truncated, crafted or of an unknown format.

    The message names the file and what is wrong with it.
    """


class ModelFileNotFoundError(ModelFileError, FileNotFoundError):
    """The model file does not exist (a :class:`ModelFileError` and a ``FileNotFoundError``)."""


# =====================================================================================
# JSON values from an untrusted file
# =====================================================================================
def check_json_value(value: Any, where: str, depth: int = 0) -> None:
    """Raise ValueError unless ``value`` is plain, bounded JSON: finite numbers, short strings,
    short lists and string-keyed dicts, nested at most a few levels.
    """
    if depth > _JSON_MAX_DEPTH:
        raise ValueError(f"{where} is nested too deeply")
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if abs(value) > _MAX_INT:
            raise ValueError(f"{where} = {value} is out of range")
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where} = {value} is not a finite number")
        return
    if isinstance(value, str):
        if len(value) > _MAX_STR:
            raise ValueError(f"{where} is a string of {len(value)} characters (at most {_MAX_STR})")
        return
    if isinstance(value, (list, tuple)):
        if len(value) > _MAX_LIST:
            raise ValueError(f"{where} is a list of {len(value)} items (at most {_MAX_LIST})")
        for i, v in enumerate(value):
            check_json_value(v, f"{where}[{i}]", depth + 1)
        return
    if isinstance(value, dict):
        if len(value) > _MAX_LIST:
            raise ValueError(f"{where} has {len(value)} keys (at most {_MAX_LIST})")
        for k, v in value.items():
            if not isinstance(k, str) or len(k) > _MAX_STR:
                raise ValueError(f"{where} has a key that is not a short string: {str(k)[:40]!r}")
            check_json_value(v, f"{where}[{k!r}]", depth + 1)
        return
    raise ValueError(f"{where} has a value of type {type(value).__name__}, which is not plain JSON")


def dumps(obj: Any, what: str, allow_nan: bool = True) -> str:
    """Compact JSON of ``obj``; TypeError naming ``what`` when it is not JSON-serialisable."""
    # NaN and infinity are allowed by default (history of a diverged run, a callback's best = inf);
    # layer and loss configs are checked finite separately.
    try:
        return json.dumps(obj, allow_nan=allow_nan, separators=(",", ":"))
    except (TypeError, ValueError) as e:
        raise TypeError(f"cannot save {what}: {e}; it must be JSON-serialisable "
                        "(numbers, strings, lists, dicts)") from None


def expect(cond: bool, msg: str) -> None:
    """Raise ValueError(msg) unless ``cond``: the readers' one check of what a file holds."""
    if not cond:
        raise ValueError(msg)


def expect_dict(value: Any, msg: str) -> dict[str, Any]:
    """``value`` when it is a JSON object (a dict), else ValueError(msg)."""
    if not isinstance(value, dict):
        raise ValueError(msg)
    return value


def lookup(registry: Mapping[str, T], name: Any, msg: str) -> T:
    """What ``registry`` holds under ``name`` (a type name from a file), else ValueError(msg)."""
    value = registry.get(name) if isinstance(name, str) else None
    if value is None:
        raise ValueError(msg)
    return value


def _typed_entry(entry: Any, where: str) -> tuple[str, dict]:
    """Validate ``{"type": name, "config": {...}}``; returns (name, config)."""
    expect(isinstance(entry, dict), f"{where} must be an object")
    name, config = entry.get("type"), entry.get("config", {})
    expect(isinstance(name, str) and 0 < len(name) <= 128, f"{where} has no valid 'type'")
    expect(isinstance(config, dict), f"{where}['config'] must be an object")
    check_json_value(config, f"{where}['config']")
    return name, config


# =====================================================================================
# Writing
# =====================================================================================
def _type_entry(obj: Any, registry: Mapping[str, type], what: str, how: str) -> dict[str, Any]:
    name = type(obj).__name__
    if registry.get(name) is not type(obj):
        raise ValueError(f"cannot save {what} of type {name}: it is not registered, so a model file "
                         f"could not name it; {how}")
    config = obj.get_config() if hasattr(obj, "get_config") else {}
    try:
        check_json_value(config, f"{what} config")
    except ValueError as e:
        raise TypeError(f"cannot save {what} of type {name}: {e}") from None
    return {"type": name, "config": json.loads(dumps(config, f"the config of {what} {name}"))}


def _metric_names(metrics: Any) -> list[str]:
    # Metrics given by name are saved; metric functions are code, which a model file never holds
    # (pass them to compile again after loading).
    return [m for m in (metrics or []) if isinstance(m, str)]


def model_payload(model) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The tensors and the JSON description of ``model``, as stored in model files and checkpoints.

    Returns ``(tensors, meta)``: tensors by name (parameters, buffers, ``preprocessor.*``) and a
    JSON-serialisable dict (dtype, architecture, frozen, compile, preprocessor). Raises
    ValueError/TypeError for a model that cannot be written faithfully (an unregistered layer
    type, a config that is not JSON, mixed dtypes, two tensors with the same name).
    """
    from axon.layers.base import LAYER_REGISTRY
    from axon.losses import LOSS_REGISTRY
    from axon.model import Sequential
    from axon.preprocessing import PREPROCESSOR_REGISTRY

    if not isinstance(model, Sequential):
        raise TypeError(f"model must be an axon Sequential, got {type(model).__name__}")
    dtype = model.dtype
    if dtype.name not in _MODEL_DTYPES:
        raise ValueError(f"cannot save a model of dtype {dtype}; convert it with model.to_dtype('float32')")
    tensors: dict[str, np.ndarray] = {}

    def put(name: str, array: np.ndarray, owner: str) -> None:
        if name in tensors:
            raise ValueError(f"cannot save: two tensors are named {name!r}; give the layers unique names")
        array = np.asarray(array)
        if array.dtype != dtype and not name.startswith("preprocessor."):
            raise ValueError(f"cannot save: {owner} {name!r} is {array.dtype} but the model is {dtype}; "
                             f"call model.to_dtype({dtype.name!r}) first")
        tensors[name] = np.ascontiguousarray(array)

    def layer_entry(layer: Any, name: str) -> dict[str, Any]:
        entry = _type_entry(layer, LAYER_REGISTRY, f"layer {layer.name!r}",
                            "decorate the class with @axon.layers.base.register_layer")
        entry = {"type": entry["type"], "name": name, "config": entry["config"]}
        if layer.sublayers():  # a wrapper (Residual): its block, by the names inside it
            entry["block"] = [layer_entry(sub, inner) for inner, sub in layer.sublayers()]
            entry["sequential"] = isinstance(layer.block, Sequential)
        return entry

    layers = []
    for layer in model.layers:
        layers.append(layer_entry(layer, layer.name))
        for p in layer.parameters():
            put(p.name, backend.to_host(p.data), "parameter")  # files are written from host memory
        for key, value in layer.buffers().items():
            put(f"{layer.name}.{key}", backend.to_host(value), "buffer")
    input_shape = model.input_shape if model.input_shape is not None else model.infer_input_shape()
    meta: dict[str, Any] = {
        "dtype": dtype.name,
        "architecture": {"layers": layers,
                         "input_shape": list(input_shape) if input_shape is not None else None},
        "frozen": [p.name for p in model.parameters() if not p.trainable],
        "compile": None,
        "preprocessor": None,
    }
    if model.loss is not None:
        loss = _type_entry(model.loss, LOSS_REGISTRY, "the loss", "use a loss from axon.losses")
        meta["compile"] = {"loss": loss, "metrics": _metric_names(model.metrics),
                           "optimizer": None}
        opt = model.optimizer
        # The optimizer's type and hyperparameters (not its state: that is what checkpoints are
        # for), so that a loaded model can go on training; custom optimizers are left out.
        if opt is not None and _optimizer_classes().get(type(opt).__name__) is type(opt):
            meta["compile"]["optimizer"] = _type_entry(opt, _optimizer_classes(), "the optimizer", "")
    pre = model.preprocessor
    if pre is not None:
        meta["preprocessor"] = _type_entry(pre, PREPROCESSOR_REGISTRY, "the preprocessor",
                                           "use axon.preprocessing.Standardizer")
        for key, value in pre.get_arrays().items():
            value = np.asarray(value)
            if value.dtype.name not in _MODEL_DTYPES:
                raise TypeError(f"cannot save preprocessor array {key!r} of dtype {value.dtype}")
            put(f"preprocessor.{key}", value, "preprocessor array")
    return tensors, meta


def write_file(path: str | os.PathLike, tensors: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    """Write ``tensors`` and ``meta`` (under metadata key "axon") as one safetensors file, atomically."""
    from safetensors.numpy import save as st_save

    meta = {"format_version": FORMAT_VERSION, **meta}
    from axon import __version__
    meta.setdefault("axon_version", __version__)
    data = st_save(tensors, metadata={"axon": dumps(meta, "the model description")})
    atomic_write_bytes(path, data)


def save(model, path: str | os.PathLike) -> None:
    """Save ``model`` to one file: weights as safetensors, architecture as JSON metadata.

    Stores every parameter and layer buffer, the architecture (layer types, names and configs,
    ``model.input_shape``), the dtype (float32 or float64 is kept), frozen parameters, the loss,
    metrics (by name; metric functions are not saved) and optimizer type and hyperparameters
    when compiled, and ``model.preprocessor``.
    The write is atomic: a crash leaves the old file or the new one, never a half-written file.
    Load it with :func:`load`.

    Parameters
    ----------
    model : an axon ``Sequential`` whose layer types are registered (all built-in ones are).
    path : destination, conventionally ``"name.axon"``; its folder must exist.
    """
    tensors, meta = model_payload(model)
    write_file(path, tensors, {"kind": "model", **meta})


# =====================================================================================
# Reading
# =====================================================================================
def _check_tensor_table(header: dict, data_len: int) -> None:
    spans = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        where = f"tensor {name[:80]!r}"
        expect(isinstance(info, dict) and set(info) == {"dtype", "shape", "data_offsets"},
                f"{where} has a malformed entry")
        dt = lookup(_SAFETENSORS_DTYPES, info["dtype"], f"{where} has dtype {str(info['dtype'])[:20]!r}; "
                    "allowed: F32, F64, I64")
        shape, offsets = info["shape"], info["data_offsets"]
        expect(isinstance(shape, list) and len(shape) <= 8 and all(is_int(s) and s >= 0 for s in shape),
                f"{where} has an invalid shape")
        expect(isinstance(offsets, list) and len(offsets) == 2 and all(is_int(o) for o in offsets)
                and 0 <= offsets[0] <= offsets[1] <= data_len,
                f"{where} has byte offsets outside the file's {data_len} data bytes")
        expect(math.prod(shape) * dt.itemsize == offsets[1] - offsets[0],
                f"{where}: shape {shape} of {info['dtype']} does not match its {offsets[1] - offsets[0]} bytes")
        spans.append((offsets[0], offsets[1]))
    end = 0
    for begin, stop in sorted(spans):
        expect(begin == end, "tensor data overlaps or leaves gaps")
        end = stop
    expect(end == data_len, f"tensor data covers {end} bytes but the file has {data_len}")


def read_file(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read and validate the container: returns ``(meta, tensors)`` or raises :class:`ModelFileError`.

    Checks, in this order: the file exists and is long enough; the 8-byte header length fits in
    the file and under :data:`MAX_HEADER_BYTES` (before reading further); the header is JSON with
    well-formed tensor entries (allowed dtypes, shapes matching byte ranges, ranges tiling the data
    exactly); the metadata holds an axon description of a known format version. Tensors are then
    decoded by safetensors (whose errors also become :class:`ModelFileError`) into native-endian
    arrays.
    """
    path = Path(path)
    try:
        # A FIFO or device would block or never end: only regular files are model files.
        if path.exists() and not path.is_dir() and not stat.S_ISREG(path.stat().st_mode):
            raise ModelFileError(f"{path}: not a regular file, so not a model file")
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size < 8:
                raise ModelFileError(f"{path}: not an axon model file: only {size} bytes long")
            prefix = f.read(8)
            n = int.from_bytes(prefix, "little")
            if n > MAX_HEADER_BYTES or 8 + n > size:
                raise ModelFileError(f"{path}: not an axon model file: header length {n} does not fit "
                                     f"in a file of {size} bytes (corrupted or truncated?)")
            blob = prefix + f.read(size - 8)
            if len(blob) != size or f.read(1):
                raise ModelFileError(f"{path}: the file changed size while being read")
    except FileNotFoundError:
        raise ModelFileNotFoundError(f"{path}: no such model file; check the path") from None
    except IsADirectoryError:
        raise ModelFileError(f"{path}: is a folder, not a model file") from None
    except PermissionError:
        raise ModelFileError(f"{path}: permission denied; cannot read the model file") from None
    except OSError as e:
        raise ModelFileError(f"{path}: cannot read the model file: {e.strerror or e}") from None
    try:
        header = json.loads(blob[8:8 + n])
        expect(isinstance(header, dict), "the header is not a JSON object")
        metadata = header.get("__metadata__")
        expect(isinstance(metadata, dict) and isinstance(metadata.get("axon"), str),
                "it has no axon description in its metadata (a safetensors file from another tool?)")
        _check_tensor_table(header, size - 8 - n)
        meta = json.loads(metadata["axon"])
        expect(isinstance(meta, dict), "its axon description is not a JSON object")
        version = meta.get("format_version")
        expect(is_int(version), "its axon description has no format_version")
        expect(version <= FORMAT_VERSION,
                f"format_version {version} is newer than this axon understands ({FORMAT_VERSION}); "
                "upgrade axon")
        expect(version >= 1, f"unknown format_version {version}")
        expect(meta.get("kind") in ("model", "checkpoint"), "unknown kind of file")
    except (ValueError, RecursionError, UnicodeDecodeError) as e:
        raise ModelFileError(f"{path}: not a valid axon model file: {e}") from None
    if not header.keys() - {"__metadata__"}:
        tensors = {}
    else:
        from safetensors.numpy import load as st_load
        try:
            raw = st_load(blob)
        except Exception as e:  # safetensors raises its own error types; all mean "bad file"
            raise ModelFileError(f"{path}: corrupted tensor data: {e}") from None
        # Native byte order; callers copy what they keep (into parameters, optimizer state).
        tensors = {k: np.require(v, dtype=v.dtype.newbyteorder("="), requirements=["C"])
                   for k, v in raw.items()}
    return meta, tensors


def _signature(cls: type) -> inspect.Signature:
    return inspect.signature(cls)


def _construct(cls: type, config: dict, where: str, extra: dict[str, Any] | None = None):
    """``cls(**config, **extra)`` after checking the keywords against the signature."""
    params = _signature(cls).parameters
    takes_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    for key in config:
        expect(key not in ("self", "name", "rng", "seed") and (takes_kwargs or key in params),
                f"{where} has an unknown argument {key[:40]!r}")
    kwargs = dict(config)
    for key, value in (extra or {}).items():
        if key in params or takes_kwargs:
            kwargs.setdefault(key, value)
    try:
        return cls(**kwargs)
    except Exception as e:  # constructors validate their arguments; any failure means a bad file
        raise ValueError(f"{where} cannot be built from its config: {type(e).__name__}: {e}") from None


def _size_budget(tensors: Mapping[str, np.ndarray]) -> int:
    # Layers allocate their weights when constructed, before the tensors can be compared with them.
    # A crafted config ("in_features": 10**6) must not make us allocate terabytes, so the product of
    # a layer's integer arguments (about the size of its weights) is bounded by what the file holds.
    return max(64 * sum(t.size for t in tensors.values()), 2**24)


def build_model(meta: dict[str, Any], tensors: dict[str, np.ndarray]):
    """Build the Sequential described by ``meta`` and copy its tensors in.

    Consumes (pops) from ``tensors`` every tensor it uses; the caller checks what is left.
    Raises ValueError (the caller adds the file name) for anything that does not fit.
    """
    from axon import _config
    from axon.layers.base import LAYER_REGISTRY, Layer
    from axon.losses import LOSS_REGISTRY
    from axon.model import Sequential
    from axon.preprocessing import PREPROCESSOR_REGISTRY

    dtype_name = meta.get("dtype")
    expect(dtype_name in _MODEL_DTYPES, f"unknown model dtype {str(dtype_name)[:20]!r}")
    dtype = np.dtype(dtype_name)
    arch = expect_dict(meta.get("architecture"), "no architecture")
    expect(isinstance(arch.get("layers"), list), "no architecture")
    specs = arch["layers"]
    expect(len(specs) <= _MAX_LIST, "too many layers")
    input_shape = arch.get("input_shape")
    expect(input_shape is None or (isinstance(input_shape, list) and len(input_shape) <= 8
                                    and all(is_int(s) and 0 < s <= _MAX_INT for s in input_shape)),
            "input_shape must be a list of positive integers")
    budget = _size_budget(tensors)

    # Validate every layer entry (and the blocks inside wrappers) before building any.
    def plan_of(specs: list, where: str, depth: int) -> list[tuple]:
        plan = []
        names = set()
        for i, spec in enumerate(specs):
            w = f"{where}layer {i}"
            type_name, config = _typed_entry(spec, w)
            name = spec.get("name")
            expect(isinstance(name, str) and 0 < len(name) <= 128 and name.isprintable(),
                    f"{w} has no valid name")
            expect(name not in names, f"two layers are named {name!r}")
            names.add(name)
            w = f"{where}layer {i} ({name!r})"
            cls = lookup(LAYER_REGISTRY, type_name, f"{w} has unknown type {type_name[:80]!r}; known "
                                                    f"types: {', '.join(sorted(LAYER_REGISTRY))}")
            ints = [v for v in _flat(config) if is_int(v)]
            expect(all(abs(v) <= budget for v in ints) and math.prod(v for v in ints if v > 1) <= budget,
                    f"{w} asks for sizes far larger than the weights the file holds")
            block = spec.get("block")
            inner = None
            if cls.sublayers is not Layer.sublayers:  # a wrapper: its block is part of the entry
                expect(isinstance(block, list) and 0 < len(block) <= _MAX_LIST, f"{w} has no valid 'block'")
                expect(depth < _MAX_NESTING, f"{w}: wrappers nested more than {_MAX_NESTING} deep")
                expect("block" not in config, f"{w} has an unknown argument 'block'")
                inner = (plan_of(block, f"{w}: ", depth + 1), spec.get("sequential") is not False)
            else:
                expect(block is None, f"{w}: a {type_name[:80]} holds no block")
            plan.append((cls, config, name, w, inner))
        return plan

    def build(plan: list[tuple]) -> list:
        layers = []
        for cls, config, name, w, inner in plan:
            extra: dict[str, Any] = {"dtype": dtype.name}
            if inner is not None:
                sub, sequential = inner
                block_layers = build(sub)
                extra["block"] = Sequential(*block_layers) if sequential or len(block_layers) > 1 \
                    else block_layers[0]
            layer = _construct(cls, config, w, extra)
            layer.name = name
            try:
                layer.to_dtype(dtype)
            except Exception as e:
                raise ValueError(f"{w}: cannot convert to {dtype}: {e}") from None
            layers.append(layer)
        return layers

    plan = plan_of(specs, "", 0)
    # Building draws initial weights from axon's generator; put its state back afterwards so
    # that loading a model does not change what the next seeded run draws.
    rng_state = _config.get_rng().bit_generator.state
    try:
        layers = build(plan)
    finally:
        _config.get_rng().bit_generator.state = rng_state
    try:
        model = Sequential(*layers, input_shape=tuple(input_shape) if input_shape is not None else None)
    except Exception as e:
        raise ValueError(f"the layers do not form a model: {e}") from None

    def take(name: str, shape: tuple[int, ...], dt: np.dtype | None, what: str) -> np.ndarray:
        expect(name in tensors, f"{what} {name!r} is missing")
        t = tensors.pop(name)
        expect(t.shape == tuple(shape), f"{what} {name!r} has shape {t.shape}, expected {tuple(shape)}")
        expect(dt is None or t.dtype == dt, f"{what} {name!r} is {t.dtype}, expected {dt}")
        return t

    for layer in model.layers:
        for p in layer.parameters():
            np.copyto(p.data, take(p.name, p.data.shape, dtype, "parameter"))
        for key, value in layer.buffers().items():
            arr = take(f"{layer.name}.{key}", np.shape(value), dtype, "buffer")
            try:
                layer.set_buffer(key, arr)
            except Exception as e:
                raise ValueError(f"buffer {layer.name}.{key} cannot be set: {e}") from None

    frozen = meta.get("frozen", [])
    params = model.named_parameters()
    expect(isinstance(frozen, list) and all(isinstance(n, str) and n in params for n in frozen),
            "'frozen' names parameters the model does not have")
    for n in frozen:
        params[n].trainable = False

    compiled = meta.get("compile")
    if compiled is not None:
        expect(isinstance(compiled, dict), "'compile' must be an object")
        type_name, config = _typed_entry(compiled.get("loss"), "the loss")
        loss_cls = lookup(LOSS_REGISTRY, type_name, f"unknown loss type {type_name[:80]!r}")
        model.loss = _construct(loss_cls, config, f"the loss {type_name}")
        metrics = compiled.get("metrics", [])
        expect(isinstance(metrics, list) and len(metrics) <= 64
                and all(isinstance(m, str) and 0 < len(m) <= 64 for m in metrics),
                "'metrics' must be a list of metric names")
        model.metrics = list(metrics)
        opt = compiled.get("optimizer")
        if opt is not None:
            type_name, config = _typed_entry(opt, "the optimizer")
            opt_cls = lookup(_optimizer_classes(), type_name, f"unknown optimizer type {type_name[:80]!r}")
            expect("params" not in config, "the optimizer config has an unknown argument 'params'")
            model.optimizer = _construct(opt_cls, config, f"the optimizer {type_name}")
            model.optimizer.bind(model.parameters())

    pre = meta.get("preprocessor")
    if pre is not None:
        type_name, config = _typed_entry(pre, "the preprocessor")
        pre_cls: Any = lookup(PREPROCESSOR_REGISTRY, type_name, f"unknown preprocessor type {type_name[:80]!r}")
        arrays = {k[len("preprocessor."):]: tensors.pop(k) for k in list(tensors)
                  if k.startswith("preprocessor.")}
        try:
            model.preprocessor = pre_cls.from_arrays(arrays, config)
        except Exception as e:
            raise ValueError(f"the preprocessor cannot be rebuilt: {e}") from None
    return model


def _optimizer_classes() -> dict[str, type]:
    from axon.optim import OPTIMIZERS
    return {cls.__name__: cls for cls in OPTIMIZERS.values()}


def _flat(value: Any):
    if isinstance(value, dict):
        for v in value.values():
            yield from _flat(v)
    elif isinstance(value, list):
        for v in value:
            yield from _flat(v)
    else:
        yield value


def load(path: str | os.PathLike):
    """Load a model saved by :func:`save` (or the model inside a checkpoint).

    Returns a ``Sequential`` with the saved weights (bit-identical predictions), layer names,
    dtype, ``input_shape``, frozen parameters, preprocessor and, when it was compiled, loss,
    metrics and optimizer (same type and hyperparameters, bound to the parameters, fresh state).
    Layer types are looked up by name in the layer registry: custom layers must be registered
    (``@register_layer``) and their module imported before loading.

    Raises
    ------
    ModelFileError (a ValueError)
        The file is missing, truncated, corrupted, crafted, or not an axon model file; the
        message names the file and the problem. Nothing from the file is ever executed.
    """
    meta, tensors = read_file(path)
    try:
        model = build_model(meta, tensors)
        if meta["kind"] == "checkpoint":  # the training state's tensors belong to load_checkpoint
            tensors = {k: v for k, v in tensors.items() if not k.startswith(CHECKPOINT_TENSORS)}
        expect(not tensors, f"unexpected tensors {sorted(tensors)[:5]}")
    except (ValueError, RecursionError) as e:
        raise ModelFileError(f"{path}: invalid model file: {e}") from None
    return model
