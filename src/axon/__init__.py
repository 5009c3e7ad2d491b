"""axon: deep learning from scratch on NumPy, the course's formulas as readable, tested code.

The three steps of deep learning are the shape of the API: define a set of functions (the
model: :class:`Sequential` of layers), define how good a function is (:mod:`axon.losses`), pick
the best one (:mod:`axon.optim` and ``model.fit``).
"""

from __future__ import annotations

import importlib

from axon import data, datasets, layers, losses, optim
from axon._config import get_default_dtype, get_rng, set_default_dtype, set_seed
from axon.gradcheck import GradcheckReport, gradcheck
from axon.layers import (
    GRU,
    LSTM,
    RNN,
    AvgPool1D,
    AvgPool2D,
    BatchNorm1d,
    BatchNorm2d,
    Conv1D,
    Conv2D,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    GlobalAvgPool1D,
    Identity,
    Layer,
    LayerNorm,
    LeakyReLU,
    MaxPool1D,
    MaxPool2D,
    MultiHeadSelfAttention,
    PositionalEncoding,
    ReLU,
    Reshape,
    Residual,
    Sigmoid,
    Softmax,
    Tanh,
)
from axon.model import Sequential
from axon.parameter import Parameter

__version__ = "0.1.0"

# Submodules with heavier dependencies load on first use (``import axon`` stays fast).
_LAZY_MODULES = {"callbacks", "explain", "training", "io", "sklearn", "metrics", "preprocessing",
                 "architectures", "demos", "search"}
_LAZY_NAMES = {"save": "axon.io", "load": "axon.io", "load_model": "axon.io", "save_checkpoint": "axon.io",
               "load_checkpoint": "axon.io", "export_onnx": "axon.io", "trace": "axon.explain",
               "History": "axon.training"}

__all__ = [
    "AvgPool2D", "BatchNorm1d", "BatchNorm2d", "Conv2D", "Flatten", "MaxPool2D",
    "Dense", "Dropout", "GradcheckReport", "Identity", "Layer", "LeakyReLU", "Parameter", "ReLU", "Reshape",
    "Sequential", "Sigmoid", "Softmax", "Tanh", "data", "datasets", "get_default_dtype", "get_rng",
    "gradcheck", "layers", "losses", "optim", "set_default_dtype", "set_seed",
    "AvgPool1D", "Conv1D", "Embedding", "GRU", "GlobalAvgPool1D", "LSTM", "LayerNorm", "MaxPool1D",
    "MultiHeadSelfAttention", "PositionalEncoding", "RNN", "Residual",
]


def __getattr__(name: str):
    if name in _LAZY_MODULES:
        return importlib.import_module(f"axon.{name}")
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(_LAZY_NAMES[name]), name)
    raise AttributeError(f"module 'axon' has no attribute {name!r}")
