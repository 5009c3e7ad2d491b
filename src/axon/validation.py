"""Input checks for fit, evaluate, predict and trace: catch a user's mistake before training starts.

Every check raises ValueError (wrong value) or TypeError (wrong kind of thing) with a message
that names the argument, says what is wrong and how to fix it, e.g.::

    ValueError: X has 63 features per sample but the model's first layer expects 64;
    pass data with 64 columns or build the model with Dense(63, ...)

The checks never copy the data except where a conversion is needed (labels stored as floats are
turned into integers); the finiteness test runs over row blocks so it allocates only a few MB.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any

import numpy as np

from axon import backend

if TYPE_CHECKING:
    from axon.losses import Loss
    from axon.model import Sequential

#: Elements per block in the finiteness check (a bool temporary of this size, ~4 MB).
_BLOCK = 1 << 22


def check_compiled(model: Sequential, action: str = "fit") -> None:
    """Raise ValueError when ``model.compile`` was not called before ``fit``/``evaluate``."""
    if model.loss is None or (action == "fit" and model.optimizer is None):
        raise ValueError(f"model is not compiled: call model.compile(loss=..., optimizer=...) before "
                         f"model.{action}(), e.g. model.compile(loss='cross_entropy', optimizer='sgd')")


def as_numeric_array(a: Any, name: str, *, allow_empty: bool = False) -> np.ndarray:
    """``a`` as a numeric array (no copy when it already is one: a NumPy array, or a CuPy array,
    which stays on the GPU); checks kind, emptiness and NaN/Inf.

    Raises TypeError for object, string, complex or datetime data, ValueError for an empty
    array or one holding NaN or ±Inf.
    """
    if a is None:
        raise TypeError(f"{name} is None; pass a NumPy array of numbers")
    try:
        arr = backend.as_array(a)
    except (ValueError, TypeError) as e:  # ragged lists
        raise TypeError(f"{name} cannot be turned into an array ({e}); pass a rectangular NumPy array") from e
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} has dtype {arr.dtype} but must hold numbers (int or float); convert it, "
                        f"e.g. {name}.astype('float32'), after encoding any text columns")
    if arr.ndim == 0:
        raise ValueError(f"{name} is a scalar; pass an array with one row per sample")
    if arr.shape[0] == 0 and not allow_empty:
        raise ValueError(f"{name} is empty (0 samples); pass at least one sample")
    if arr.dtype.kind == "f":
        bad = _first_non_finite(arr)
        if bad is not None:
            raise ValueError(f"{name} contains NaN or infinite values (first at row {bad}); remove or impute "
                             f"them before training, e.g. with np.nan_to_num or by dropping those rows")
    return arr


def _first_non_finite(arr: np.ndarray) -> int | None:
    """Row index of the first NaN/Inf, or None; scans blocks of rows to keep memory small."""
    n = arr.shape[0]
    per_row = max(1, arr.size // max(n, 1))
    step = max(1, _BLOCK // per_row)
    for start in range(0, n, step):
        block = arr[start:start + step]
        if block.flags.c_contiguous:
            # Fast path: x·x is finite when every x is (one BLAS pass, no temporary); an overflow of
            # the sum of squares only sends us to the exact test below.
            flat = block.reshape(-1)
            if np.isfinite(np.vdot(flat, flat)):
                continue
        if not np.isfinite(block).all():
            rows = ~np.isfinite(block.reshape(len(block), -1)).all(axis=1)
            return start + int(np.argmax(rows))
    return None


def output_shape(model: Sequential, input_shape: tuple[int, ...] | None = None) -> tuple[int, ...] | None:
    """One sample's output shape, following each layer's ``output_shape``; None if unknown."""
    shape = input_shape if input_shape is not None else model.infer_input_shape()
    if shape is None:
        return None
    try:
        for layer in model.layers:
            shape = layer.output_shape(tuple(shape))
    except Exception:  # a user layer without a usable output_shape: skip the check, forward will tell
        return None
    return tuple(shape)


def check_features(model: Sequential, X: np.ndarray, name: str = "X") -> None:
    """Raise ValueError when the samples of ``X`` do not have the shape the model takes."""
    expected = model.infer_input_shape()
    if expected is not None:
        if X.shape[1:] != tuple(expected):
            if len(expected) == 1 and X.ndim == 2:
                raise ValueError(f"{name} has {X.shape[1]} features per sample but the model's first layer "
                                 f"expects {expected[0]}; pass data with {expected[0]} columns or build the "
                                 f"model for {X.shape[1]} inputs")
            raise ValueError(f"{name} has samples of shape {X.shape[1:]} but the model expects {tuple(expected)}; "
                             f"reshape {name} to (n, {', '.join(map(str, expected))})")
        return
    first = next((layer for layer in model.layers if layer.parameters()), None)
    channels = getattr(first, "in_channels", None)
    if channels is None:
        return
    # A convolution's input (N, C, *spatial) has as many axes as its weight (F, C, *kernel).
    weight = getattr(first, "weight", None)
    if weight is not None and weight.data.ndim == 3:
        if X.ndim != 3 or X.shape[1] != channels:
            raise ValueError(f"{name} has shape {X.shape} but the model's first layer expects sequences "
                             f"(n, {channels}, length); reshape {name}, e.g. X.reshape(-1, {channels}, length)")
    elif X.ndim != 4 or X.shape[1] != channels:
        raise ValueError(f"{name} has shape {X.shape} but the model's first layer expects images "
                         f"(n, {channels}, height, width); reshape {name}, e.g. X.reshape(-1, {channels}, h, w)")


def check_X(model: Sequential, X: Any, name: str = "X") -> np.ndarray:
    """Check data to feed the model: numbers, non-empty, finite, right shape per sample."""
    arr = as_numeric_array(X, name)
    check_features(model, arr, name)
    return arr


def check_targets(y: Any, n_samples: int, loss: Loss | None = None, n_outputs: int | None = None,
                  name: str = "y", x_name: str = "X") -> np.ndarray:
    """Check targets against the number of samples, the loss and the number of outputs.

    SoftmaxCrossEntropy: integer class indices in [0, n_outputs) (floats allowed only when whole
    numbers; they are converted to int64) or rows of shape (n, n_outputs). Other losses take
    integer class indices too when the model has several outputs (the loss compares the output
    with their one-hot rows, as Nielsen's quadratic cost on the digits), or values shaped like the
    output. BinaryCrossEntropy, CrossEntropyCost: values in [0, 1]. Other losses: finite numbers.
    Returns the targets as an array (a new one only when labels were converted).
    """
    arr = as_numeric_array(y, name)
    if arr.shape[0] != n_samples:
        raise ValueError(f"{x_name} has {n_samples} samples but {name} has {arr.shape[0]}; they must have "
                         f"one target per sample (same length)")
    kind = type(loss).__name__ if loss is not None else ""
    if kind == "SoftmaxCrossEntropy":
        if arr.ndim == 1:
            return _check_labels(arr, n_outputs, name, kind)
        if arr.ndim == 2:
            if n_outputs is not None and arr.shape[1] != n_outputs:
                raise ValueError(f"{name} has {arr.shape[1]} columns but the model has {n_outputs} outputs; "
                                 f"one-hot targets need one column per class")
            return arr
        raise ValueError(f"{name} has shape {arr.shape}; SoftmaxCrossEntropy takes labels (n,) or one-hot (n, k)")
    if arr.ndim == 1 and arr.dtype.kind in "iu" and n_outputs is not None and n_outputs > 1:
        return _check_labels(arr, n_outputs, name, kind)  # class indices: the loss takes them one-hot
    if n_outputs is not None:
        cols = 1 if arr.ndim == 1 else int(np.prod(arr.shape[1:]))
        if cols != n_outputs:
            raise ValueError(f"{name} has {cols} value(s) per sample but the model has {n_outputs} outputs; "
                             f"make the last layer Dense(..., {cols}) or reshape {name}")
    if kind in ("BinaryCrossEntropy", "CrossEntropyCost"):
        if arr.size and (arr.min() < 0 or arr.max() > 1):
            raise ValueError(f"{name} must hold values in [0, 1] for {kind}, got values from "
                             f"{arr.min():g} to {arr.max():g}; use 0/1 labels")
    return arr


def _check_labels(arr: np.ndarray, n_outputs: int | None, name: str, loss: str) -> np.ndarray:
    """Class indices (n,) in [0, n_outputs), as int64; ValueError/TypeError naming the fix."""
    if arr.dtype.kind == "f" and not np.array_equal(arr, np.floor(arr)):
        raise ValueError(f"{name} holds non-integer values but {loss} needs class indices 0, 1, 2, ...; "
                         f"for regression use loss='mse'")
    if arr.dtype.kind == "b":
        raise TypeError(f"{name} is boolean; {loss} needs integer class indices, e.g. {name}.astype(int)")
    lo, hi = arr.min().item(), arr.max().item()
    if lo < 0:
        raise ValueError(f"{name} has a negative label ({lo:g}); class labels must be 0, 1, ..., k-1 "
                         f"(map them with np.unique({name}, return_inverse=True))")
    if n_outputs is not None and hi >= n_outputs:
        raise ValueError(f"{name} has label {hi:g} but the model has {n_outputs} outputs (classes "
                         f"0..{n_outputs - 1}); give the last layer {int(hi) + 1} outputs or fix the labels")
    return arr if arr.dtype.kind == "i" and arr.dtype.itemsize == 8 else arr.astype(np.int64)


def n_outputs(model: Sequential, input_shape: tuple[int, ...] | None = None) -> int | None:
    """Number of output values per sample (e.g. classes), or None when unknown.

    ``input_shape`` (one sample's, e.g. ``X.shape[1:]``) is used when the model does not declare one.
    """
    shape = output_shape(model, model.infer_input_shape() or input_shape)
    return None if shape is None else int(np.prod(shape))


def check_xy(model: Sequential, X: Any, y: Any = None, loss: Loss | None = None, *, x_name: str = "X",
             y_name: str = "y", y_required: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """Check inputs and (optionally) targets for ``model``; returns them as arrays.

    The one call fit, evaluate, predict and :func:`axon.trace` make. ``loss`` defaults to
    ``model.loss``; ``y_required`` makes a missing ``y`` a TypeError.
    """
    X = check_X(model, X, x_name)
    if y is None:
        if y_required:
            raise TypeError(f"{y_name} is None; pass the targets (labels or values), one per sample of {x_name}")
        return X, None
    loss = loss if loss is not None else model.loss
    return X, check_targets(y, X.shape[0], loss, n_outputs(model, X.shape[1:]), y_name, x_name)


def is_int(v: Any) -> bool:
    """Whether ``v`` is an integer (Python or NumPy), not a bool: the one integer test."""
    return isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, bool)


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong kind (2.5 where an integer goes): a TypeError and a ValueError.

    Both, as scikit-learn's ``InvalidParameterError``, so that code catching either (a CLI that
    reports ValueErrors, a test of TypeError) sees it.
    """


def check_int(value: Any, name: str, *, minimum: int | None = 1, maximum: int | None = None,
              example: Any = None) -> int:
    """``value`` as a Python int in [minimum, maximum]: the one check of an integer argument.

    ``minimum=None`` means no lower bound. Raises :class:`ArgumentTypeError` (a TypeError and a
    ValueError) when ``value`` is not an integer (a bool is not), ValueError when it is out of range; the message names the argument, the range
    and, when given, an example.
    """
    hint = f"; e.g. {name}={example}" if example is not None else ""
    if minimum is not None and maximum is not None:
        what = f"an integer in [{minimum}, {maximum}]"
    elif minimum == 1:
        what = "a positive integer"
    elif minimum is not None:
        what = f"an integer >= {minimum}"
    else:
        what = "an integer" if maximum is None else f"an integer <= {maximum}"
    if not is_int(value):
        raise ArgumentTypeError(f"{name} must be {what}, got {value!r}{hint}")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be {what}, got {value!r}{hint}")
    return int(value)


def check_fit_params(*, epochs: Any, batch_size: Any, validation_split: Any, verbose: Any,
                     seed: Any) -> None:
    """Check fit's hyperparameters: epochs >= 1, batch_size >= 1, 0 <= validation_split < 1, ..."""
    check_int(epochs, "epochs", example=10)
    check_int(batch_size, "batch_size", example=32)
    if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float, np.floating)) \
            or not 0 <= validation_split < 1:
        raise ValueError(f"validation_split must be a fraction in [0, 1), got {validation_split!r}; "
                         f"e.g. validation_split=0.1")
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0 (silent), 1 (progress bar) or 2 (one line per epoch), got {verbose!r}")
    if seed is not None:
        check_int(seed, "seed", minimum=0, example=0)
