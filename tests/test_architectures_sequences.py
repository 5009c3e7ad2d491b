"""The sequence tokens of ``--layers`` (lstm, gru, rnn, attn, ln, gap) in :func:`axon.architectures.build_model`:
the dtype, seed and penalties reach their layers as they reach Dense and Conv2D, and ``ln`` between
sequence tokens keeps the steps."""

from __future__ import annotations

import numpy as np
import pytest

import axon as ax
from axon.architectures import build_model

SEQ_SPECS = ["lstm8,attn2,gap,16", "gru8,ln,rnn6", "rnn4,ln", "lstm6,ln,gap"]
T, D = 5, 4


@pytest.mark.parametrize("spec", SEQ_SPECS)
def test_float64_builds_every_parameter_in_float64(spec):
    model = build_model(spec, (T, D), 3, dtype="float64", seed=0)
    dtypes = {name: p.data.dtype for name, p in model.named_parameters().items()}
    assert dtypes and set(dtypes.values()) == {np.dtype("float64")}, dtypes
    assert model.forward(np.zeros((2, T, D))).dtype == np.float64


@pytest.mark.parametrize("spec", SEQ_SPECS)
def test_the_same_seed_gives_the_same_weights_and_another_seed_others(spec):
    def weights(seed):
        return [p.data.copy() for p in build_model(spec, (T, D), 3, seed=seed).parameters()]

    first, again, other = weights(7), weights(7), weights(8)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    random = [i for i, w in enumerate(first) if np.unique(w).size > 1]  # not the ones and zeros
    assert random and all(not np.array_equal(first[i], other[i]) for i in random)


def test_the_penalties_reach_the_dense_layers_of_an_attention_block():
    model = build_model("attn2,gap", (T, D), 3, l1=0.01, l2=0.02)
    dense = [layer for layer in _walk(model) if type(layer).__name__ == "Dense"]
    assert len(dense) == 3 and all((d.l1, d.l2) == (0.01, 0.02) for d in dense)


def _walk(layers):
    """Every layer of a Sequential, those inside wrappers (Residual) and their Sequentials too."""
    for layer in layers:
        yield layer
        inner = layer.sublayers() if hasattr(layer, "sublayers") else []
        yield from _walk([sub for _, sub in inner])


@pytest.mark.parametrize("spec, kinds", [("lstm32,ln,gap", ["LSTM", "LayerNorm", "GlobalAvgPool1D"]),
                                         ("lstm32,ln,lstm16", ["LSTM", "LayerNorm", "LSTM"]),
                                         ("gru8,ln,ln,attn2", ["GRU", "LayerNorm", "LayerNorm", "Residual"])])
def test_layernorm_between_sequence_tokens_keeps_the_steps(spec, kinds):
    model = build_model(spec, (T, D), 3, seed=0)
    assert [type(layer).__name__ for layer in model][:len(kinds)] == kinds
    assert model[0].return_sequences
    assert model.forward(np.zeros((2, T, D), np.float32)).shape == (2, 3)
    last = build_model(spec.split(",")[0] + ",ln", (T, D), 3, seed=0)  # nothing after the ln: the last state
    assert not last[0].return_sequences and last.forward(np.zeros((2, T, D), np.float32)).shape == (2, 3)


def test_an_int_seed_starts_layers_of_the_same_shape_from_different_weights():
    first = build_model("64,64,64", (64,), 3, seed=0)
    again = build_model("64,64,64", (64,), 3, seed=0)
    hidden = [layer.weight.data for layer in first.layers if isinstance(layer, ax.Dense)][1:3]
    assert not np.array_equal(hidden[0], hidden[1])  # one stream for the model, not one per layer
    assert all(np.array_equal(a.data, b.data) for a, b in zip(first.parameters(), again.parameters()))
