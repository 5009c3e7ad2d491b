"""docs/regularization.md's conversions, checked against the libraries they convert from.

scikit-learn's MLP with solver="sgd" takes, per batch of n_b samples, the step of
δᴸ = a − y, ∂/∂W = (aᵀδ + αW)/n_b: the gradient of C₀ + α/(2n_b)·Σw² where C₀ sums the
per-sample cost over the outputs. So axon takes the same steps with ``SGD(lr=learning_rate_init,
momentum=momentum, nesterov=nesterovs_momentum)`` (learning_rate="constant"),
``l2 = alpha / batch_size`` and QuadraticCost (regression), CrossEntropyCost (multi-label
classification) or SoftmaxCrossEntropy (multi-class); with MSE, lr = k·η/2 and
l2 = 2·alpha/(k·batch_size).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import axon as ax

N, D, H, K, BATCH = 24, 4, 5, 3, 8
ETA, ALPHA = 0.1, 0.3


def _axon_copy(est) -> ax.Sequential:
    """axon's Dense-Tanh-Dense with scikit-learn's current weights (same (in, out) layout)."""
    model = ax.Sequential(ax.Dense(D, H, dtype="float64"), ax.Tanh(), ax.Dense(H, K, dtype="float64"))
    for layer, W, b in zip((model[0], model[2]), est.coefs_, est.intercepts_, strict=True):
        layer.weight.data[...] = W
        layer.bias.data[...] = b
    return model


def _sklearn_epoch_then_axon(est, X, Y, loss, lr, l2, momentum=0.0, nesterov=False):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # one epoch does not converge, by design
        est.fit(X, Y)                            # initialises the weights (warm_start keeps them)
        model = _axon_copy(est)
        est.fit(X, Y)                            # one epoch of N / BATCH steps, in order, a fresh optimizer
    for layer in (model[0], model[2]):
        layer.l2 = l2
    model.compile(loss=loss, optimizer=ax.optim.SGD(lr=lr, momentum=momentum, nesterov=nesterov))
    model.fit(X, Y, epochs=1, batch_size=BATCH, shuffle=False, verbose=0)
    for layer, W, b in zip((model[0], model[2]), est.coefs_, est.intercepts_, strict=True):
        np.testing.assert_allclose(layer.weight.data, W, rtol=0, atol=1e-12)
        np.testing.assert_allclose(layer.bias.data, b, rtol=0, atol=1e-12)


def _sgd(cls, momentum=0.0, nesterov=False):
    return cls(hidden_layer_sizes=(H,), activation="tanh", solver="sgd", momentum=momentum,
               nesterovs_momentum=nesterov, learning_rate_init=ETA, alpha=ALPHA, batch_size=BATCH,
               shuffle=False, max_iter=1, warm_start=True, random_state=0)


@pytest.mark.parametrize("loss, lr, l2", [
    (ax.losses.QuadraticCost(), ETA, ALPHA / BATCH),
    (ax.losses.MSE(), K * ETA / 2, 2 * ALPHA / (K * BATCH)),
])
def test_sklearn_regressor_is_quadratic_cost_with_l2_alpha_over_batch(loss, lr, l2):
    neural = pytest.importorskip("sklearn.neural_network")
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(N, D)), rng.normal(size=(N, K))
    _sklearn_epoch_then_axon(_sgd(neural.MLPRegressor), X, Y, loss, lr, l2)


def test_sklearn_multilabel_classifier_is_cross_entropy_cost():
    neural = pytest.importorskip("sklearn.neural_network")
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(N, D)), rng.integers(0, 2, size=(N, K))
    Y[0], Y[1] = 0, 1                          # every column has both labels
    _sklearn_epoch_then_axon(_sgd(neural.MLPClassifier), X, Y, ax.losses.CrossEntropyCost(), ETA, ALPHA / BATCH)


@pytest.mark.parametrize("momentum, nesterov", [(0.0, False), (0.9, False), (0.9, True)])
def test_sklearn_multiclass_classifier_is_softmax_cross_entropy(momentum, nesterov):
    """scikit-learn's default solver ("sgd", momentum 0.9, Nesterov) is SGD(momentum=0.9, nesterov=True)."""
    neural = pytest.importorskip("sklearn.neural_network")
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(N, D)), np.arange(N) % K
    _sklearn_epoch_then_axon(_sgd(neural.MLPClassifier, momentum, nesterov), X, y, ax.losses.SoftmaxCrossEntropy(),
                             ETA, ALPHA / BATCH, momentum, nesterov)


def test_adamw_decays_before_its_adam_step():
    """AdamW(weight_decay=d): w ← w·(1 − η·d) first, then Adam's step from the raw gradient."""
    rng = np.random.default_rng(3)
    w0, g = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    decayed, plain = ax.Dense(4, 3, dtype="float64"), ax.Dense(4, 3, dtype="float64")
    decayed.weight.data[...] = w0
    plain.weight.data[...] = w0 * (1 - 0.1 * 0.5)
    for layer in (decayed, plain):
        layer.weight.grad[...] = g
    ax.optim.AdamW([decayed.weight], lr=0.1, weight_decay=0.5).step()
    ax.optim.Adam([plain.weight], lr=0.1).step()
    np.testing.assert_allclose(decayed.weight.data, plain.weight.data, rtol=1e-14)
