"""The course's own examples, as tests."""

from __future__ import annotations

import numpy as np

import axon as ax


def test_xor_like_net_of_the_from_scratch_article():
    """X = [[0,0,1],[0,1,1],[1,0,1],[1,1,1]], y = [0,1,1,0], a 3-4-1 sigmoid net, MSE, 1,500 steps."""
    X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=np.float32)
    y = np.array([[0], [1], [1], [0]], dtype=np.float32)
    ax.set_seed(1)
    model = ax.Sequential(ax.Dense(3, 4), ax.Sigmoid(), ax.Dense(4, 1), ax.Sigmoid())
    loss = ax.losses.MSE()
    opt = ax.optim.SGD(model.parameters(), lr=1.0)
    losses = []
    for _ in range(1500):
        losses.append(loss.forward(model.forward(X, training=True), y))
        model.zero_grad()
        model.backward(loss.backward())
        opt.step()
    final = loss.forward(model(X), y)
    assert losses[0] / final >= 4
    assert np.abs(model(X) - y).max() <= 0.2


def _piecewise_curve(n=200):
    """Hung-yi Lee's red curve: constant + a sum of hard-sigmoid pieces, on [0, 1]."""
    x = np.linspace(0, 1, n, dtype=np.float32).reshape(-1, 1)
    y = 0.2 + np.interp(x, [0, 0.25, 0.5, 0.75, 1], [0, 0.6, 0.3, 0.9, 0.5]).astype(np.float32)
    return x, y


def _fit_sum_of_sigmoids(k, x, y, seed=0, epochs=3000):
    """y = b + Σᵢ cᵢ σ(bᵢ + wᵢ x): Dense(1, k) → Sigmoid → Dense(k, 1)."""
    ax.set_seed(seed)
    # Steep rising sigmoids (wᵢ > 0) with their steps spread evenly over [0, 1].
    model = ax.Sequential(ax.Dense(1, k, init=lambda s, rng: np.abs(rng.normal(0, 20, s))),
                          ax.Sigmoid(), ax.Dense(k, 1))
    model[0].bias.data[:] = -model[0].weight.data[0] * ((np.arange(k) + 0.5) / k)
    loss = ax.losses.MSE()
    opt = ax.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(epochs):
        loss.forward(model(x), y)
        model.zero_grad()
        model.backward(loss.backward())
        opt.step()
    return loss.forward(model(x), y)


def test_sum_of_sigmoids_fits_better_with_more_sigmoids():
    x, y = _piecewise_curve()
    errors = [_fit_sum_of_sigmoids(k, x, y) for k in (1, 3, 20)]
    assert errors[0] > errors[1] > errors[2], errors
    assert errors[2] < 0.1 * errors[0], errors
