"""Metrics: values on worked examples, against brute force, and the registry by name."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from axon import metrics as M


def test_accuracy_worked_example_labels_and_one_hot():
    scores = np.array([[0.1, 0.7, 0.2], [0.8, 0.1, 0.1], [0.2, 0.3, 0.5], [0.3, 0.4, 0.3]])
    labels = np.array([1, 0, 1, 1])  # 3 of 4 right
    assert M.accuracy(scores, labels) == 0.75
    assert M.accuracy(scores, np.eye(3)[labels]) == 0.75
    # logits give the same answer as probabilities (softmax keeps the order)
    assert M.accuracy(np.log(scores) * 3 + 1, labels) == 0.75


def test_accuracy_binary_thresholds_probabilities_at_half():
    p = np.array([[0.9], [0.4], [0.5], [0.1]])
    assert M.accuracy(p, np.array([1, 0, 1, 1])) == 0.75
    assert M.accuracy(p.ravel(), np.array([1.0, 0.0, 0.0, 0.0])) == 0.75


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 20), c=st.integers(2, 8), k=st.integers(1, 9), seed=st.integers(0, 2**16))
def test_top_k_accuracy_matches_brute_force(n, c, k, seed):
    rng = np.random.default_rng(seed)
    scores = rng.permutation(n * c).reshape(n, c).astype(float)  # distinct: no ties
    labels = rng.integers(0, c, n)
    brute = np.mean([labels[i] in np.argsort(-scores[i])[:k] for i in range(n)])
    assert M.top_k_accuracy(scores, labels, k=k) == pytest.approx(brute)
    assert M.make_top_k_accuracy(k)(scores, labels) == pytest.approx(brute)


def test_top_1_is_accuracy():
    rng = np.random.default_rng(0)
    s, y = rng.normal(size=(50, 5)), rng.integers(0, 5, 50)
    assert M.top_k_accuracy(s, y, k=1) == M.accuracy(s, y)


def test_mse_and_mae_match_numpy():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(7, 3)), rng.normal(size=(7, 3))
    assert M.mse(a, b) == pytest.approx(np.mean((a - b) ** 2))
    assert M.mae(a, b) == pytest.approx(np.mean(np.abs(a - b)))
    # (n, 1) predictions with (n,) targets
    assert M.mae(a[:, :1], b[:, 0]) == pytest.approx(np.mean(np.abs(a[:, 0] - b[:, 0])))
    with pytest.raises(ValueError, match="shape"):
        M.mse(a, b[:, :2])


@pytest.mark.parametrize("spec, name", [("accuracy", "accuracy"), ("acc", "accuracy"), ("ACCURACY", "accuracy"),
                                        ("mse", "mse"), ("mean_absolute_error", "mae"),
                                        ("top_3_accuracy", "top_3_accuracy"), ("top5", "top_5_accuracy"),
                                        ("top_k_accuracy", "top_k_accuracy")])
def test_get_metric_by_name(spec, name):
    got, fn = M.get_metric(spec)
    assert got == name and callable(fn)


def test_get_metric_callable_and_errors():
    def my_metric(p, t):
        return 1.0

    assert M.get_metric(my_metric) == ("my_metric", my_metric)
    with pytest.raises(ValueError, match="unknown metric 'accuracyy'.*accuracy"):
        M.get_metric("accuracyy")
    with pytest.raises(TypeError):
        M.get_metric(3)
    with pytest.raises(ValueError):
        M.make_top_k_accuracy(0)


def test_confusion_matrix_and_per_class_figures_worked_example():
    y_true = np.array([0, 0, 0, 1, 1, 2])
    y_pred = np.array([0, 0, 1, 1, 2, 2])
    C = M.confusion_matrix(y_true, y_pred)
    np.testing.assert_array_equal(C, [[2, 1, 0], [0, 1, 1], [0, 0, 1]])
    r = M.precision_recall_f1(y_true, y_pred)
    np.testing.assert_allclose(r["precision"], [1.0, 0.5, 0.5])      # column: 2/2, 1/2, 1/2
    np.testing.assert_allclose(r["recall"], [2 / 3, 0.5, 1.0])       # row: 2/3, 1/2, 1/1
    np.testing.assert_allclose(r["f1"], [0.8, 0.5, 2 / 3])
    np.testing.assert_array_equal(r["support"], [3, 2, 1])
    # a class never predicted and never present: 0, not NaN
    r4 = M.precision_recall_f1(y_true, y_pred, n_classes=4)
    assert r4["precision"][3] == r4["recall"][3] == r4["f1"][3] == 0 and r4["support"][3] == 0
    np.testing.assert_array_equal(M.confusion_matrix(np.eye(3)[y_true], y_pred), C)  # one-hot targets
    with pytest.raises(ValueError, match="0..1"):
        M.confusion_matrix(y_true, y_pred, n_classes=2)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 60), k=st.integers(2, 6), seed=st.integers(0, 2**16))
def test_per_class_figures_match_scikit_learn(n, k, seed):
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(seed)
    y_true, y_pred = rng.integers(0, k, n), rng.integers(0, k, n)
    labels = list(range(k))
    np.testing.assert_array_equal(M.confusion_matrix(y_true, y_pred, k), sk.confusion_matrix(y_true, y_pred,
                                                                                              labels=labels))
    p, r, f, s = sk.precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    got = M.precision_recall_f1(y_true, y_pred, k)
    np.testing.assert_allclose(got["precision"], p)
    np.testing.assert_allclose(got["recall"], r)
    np.testing.assert_allclose(got["f1"], f)
    np.testing.assert_array_equal(got["support"], s)
