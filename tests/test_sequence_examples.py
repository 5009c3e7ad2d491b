"""The sequence examples, short: each learns (the full runs and their figures are in the examples'
docstrings)."""

from __future__ import annotations

import axon as ax
from test_digits_cnn import load_example


def test_lstm_forecaster_beats_persistence_with_truncated_bptt():
    _, f = load_example("sine_forecast").train(seed=0, epochs=8, n_steps=2000)
    assert f["mse_clean"] < 0.7 * f["persistence_clean"], f      # full run: 0.0023 against 0.017
    assert f["mse_noisy"] > 0.9 * f["noise_floor"]                 # nobody predicts the noise


def test_transformer_reads_the_month_of_a_date():
    example = load_example("transformer_dates")
    model, accuracy = example.train(seed=0, epochs=2, n_train=1500, n_test=400)
    assert accuracy > 0.4, accuracy                                 # chance 1/12; full run: 1.000
    assert any(isinstance(layer, ax.Residual) for layer in model)


def test_attention_seq2seq_learns_the_iso_format():
    example = load_example("seq2seq_dates")
    model, _ = example.train(seed=0, epochs=2, hidden=32, n_train=3000, n_test=100)
    data = ax.datasets.make_dates(3300, seed=0)
    held_out = slice(3000, 3300)
    assert example.char_accuracy(model, data, held_out) > 0.5       # untrained: 0.04; full run: exact 0.995
    assert model.generate(data.X[held_out], data.Y[0, 0], 10).shape == (300, 10)   # greedy decoding runs
