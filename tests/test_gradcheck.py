"""ax.gradcheck itself: it passes correct layers, catches a wrong one, and changes nothing."""

from __future__ import annotations

import numpy as np

import axon as ax


class WrongSigmoid(ax.Sigmoid):
    """A classic bug: forgets the (1 − a) factor of σ′."""

    def backward(self, grad_y):
        return grad_y * self._y


def _data(n=5, d=4, k=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.integers(0, k, size=n)


def test_report_table_and_verdict():
    X, y = _data()
    model = ax.Sequential(ax.Dense(4, 5), ax.Sigmoid(), ax.Dense(5, 3))
    report = ax.gradcheck(model, ax.losses.SoftmaxCrossEntropy(), X, y)
    text = str(report)
    assert report.ok and report.max_rel_error < 1e-7
    assert [r.name for r in report.rows] == [p.name for p in model.parameters()]
    assert "dense_1.weight" in text and "OK" in text


def test_detects_a_wrong_backward_pass():
    X, y = _data()
    model = ax.Sequential(ax.Dense(4, 5), WrongSigmoid(), ax.Dense(5, 3))
    report = ax.gradcheck(model, ax.losses.SoftmaxCrossEntropy(), X, y)
    assert not report.ok and report.max_rel_error > 1e-2
    assert "FAILED" in str(report)


def test_leaves_the_float32_model_untouched():
    X, y = _data()
    model = ax.Sequential(ax.Dense(4, 3))
    before = [p.data.copy() for p in model.parameters()]
    ax.gradcheck(model, ax.losses.SoftmaxCrossEntropy(), X, y)
    for p, b in zip(model.parameters(), before, strict=True):
        assert p.data.dtype == np.float32
        np.testing.assert_array_equal(p.data, b)
        assert not p.grad.any()


def test_penalties_are_part_of_the_checked_cost():
    X, y = _data()
    model = ax.Sequential(ax.Dense(4, 3, l1=0.05, l2=0.3))
    assert ax.gradcheck(model, ax.losses.SoftmaxCrossEntropy(), X, y).ok


def test_max_entries_samples_large_parameters():
    X, y = _data(d=40)
    report = ax.gradcheck(ax.Sequential(ax.Dense(40, 30)), ax.losses.SoftmaxCrossEntropy(),
                          X, np.zeros(5, dtype=int), max_entries=50)
    assert report.rows[0].checked == 50 and report.rows[1].checked == 30 and report.ok


def test_integer_features_of_a_dense_model_are_numbers_and_their_gradient_is_checked():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])  # the course's XOR table, as ints
    model = ax.Sequential(ax.Dense(2, 3), ax.Tanh(), ax.Dense(3, 1))
    report = ax.gradcheck(model, ax.losses.MSE(), X, np.array([[0.0], [1.0], [1.0], [0.0]]))
    assert report.input_checked and report.ok
    assert "not checked" not in str(report)
