"""Ready-made models from a short text spec, as the command line's ``--layers`` takes it.

The one builder of axon's ready-made networks: ``axon train``, ``axon gradcheck``, the
scikit-learn estimators and architecture search all build through :func:`build_model`.

The spec is a comma-separated list of layer tokens, read left to right; the output layer
(``n_outputs`` units, no activation: the loss adds the link) is always appended.

=============  ==================================================================================
token          layers
=============  ==================================================================================
``128``        Dense with 128 units, then the activation (and Dropout when ``dropout`` > 0)
``conv32x3``   Conv2D with 32 filters of 3×3, "same" padding (3 // 2 = 1), then the activation
``conv32x3s2`` the same with stride 2 (the output is about half the size)
``maxpool2``   MaxPool2D over 2×2 windows, stride 2 (``maxpool3s2``: 3×3 windows, stride 2)
``avgpool2``   AvgPool2D over 2×2 windows, stride 2 (``avgpool3s1`` likewise)
``bn``         BatchNorm: right after a ``conv`` or Dense token it goes between that layer and its
               activation (conv → BN → ReLU, as Ioffe & Szegedy), and the layer drops its bias,
               which BatchNorm would cancel; elsewhere it normalises what comes in
``flatten``    Flatten; inserted automatically before the first Dense after image layers
``lstm64``     LSTM with 64 units (``gru64``, ``rnn64`` likewise) over the rows of a one-channel
               image as steps (28 steps of 28 pixels for MNIST); every step's state when another
               sequence token follows (``ln`` tokens between count for nothing), else the last state
``attn4``      a pre-norm transformer encoder block with 4 heads over the steps (``Residual``s of
               LayerNorm → attention and LayerNorm → Dense(2d) → ReLU → Dense(d))
``ln``         LayerNorm over the last axis; ``gap``: the mean over the steps (GlobalAvgPool1D)
=============  ==================================================================================

Examples: ``"256,128"`` with 784 inputs and 10 outputs gives 784 → 256 → 128 → 10 (an MLP);
``"conv32x3,maxpool2,conv64x3,maxpool2,128"`` on (1, 28, 28) images gives
conv 32@28×28 → pool 32@14×14 → conv 64@14×14 → pool 64@7×7 → flatten 3136 → 128 → 10.

With no spec, :func:`build_model` picks a sensible default (:data:`DEFAULT_MLP`, or
:func:`default_cnn_spec` for the image size). Image input is NCHW, one sample's ``input_shape``
being ``(channels, height, width)``; flat rows whose length is a square (64, 784) are reshaped to
one-channel images when the spec has image layers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from axon._config import as_generator
from axon.layers import (
    AvgPool2D,
    BatchNorm1d,
    BatchNorm2d,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    MaxPool2D,
    ReLU,
    Reshape,
    Sigmoid,
    Tanh,
)
from axon.layers.base import Layer
from axon.model import Sequential
from axon.validation import check_int

if TYPE_CHECKING:
    from axon._config import Seed

#: Hidden-layer activations by name.
ACTIVATIONS: dict[str, type[Layer]] = {"relu": ReLU, "leaky_relu": LeakyReLU, "sigmoid": Sigmoid,
                                       "tanh": Tanh, "identity": Identity}
#: Other names for them (scikit-learn calls the sigmoid "logistic").
ACTIVATION_ALIASES = {"logistic": "sigmoid"}
#: The default initialiser for each activation (He for the ReLU family, Glorot otherwise).
DEFAULT_INIT = {"relu": "he", "leaky_relu": "he", "sigmoid": "xavier", "tanh": "xavier", "identity": "xavier"}

#: The MLP ``build_model`` makes when no spec is given.
DEFAULT_MLP = "256,128"

_INT = re.compile(r"^\d+$")
_CONV = re.compile(r"^conv(\d+)x(\d+)(?:s(\d+))?$")
_POOL = re.compile(r"^(max|avg)pool(\d+)(?:s(\d+))?$")
_SEQ = re.compile(r"^(lstm|gru|rnn|attn)(\d+)$|^(ln|gap)$")
_SPEC_HELP = ("write e.g. --layers conv32x3,maxpool2,conv64x3,maxpool2,128 (tokens: an integer for "
              "Dense units, convNxK, convNxKsS, maxpoolK, avgpoolK, bn, flatten, lstmN, gruN, rnnN, attnK, ln, gap)")


def activation_name(name: str) -> str:
    """The canonical name of an activation (aliases resolved); ValueError listing the choices."""
    name = ACTIVATION_ALIASES.get(name, name)
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of "
                         f"{', '.join([*ACTIVATIONS, *ACTIVATION_ALIASES])}")
    return name


def parse_tokens(spec: str | list | tuple) -> list[str]:
    """The tokens of a ``--layers`` spec (a string or a list), checked; ValueError naming a bad one."""
    if isinstance(spec, (list, tuple)):
        tokens = [str(t).strip().lower() for t in spec]
    else:
        tokens = [t.strip().lower() for t in str(spec).split(",")]
    tokens = [t for t in tokens if t]
    for t in tokens:
        if not (_INT.match(t) or _CONV.match(t) or _POOL.match(t) or _SEQ.match(t) or t in ("bn", "flatten")):
            raise ValueError(f"--layers: {t!r} is not a layer token; {_SPEC_HELP}")
        if any(int(n) < 1 for n in re.findall(r"\d+", t)):
            raise ValueError(f"--layers: {t!r} has a size of 0; sizes must be positive integers")
    return tokens


def has_image_layers(tokens: list[str]) -> bool:
    """Whether a spec has conv or pool tokens (so it needs image input)."""
    return any(_CONV.match(t) or _POOL.match(t) for t in tokens)


def default_cnn_spec(input_shape: tuple[int, ...]) -> str:
    """A small CNN that suits the image size ``(channels, height, width)``.

    Up to 12 pixels (the 8×8 digits): two 3×3 conv blocks with BatchNorm around one 2×2 pool
    (8×8 → 4×4), then 128 units. Larger images (28×28 MNIST): the classic two conv + pool stages
    ``conv32x3,bn,maxpool2,conv64x3,bn,maxpool2,128`` (28 → 14 → 7).
    """
    side = min(input_shape[-2:])
    if side <= 12:
        return "conv32x3,bn,conv32x3,bn,maxpool2,conv64x3,bn,128"
    return "conv32x3,bn,maxpool2,conv64x3,bn,maxpool2,128"


def image_shape(input_shape: tuple[int, ...]) -> tuple[int, int, int] | None:
    """(C, H, W) for image input, (1, s, s) for flat rows of a square length s², else None."""
    if len(input_shape) == 3:
        c, h, w = input_shape
        return (c, h, w)
    if len(input_shape) == 1 and math.isqrt(input_shape[0]) ** 2 == input_shape[0]:
        side = math.isqrt(input_shape[0])
        return (1, side, side)
    return None


def build_model(spec: str | list | tuple | None, input_shape: tuple[int, ...], n_outputs: int, *,
                kind: str = "mlp", activation: str | Sequence[str] = "relu", dropout: float = 0.0, l1: float = 0.0,
                l2: float = 0.0, init: str | None = None, dtype: str | None = None,
                seed: Seed = None) -> Sequential:
    """A network from a ``--layers`` spec: an MLP, or a CNN when the spec has image layers.

    Parameters
    ----------
    spec : tokens as in the module docstring (e.g. ``"256,128"`` or ``"conv32x3,maxpool2,128"``),
        or None for the default of ``kind`` (:data:`DEFAULT_MLP`; :func:`default_cnn_spec`).
    input_shape : one sample's shape: ``(64,)`` for flat rows or ``(1, 8, 8)`` for images.
    n_outputs : units of the output layer (classes, or targets for regression).
    kind : "mlp" or "cnn"; only chooses the default spec and whether flat square rows are seen
        as images (a spec with conv or pool tokens is a CNN whatever ``kind`` says). An MLP on
        image input starts with Flatten.
    activation : the hidden layers' activation, a name of :data:`ACTIVATIONS` (or an alias); or
        a list of names, one per conv token and per Dense token in order (each layer then gets
        its own activation and, without ``init``, that activation's default initialiser).
    dropout : Dropout probability after each hidden Dense block (0: none).
    l1, l2 : penalties of every Dense and Conv2D layer (see :class:`axon.Dense`).
    init : the initialiser of the hidden layers (default: :data:`DEFAULT_INIT` for each layer's
        activation); the output layer uses Glorot.
    dtype : "float32" or "float64" (default :func:`axon.get_default_dtype`).
    seed : the initial weights' and dropout masks' randomness (see :mod:`axon._config`).

    Returns a :class:`Sequential` with ``input_shape`` set (so ``model.summary()`` needs no
    argument). Raises ValueError for an unknown token or a layer that does not fit the shape.
    """
    if kind not in ("mlp", "cnn"):
        raise ValueError(f"kind must be 'mlp' or 'cnn', got {kind!r}")
    n_outputs = check_int(n_outputs, "n_outputs")
    # One generator for all the layers: an int seed given to each layer would start every one from
    # the same stream (two Dense(64, 64) layers with the same initial weights). None: axon's.
    rng = None if seed is None else as_generator(seed)
    per_layer = [activation_name(a) for a in activation] if isinstance(activation, (list, tuple)) else None
    single = "" if per_layer is not None else activation_name(activation)  # type: ignore[arg-type]
    input_shape = tuple(int(s) for s in input_shape)
    if spec is None:
        image = image_shape(input_shape)
        if kind == "cnn" and image is None:
            raise ValueError(f"a CNN needs image input of shape (channels, height, width), got samples of "
                             f"shape {input_shape}; use kind='mlp' or load the data as images")
        spec = default_cnn_spec(image) if kind == "cnn" and image is not None else DEFAULT_MLP
    tokens = parse_tokens(spec)
    n_activated = sum(1 for t in tokens if _CONV.match(t) or _INT.match(t))
    if per_layer is not None and len(per_layer) != n_activated:
        raise ValueError(f"activation: {len(per_layer)} names for the {n_activated} conv and Dense layers of "
                         f"{','.join(tokens) or 'the linear model'}; give one name per conv and Dense token, "
                         f"or one name for all")
    names = iter(per_layer if per_layer is not None else [single] * n_activated)
    layers: list[Layer] = []
    shape: tuple[int, ...] = input_shape
    if has_image_layers(tokens):  # Dense and bn tokens alone take the samples as they come
        image = image_shape(input_shape)
        if image is None:
            raise ValueError(f"a CNN needs image input of shape (channels, height, width), got samples of "
                             f"shape {input_shape}; use kind='mlp' or load the data as images")
        if image != input_shape:
            layers.append(Reshape(image))
            shape = image
    elif any(_SEQ.match(t) for t in tokens) and len(input_shape) == 1 and image_shape(input_shape):
        side = math.isqrt(input_shape[0])  # flat rows of a square image: its rows are the steps
        layers.append(Reshape((side, side)))
        shape = (side, side)

    def add(layer: Layer, token: str) -> None:
        nonlocal shape
        try:
            shape = layer.output_shape(shape)
        except ValueError as e:
            raise ValueError(f"--layers: {token!r} does not fit its input of shape {shape}: {e}") from None
        layers.append(layer)

    def flatten_if_image() -> None:
        if len(shape) > 1:
            add(Flatten(), "flatten")

    i = 0
    while i < len(tokens):
        t = tokens[i]
        followed_by_bn = i + 1 < len(tokens) and tokens[i + 1] == "bn"
        conv, pool = _CONV.match(t), _POOL.match(t)
        if conv:
            if len(shape) != 3:
                raise ValueError(f"--layers: {t!r} needs image input but comes after a Dense or flatten "
                                 "layer; put conv and pool tokens first")
            filters, k, stride = int(conv[1]), int(conv[2]), int(conv[3] or 1)
            name = next(names)
            add(Conv2D(shape[0], filters, k, stride=stride, padding=k // 2, init=init or DEFAULT_INIT[name],
                       bias=not followed_by_bn, l1=l1, l2=l2, dtype=dtype, seed=rng), t)
            if followed_by_bn:
                add(BatchNorm2d(filters, dtype=dtype), "bn")
                i += 1
            add(ACTIVATIONS[name](), t)
        elif pool:
            if len(shape) != 3:
                raise ValueError(f"--layers: {t!r} needs image input but comes after a Dense or flatten layer")
            k, stride = int(pool[2]), int(pool[3] or pool[2])
            add((MaxPool2D if pool[1] == "max" else AvgPool2D)(k, stride), t)
        elif t == "bn":
            add(BatchNorm2d(shape[0], dtype=dtype) if len(shape) == 3 else BatchNorm1d(shape[0], dtype=dtype), t)
        elif _SEQ.match(t):
            # LayerNorm keeps the shape: what comes after the ``ln`` tokens decides the steps' fate
            following = next((u for u in tokens[i + 1:] if u != "ln"), "")
            for layer in _sequence_layers(t, shape, following, l1=l1, l2=l2, dtype=dtype, seed=rng):
                add(layer, t)
        elif t == "flatten":
            flatten_if_image()
        else:
            flatten_if_image()
            units, name = int(t), next(names)
            add(Dense(shape[0], units, init=init or DEFAULT_INIT[name], bias=not followed_by_bn, l1=l1, l2=l2,
                      dtype=dtype, seed=rng), t)
            if followed_by_bn:
                add(BatchNorm1d(units, dtype=dtype), "bn")
                i += 1
            add(ACTIVATIONS[name](), t)
            if dropout:
                add(Dropout(dropout, seed=rng), t)
        i += 1
    flatten_if_image()
    layers.append(Dense(shape[0], n_outputs, init="xavier", l1=l1, l2=l2, dtype=dtype, seed=rng))
    return Sequential(*layers, input_shape=input_shape)


def build_mlp(n_inputs: int, hidden: list[int] | tuple[int, ...], n_outputs: int, **options: object
              ) -> Sequential:
    """A multilayer perceptron: [Dense → activation (→ Dropout)] per hidden size, then Dense(n_outputs).

    ``build_model`` with the sizes as the spec; ``options`` are its keyword arguments
    (activation, dropout, l1, l2, init, dtype, seed).
    """
    sizes = [check_int(s, "each hidden layer size") for s in hidden]
    return build_model([str(s) for s in sizes], (check_int(n_inputs, "n_inputs"),), n_outputs,
                       kind="mlp", **options)  # type: ignore[arg-type]


def _sequence_layers(token: str, shape: tuple[int, ...], following: str, *, l1: float, l2: float,
                     dtype: str | None, seed: Seed) -> list[Layer]:
    """The layers of a sequence token (``lstm64``, ``gru64``, ``rnn64``, ``attn4``, ``ln``, ``gap``) on
    samples of ``shape``: (steps, features), or a one-channel image whose rows become the steps.

    ``following`` is the next token other than ``ln`` ("" at the end): a recurrent layer gives every
    step's state when it is a sequence token. ``dtype`` and ``seed`` go to every layer, ``l1`` and
    ``l2`` to the Dense layers of an ``attn`` block, as :func:`build_model` passes them to the others."""
    from axon.layers import GRU, LSTM, RNN, GlobalAvgPool1D, LayerNorm, MultiHeadSelfAttention, Residual

    layers: list[Layer] = []
    if len(shape) == 3:
        if shape[0] != 1:
            raise ValueError(f"--layers: {token!r} reads a one-channel image row by row, got {shape[0]} channels")
        layers.append(Reshape(shape[1:]))
        shape = tuple(shape[1:])
    if token == "ln":
        return layers + [LayerNorm(shape[-1], dtype=dtype)]
    if len(shape) != 2:
        raise ValueError(f"--layers: {token!r} needs (steps, features) but its input has shape {shape} "
                         f"(a Dense token, or an lstm/gru/rnn token with no sequence token after it, gives "
                         f"one vector per sample); put sequence tokens before Dense ones")
    if token == "gap":
        return layers + [GlobalAvgPool1D(channels_last=True)]
    match = _SEQ.match(token)
    assert match is not None
    kind, size = match[1], int(match[2])
    d = shape[1]
    if kind == "attn":
        if d % size:
            raise ValueError(f"--layers: {token!r}: {d} features per step are not a multiple of {size} heads")
        return layers + [Residual(Sequential(LayerNorm(d, dtype=dtype),
                                             MultiHeadSelfAttention(d, size, dtype=dtype, seed=seed))),
                         Residual(Sequential(LayerNorm(d, dtype=dtype),
                                             Dense(d, 2 * d, init="he", l1=l1, l2=l2, dtype=dtype, seed=seed),
                                             ReLU(), Dense(2 * d, d, l1=l1, l2=l2, dtype=dtype, seed=seed)))]
    cell = {"lstm": LSTM, "gru": GRU, "rnn": RNN}[kind]
    return layers + [cell(d, size, return_sequences=bool(_SEQ.match(following)), dtype=dtype, seed=seed)]
