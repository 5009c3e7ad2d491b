"""Ready-made models from a short text spec, as the command line's ``--layers`` takes it.

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
               sequence token follows, else the last state
``attn4``      a pre-norm transformer encoder block with 4 heads over the steps (``Residual``s of
               LayerNorm → attention and LayerNorm → Dense(2d) → ReLU → Dense(d))
``ln``         LayerNorm over the last axis; ``gap``: the mean over the steps (GlobalAvgPool1D)
=============  ==================================================================================

Examples: ``"256,128"`` with 784 inputs and 10 outputs gives 784 → 256 → 128 → 10 (an MLP);
``"conv32x3,maxpool2,conv64x3,maxpool2,128"`` on (1, 28, 28) images gives
conv 32@28×28 → pool 32@14×14 → conv 64@14×14 → pool 64@7×7 → flatten 3136 → 128 → 10.

:func:`build_model` is what the command line calls: ``kind="mlp"`` or ``"cnn"``; with no spec it
picks a sensible default (:data:`DEFAULT_MLP`, or :func:`default_cnn_spec` for the image size).
Image input is NCHW, one sample's ``input_shape`` being ``(channels, height, width)``; flat rows
whose length is a square (64, 784) are reshaped to one-channel images for a CNN.
"""

from __future__ import annotations

import math
import re

from axon.layers import (
    AvgPool2D,
    BatchNorm1d,
    BatchNorm2d,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    LeakyReLU,
    MaxPool2D,
    ReLU,
    Reshape,
    Sigmoid,
    Tanh,
)
from axon.layers.base import Layer
from axon.model import Sequential

ACTIVATIONS: dict[str, type[Layer]] = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh, "leaky_relu": LeakyReLU}

#: The default initialiser for each activation (He for the ReLU family, Glorot for squashing units).
DEFAULT_INIT = {"relu": "he", "leaky_relu": "he", "sigmoid": "xavier", "tanh": "xavier"}


def parse_hidden(spec: str | list[int] | tuple[int, ...]) -> list[int]:
    """Hidden layer sizes from ``"256,128"`` (or a list); raises ValueError naming a bad token."""
    if isinstance(spec, (list, tuple)):
        tokens = [str(t) for t in spec]
    else:
        tokens = [t.strip() for t in str(spec).split(",") if t.strip()]
    sizes = []
    for t in tokens:
        if not t.isdigit() or int(t) < 1:
            raise ValueError(f"--layers: {t!r} is not a positive layer size; write e.g. --layers 256,128")
        sizes.append(int(t))
    return sizes


def build_mlp(n_inputs: int, hidden: str | list[int] | tuple[int, ...], n_outputs: int, *,
              activation: str = "relu", dropout: float = 0.0, l1: float = 0.0, l2: float = 0.0,
              init: str | None = None) -> Sequential:
    """A multilayer perceptron: [Dense → activation (→ Dropout)] per hidden size, then Dense(n_outputs)."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
    init = init or DEFAULT_INIT[activation]
    layers: list[Layer] = []
    width = n_inputs
    for size in parse_hidden(hidden):
        layers += [Dense(width, size, init=init, l1=l1, l2=l2), ACTIVATIONS[activation]()]
        if dropout:
            layers.append(Dropout(dropout))
        width = size
    layers.append(Dense(width, n_outputs, init="xavier", l1=l1, l2=l2))
    return Sequential(*layers)


#: The MLP ``build_model`` makes when no spec is given.
DEFAULT_MLP = "256,128"

_INT = re.compile(r"^\d+$")
_CONV = re.compile(r"^conv(\d+)x(\d+)(?:s(\d+))?$")
_POOL = re.compile(r"^(max|avg)pool(\d+)(?:s(\d+))?$")
_SEQ = re.compile(r"^(lstm|gru|rnn|attn)(\d+)$|^(ln|gap)$")
_SPEC_HELP = ("write e.g. --layers conv32x3,maxpool2,conv64x3,maxpool2,128 (tokens: an integer for "
              "Dense units, convNxK, convNxKsS, maxpoolK, avgpoolK, bn, flatten, lstmN, gruN, rnnN, attnK, ln, gap)")


def _tokens(spec: str | list | tuple) -> list[str]:
    if isinstance(spec, (list, tuple)):
        tokens = [str(t).strip().lower() for t in spec]
    else:
        tokens = [t.strip().lower() for t in str(spec).split(",")]
    tokens = [t for t in tokens if t]
    for t in tokens:
        if not (_INT.match(t) or _CONV.match(t) or _POOL.match(t) or _SEQ.match(t) or t in ("bn", "flatten")):
            raise ValueError(f"--layers: {t!r} is not a layer token; {_SPEC_HELP}")
        numbers = [int(n) for n in re.findall(r"\d+", t)]
        if any(n < 1 for n in numbers):
            raise ValueError(f"--layers: {t!r} has a size of 0; sizes must be positive integers")
    return tokens


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


def _image_shape(input_shape: tuple[int, ...]) -> tuple[int, int, int] | None:
    """(C, H, W) for image input, (1, s, s) for flat rows of a square length s², else None."""
    if len(input_shape) == 3:
        return tuple(input_shape)
    if len(input_shape) == 1 and math.isqrt(input_shape[0]) ** 2 == input_shape[0]:
        side = math.isqrt(input_shape[0])
        return (1, side, side)
    return None


def build_cnn(input_shape: tuple[int, ...], spec: str | list | tuple | None, n_outputs: int, *,
              activation: str = "relu", dropout: float = 0.0, l1: float = 0.0, l2: float = 0.0,
              init: str | None = None) -> Sequential:
    """A convolutional network from a spec such as ``"conv32x3,bn,maxpool2,conv64x3,maxpool2,128"``.

    See the module docstring for the tokens. ``input_shape`` is one sample's shape, ``(C, H, W)``
    (or flat ``(H·W,)`` with H == W, reshaped to ``(1, H, W)`` by a first Reshape layer).
    Returns a :class:`Sequential` with ``input_shape`` set; its summary shows every layer's
    output shape. Raises ValueError for an unknown token or a layer that does not fit the shape.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
    input_shape = tuple(int(s) for s in input_shape)
    image = _image_shape(input_shape)
    if image is None:
        raise ValueError(f"a CNN needs image input of shape (channels, height, width), got samples of "
                         f"shape {input_shape}; use kind='mlp' or load the data as images")
    tokens = _tokens(default_cnn_spec(image) if spec is None else spec)
    init = init or DEFAULT_INIT[activation]
    layers: list[Layer] = [] if len(input_shape) == 3 else [Reshape(image)]
    shape: tuple[int, ...] = image

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
            add(Conv2D(shape[0], filters, k, stride=stride, padding=k // 2, init=init,
                       bias=not followed_by_bn, l1=l1, l2=l2), t)
            if followed_by_bn:
                add(BatchNorm2d(filters), "bn")
                i += 1
            add(ACTIVATIONS[activation](), t)
        elif pool:
            if len(shape) != 3:
                raise ValueError(f"--layers: {t!r} needs image input but comes after a Dense or flatten layer")
            k, stride = int(pool[2]), int(pool[3] or pool[2])
            add((MaxPool2D if pool[1] == "max" else AvgPool2D)(k, stride), t)
        elif t == "bn":
            add(BatchNorm2d(shape[0]) if len(shape) == 3 else BatchNorm1d(shape[0]), t)
        elif _SEQ.match(t):
            following = tokens[i + 1] if i + 1 < len(tokens) else ""
            for layer in _sequence_layers(t, shape, following):
                add(layer, t)
        elif t == "flatten":
            flatten_if_image()
        else:
            flatten_if_image()
            units = int(t)
            add(Dense(shape[0], units, init=init, bias=not followed_by_bn, l1=l1, l2=l2), t)
            if followed_by_bn:
                add(BatchNorm1d(units), "bn")
                i += 1
            add(ACTIVATIONS[activation](), t)
            if dropout:
                add(Dropout(dropout), t)
        i += 1
    flatten_if_image()
    layers.append(Dense(shape[0], n_outputs, init="xavier", l1=l1, l2=l2))
    return Sequential(*layers, input_shape=input_shape)


def build_model(spec: str | list | tuple | None, input_shape: tuple[int, ...], n_outputs: int, *,
                kind: str = "mlp", activation: str = "relu", dropout: float = 0.0, l1: float = 0.0,
                l2: float = 0.0) -> Sequential:
    """The model the command line trains: an MLP or a CNN from a ``--layers`` spec.

    Parameters
    ----------
    spec : tokens as in the module docstring (e.g. ``"256,128"`` or ``"conv32x3,maxpool2,128"``),
        or None for the default of ``kind`` (:data:`DEFAULT_MLP`; :func:`default_cnn_spec`).
    input_shape : one sample's shape: ``(64,)`` for flat rows or ``(1, 8, 8)`` for images.
    n_outputs : units of the output layer (classes, or targets for regression).
    kind : "mlp" or "cnn". A spec with conv or pool tokens builds a CNN whatever ``kind`` says;
        an MLP on image input starts with Flatten.
    activation, dropout, l1, l2 : as :func:`build_mlp`.

    Returns a :class:`Sequential` with ``input_shape`` set (so ``model.summary()`` needs no argument).
    """
    if kind not in ("mlp", "cnn"):
        raise ValueError(f"kind must be 'mlp' or 'cnn', got {kind!r}")
    if isinstance(n_outputs, bool) or not isinstance(n_outputs, int) or n_outputs < 1:
        raise ValueError(f"n_outputs must be a positive integer, got {n_outputs!r}")
    input_shape = tuple(int(s) for s in input_shape)
    tokens = None if spec is None else _tokens(spec)
    if kind == "cnn" or (tokens is not None and not all(_INT.match(t) for t in tokens)):
        return build_cnn(input_shape, tokens, n_outputs, activation=activation, dropout=dropout,
                         l1=l1, l2=l2)
    hidden = tokens if tokens is not None else DEFAULT_MLP
    model = build_mlp(math.prod(input_shape), hidden, n_outputs, activation=activation,
                      dropout=dropout, l1=l1, l2=l2)
    if len(input_shape) > 1:
        model = Sequential(Flatten(), *model.layers, input_shape=input_shape)
    model.input_shape = input_shape
    return model


def _sequence_layers(token: str, shape: tuple[int, ...], following: str) -> list[Layer]:
    """The layers of a sequence token (``lstm64``, ``gru64``, ``rnn64``, ``attn4``, ``ln``, ``gap``) on
    samples of ``shape``: (steps, features), or a one-channel image whose rows become the steps."""
    from axon.layers import GRU, LSTM, RNN, GlobalAvgPool1D, LayerNorm, MultiHeadSelfAttention, Residual

    layers: list[Layer] = []
    if len(shape) == 3:
        if shape[0] != 1:
            raise ValueError(f"--layers: {token!r} reads a one-channel image row by row, got {shape[0]} channels")
        layers.append(Reshape(shape[1:]))
        shape = tuple(shape[1:])
    if token == "ln":
        return layers + [LayerNorm(shape[-1])]
    if len(shape) != 2:
        raise ValueError(f"--layers: {token!r} needs (steps, features) but comes after a layer that "
                         f"gives {shape}; put sequence tokens before Dense ones")
    if token == "gap":
        return layers + [GlobalAvgPool1D(channels_last=True)]
    kind, size = _SEQ.match(token)[1], int(_SEQ.match(token)[2])
    d = shape[1]
    if kind == "attn":
        if d % size:
            raise ValueError(f"--layers: {token!r}: {d} features per step are not a multiple of {size} heads")
        return layers + [Residual(Sequential(LayerNorm(d), MultiHeadSelfAttention(d, size))),
                         Residual(Sequential(LayerNorm(d), Dense(d, 2 * d, init="he"), ReLU(), Dense(2 * d, d)))]
    cell = {"lstm": LSTM, "gru": GRU, "rnn": RNN}[kind]
    return layers + [cell(d, size, return_sequences=bool(_SEQ.match(following)) and following != "ln")]
