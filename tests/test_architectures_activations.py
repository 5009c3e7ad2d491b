"""Per-layer activations in :func:`axon.architectures.build_model`: each conv and Dense token its own
activation and that activation's initialiser; architecture search builds through it."""

from __future__ import annotations

import numpy as np
import pytest

from axon.architectures import build_model
from axon.search.space import Architecture


def _kinds(model):
    return [type(layer).__name__ for layer in model]


def test_each_layer_gets_its_activation_and_its_initialiser():
    model = build_model("conv4x3,bn,16,8", (1, 8, 8), 3, activation=["relu", "tanh", "sigmoid"], seed=0)
    assert _kinds(model) == ["Conv2D", "BatchNorm2d", "ReLU", "Flatten", "Dense", "Tanh", "Dense", "Sigmoid",
                             "Dense"]
    assert [model[i].init for i in (0, 4, 6, 8)] == ["he", "xavier", "xavier", "xavier"]
    assert model.forward(np.zeros((2, 1, 8, 8), np.float32)).shape == (2, 3)


def test_one_name_per_conv_and_dense_token_or_a_clear_error():
    with pytest.raises(ValueError, match="2 names for the 3 conv and Dense layers of 16,8,4"):
        build_model("16,8,4", (5,), 2, activation=["relu", "tanh"])
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        build_model("16,8", (5,), 2, activation=["relu", "swish"])


def test_a_search_architecture_with_mixed_activations_initialises_each_layer_for_its_own():
    arch = Architecture("16,bn,8", ("tanh", "relu"), 0.1, "adam", 1e-3, 32)
    model = arch.build((4,), 2)
    assert _kinds(model) == ["Dense", "BatchNorm1d", "Tanh", "Dropout", "Dense", "ReLU", "Dropout", "Dense"]
    assert (model[0].init, model[4].init) == ("xavier", "he")
