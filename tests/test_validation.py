"""Every bad input to fit/evaluate/predict raises ValueError or TypeError with a helpful message.

A helpful message names the argument, says what is wrong and suggests a fix.
"""

from __future__ import annotations

import numpy as np
import pytest

import axon as ax
from axon import validation as V


@pytest.fixture
def clf():
    ax.set_seed(0)
    m = ax.Sequential(ax.Dense(4, 8), ax.ReLU(), ax.Dense(8, 3))
    m.compile(loss="cross_entropy", optimizer="sgd", metrics=["accuracy"])
    return m


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(20, 4)).astype(np.float32), rng.integers(0, 3, 20)


def _nan_x(X, y):
    X = X.copy()
    X[3, 1] = np.nan
    return X, y


def _inf_x(X, y):
    X = X.copy()
    X[5, 0] = np.inf
    return X, y


BAD_DATA = [
    # (name, transform (X, y) -> (X, y), exception, words the message must hold)
    ("nan", _nan_x, ValueError, ["X", "NaN", "row 3"]),
    ("inf", _inf_x, ValueError, ["X", "infinite", "row 5"]),
    ("features", lambda X, y: (X[:, :3], y), ValueError, ["X", "3 features", "expects 4"]),
    ("length", lambda X, y: (X, y[:15]), ValueError, ["20 samples", "y has 15"]),
    ("label_range", lambda X, y: (X, np.where(y == 0, 3, y)), ValueError, ["label 3", "3 outputs"]),
    ("negative_label", lambda X, y: (X, np.where(y == 0, -1, y)), ValueError, ["negative", "y"]),
    ("float_labels", lambda X, y: (X, y + 0.5), ValueError, ["non-integer", "mse"]),
    ("string_labels", lambda X, y: (X, y.astype(str)), TypeError, ["y", "dtype", "numbers"]),
    ("object_X", lambda X, y: (X.astype(object), y), TypeError, ["X", "dtype object"]),
    ("string_X", lambda X, y: (X.astype(str), y), TypeError, ["X", "numbers"]),
    ("empty", lambda X, y: (X[:0], y[:0]), ValueError, ["X", "empty"]),
    ("none_y", lambda X, y: (X, None), TypeError, ["y is None"]),
    ("onehot_width", lambda X, y: (X, np.eye(4)[y]), ValueError, ["4 columns", "3 outputs"]),
    ("nan_y", lambda X, y: (X, np.where(y == 0, np.nan, y)), ValueError, ["y", "NaN"]),
]


@pytest.mark.parametrize("name, bad, exc, words", BAD_DATA, ids=[b[0] for b in BAD_DATA])
@pytest.mark.parametrize("call", ["fit", "evaluate"])
def test_bad_data_raises_helpful_error(clf, data, name, bad, exc, words, call):
    X, y = bad(*data)
    before = [p.data.copy() for p in clf.parameters()]
    with pytest.raises(exc) as info:
        if call == "fit":
            clf.fit(X, y, epochs=1, verbose=0)
        else:
            clf.evaluate(X, y)
    msg = str(info.value)
    for w in words:
        assert w in msg, f"{w!r} not in {msg!r}"
    assert all(np.array_equal(a, p.data) for a, p in zip(before, clf.parameters())), "weights changed"


@pytest.mark.parametrize("bad, words", [(_nan_x, ["NaN"]), (lambda X, y: (X[:, :2], y), ["2 features"]),
                                        (lambda X, y: (X[:0], y), ["empty"])])
def test_predict_checks_inputs(clf, data, bad, words):
    X, _ = bad(*data)
    with pytest.raises(ValueError) as info:
        clf.predict(X)
    assert all(w in str(info.value) for w in words)


@pytest.mark.parametrize("kwargs, exc, words", [
    ({"epochs": 0}, ValueError, ["epochs", "positive integer"]),
    ({"epochs": 2.5}, TypeError, ["epochs", "integer"]),
    ({"batch_size": 0}, ValueError, ["batch_size"]),
    ({"batch_size": -4}, ValueError, ["batch_size"]),
    ({"validation_split": 1.0}, ValueError, ["validation_split", "[0, 1)"]),
    ({"validation_split": -0.1}, ValueError, ["validation_split"]),
    ({"verbose": 3}, ValueError, ["verbose"]),
    ({"seed": -1}, ValueError, ["seed"]),
    ({"callbacks": [print]}, TypeError, ["callbacks[0]", "Callback"]),
    ({"validation_data": ([1, 2], [1])}, ValueError, ["validation_data[0]"]),
    ({"validation_data": (np.zeros((3, 4)),)}, TypeError, ["validation_data", "pair"]),
])
def test_bad_fit_arguments(clf, data, kwargs, exc, words):
    with pytest.raises(exc) as info:
        clf.fit(*data, **{"verbose": 0, **kwargs})
    assert all(w in str(info.value) for w in words), str(info.value)


def test_bad_hyperparameters_of_parts():
    with pytest.raises(ValueError, match="learning rate"):
        ax.optim.SGD(lr=-0.1)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        ax.Dropout(1.0)
    with pytest.raises(ValueError, match="p must be"):
        ax.Dropout(-0.2)


def test_uncompiled_model_gives_clear_error(data):
    m = ax.Sequential(ax.Dense(4, 3))
    for call in (lambda: m.fit(*data, verbose=0), lambda: m.evaluate(*data)):
        with pytest.raises(ValueError, match=r"not compiled.*model\.compile"):
            call()
    assert m.predict(data[0]).shape == (20, 3)  # predict needs no loss: raw output


def test_float_labels_that_are_whole_numbers_are_accepted(clf, data):
    X, y = data
    h = clf.fit(X, y.astype(np.float64), epochs=1, verbose=0)
    assert np.isfinite(h.history["loss"][0])


def test_binary_cross_entropy_targets_in_unit_interval():
    m = ax.Sequential(ax.Dense(2, 1))
    m.compile(loss="bce")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        m.fit(np.zeros((4, 2)), np.array([0, 1, 2, 1]), verbose=0)


def test_regression_target_width_must_match_outputs():
    m = ax.Sequential(ax.Dense(2, 1))
    m.compile(loss="mse")
    with pytest.raises(ValueError, match="2 value"):
        m.fit(np.zeros((4, 2)), np.zeros((4, 2)), verbose=0)


def test_images_for_a_conv_model_must_have_the_channels():
    conv = pytest.importorskip("axon.layers").Conv2D
    m = ax.Sequential(conv(1, 2, 3), ax.layers.Flatten(), ax.Dense(2 * 6 * 6, 3))
    with pytest.raises(ValueError, match="1, height, width"):
        V.check_X(m, np.zeros((4, 64)))
    V.check_X(m, np.zeros((4, 1, 8, 8)))


def test_finiteness_scan_finds_the_row_in_a_large_array():
    X = np.zeros((300_000, 20), dtype=np.float32)
    X[250_123, 7] = np.inf
    assert V._first_non_finite(X) == 250_123
    assert V._first_non_finite(X[:250_000]) is None


def test_finiteness_scan_is_not_fooled_by_overflowing_squares():
    X = np.full((1000, 10), 1e30, dtype=np.float32)  # x·x overflows, yet every value is finite
    assert V._first_non_finite(X) is None
    X[999, 9] = np.nan
    assert V._first_non_finite(X) == 999
    assert V._first_non_finite(np.asfortranarray(X)) == 999


def test_label_range_is_checked_for_a_conv_model_from_the_image_shape():
    layers = pytest.importorskip("axon.layers")
    m = ax.Sequential(layers.Conv2D(1, 2, 3), layers.Flatten(), ax.Dense(2 * 6 * 6, 3))
    m.compile("cross_entropy")
    X = np.zeros((4, 1, 8, 8), dtype=np.float32)
    with pytest.raises(ValueError, match="label 5 but the model has 3 outputs"):
        m.fit(X, np.array([0, 1, 2, 5]), verbose=0)
