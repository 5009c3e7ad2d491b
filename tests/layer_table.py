"""The table of every built-in layer, shared by the layer tests (tests/test_layers.py,
tests/test_gpu.py) and the GPU check (bench/gpu.py): plain axon, no test framework, so the check
script runs it on a machine that has only NumPy and CuPy.
"""

from __future__ import annotations

import numpy as np

import axon as ax

# One table of every built-in layer: name -> factory(d) returning (layer, one sample's input shape),
# d in 1..6 a size drawn by the tests.
LAYERS = {
    "dense": lambda d: (ax.Dense(d, 3, l1=0.01, l2=0.1), (d,)),
    "dense_nobias": lambda d: (ax.Dense(d, 2, bias=False), (d,)),
    "sigmoid": lambda d: (ax.Sigmoid(), (d,)),
    "tanh": lambda d: (ax.Tanh(), (d,)),
    "relu": lambda d: (ax.ReLU(), (d,)),
    "leaky_relu": lambda d: (ax.LeakyReLU(0.1), (d,)),
    "softmax": lambda d: (ax.Softmax(), (d,)),
    "identity": lambda d: (ax.Identity(), (d,)),
    "dropout": lambda d: (ax.Dropout(0.3), (d,)),
    "conv2d": lambda d: (ax.Conv2D(2, 3, 3, padding=1, l2=0.1), (2, d + 2, d + 1)),
    "conv2d_strided": lambda d: (ax.Conv2D(1, 2, (2, 3), stride=2, bias=False), (1, d + 3, d + 4)),
    "batchnorm1d": lambda d: (ax.BatchNorm1d(d), (d,)),
    "batchnorm2d": lambda d: (ax.BatchNorm2d(2), (2, d + 1, 3)),
    "maxpool2d": lambda d: (ax.MaxPool2D(2), (2, 2 * d, 4)),
    "maxpool2d_overlapping": lambda d: (ax.MaxPool2D(3, stride=1), (1, d + 2, 4)),
    "avgpool2d": lambda d: (ax.AvgPool2D(2), (2, 2 * d, 2)),
    "flatten": lambda d: (ax.Flatten(), (2, d, 3)),
    "reshape": lambda d: (ax.Reshape((d, 4)), (4 * d,)),
    # eps = 1: with 1 or 2 features the normalised output is nearly constant in x (x̂ = ±1), which
    # leaves central differences nothing but rounding noise to compare. More: test_sequence_layers.py.
    "layernorm": lambda d: (ax.LayerNorm(d, eps=1.0), (d,)),
    "conv1d": lambda d: (ax.Conv1D(2, 3, 3, stride=2, padding=1, dilation=1), (2, d + 4)),
    "conv1d_dilated": lambda d: (ax.Conv1D(1, 2, 2, dilation=2), (1, d + 3)),
    "maxpool1d": lambda d: (ax.MaxPool1D(2), (2, 2 * d)),
    "avgpool1d": lambda d: (ax.AvgPool1D(2), (2, 2 * d)),
    "global_avgpool1d": lambda d: (ax.GlobalAvgPool1D(), (3, d + 1)),
    "embedding": lambda d: (ax.Embedding(5, 3), (d,)),
    "rnn": lambda d: (ax.RNN(2, 3, return_sequences=True), (d, 2)),
    "lstm": lambda d: (ax.LSTM(2, 3), (d, 2)),
    "gru": lambda d: (ax.GRU(2, 3, return_sequences=True), (d, 2)),
    "attention": lambda d: (ax.MultiHeadSelfAttention(4, 2, causal=True), (d, 4)),
    "positional": lambda d: (ax.PositionalEncoding(4), (d, 4)),
    "residual": lambda d: (ax.Residual(ax.Sequential(ax.LayerNorm(4), ax.Dense(4, 4))), (d, 4)),
}
#: Layers that read integer ids in [0, vocabulary) rather than numbers (no input gradient).
INTEGER_INPUT = {"embedding": 5}
#: Layers whose training pass differs from inference (checked in training mode).
TRAINING_MODE = {"dropout", "batchnorm1d", "batchnorm2d"}


def make_input(kind: str, shape: tuple[int, ...], rng: np.random.Generator, dtype: type) -> np.ndarray:
    """A batch for the layer ``kind``: numbers in ``dtype``, or integer ids for an Embedding."""
    if kind in INTEGER_INPUT:
        return rng.integers(0, INTEGER_INPUT[kind], size=shape)
    return rng.normal(size=shape).astype(dtype)


def model_for(kind: str, d: int, dtype: type = np.float64) -> tuple[ax.Sequential, tuple[int, ...]]:
    """(model, one sample's input shape): the layer ``kind`` followed by a Dense layer with two
    outputs (after a Flatten for a layer with several output axes), so that a loss depends on its
    output non-trivially; in ``dtype``."""
    layer, in_shape = LAYERS[kind](d)
    out_shape = layer.output_shape(tuple(in_shape))
    after = [ax.Flatten()] if len(out_shape) > 1 else []
    model = ax.Sequential(layer, *after, ax.Dense(int(np.prod(out_shape)), 2)).to_dtype(dtype)
    return model, tuple(in_shape)


def masked_sequence_model(width: int, n: int, steps: int) -> tuple[ax.Sequential, np.ndarray]:
    """(model, ids): what the table's small cases miss, in float64. An Embedding of 300 ids
    (above 256 its gradient is a scatter-add) with padding id 0, whose mask flows through an LSTM,
    non-causal attention and a GRU, then Dense(2); ``ids`` (n, steps), the last quarter padding."""
    ax.set_seed(10)
    model = ax.Sequential(ax.Embedding(300, width, padding_idx=0), ax.LSTM(width, width, return_sequences=True),
                          ax.MultiHeadSelfAttention(width, 2), ax.GRU(width, 6), ax.Dense(6, 2)).to_dtype(np.float64)
    ids = np.random.default_rng(11).integers(1, 300, size=(n, steps))
    ids[:, steps - steps // 4:] = 0
    return model, ids
