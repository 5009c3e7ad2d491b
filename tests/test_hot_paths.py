"""The fast paths give the same numbers as the plain formulas they replace."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import axon as ax


def mlp(first=()):
    ax.set_seed(3)
    return ax.Sequential(*first, ax.Dense(6, 5, l2=0.1, l1=0.01), ax.LeakyReLU(0.1), ax.Dense(5, 4),
                         ax.Sigmoid(), ax.Dense(4, 3, bias=False), ax.Tanh(), ax.Dense(3, 2))


@pytest.mark.parametrize("first", [(), (ax.Dropout(0.0), ax.Identity())], ids=["dense-first", "dropout-first"])
def test_backward_without_input_grad_gives_the_same_parameter_gradients(first):
    X = np.random.default_rng(0).standard_normal((7, 6))
    y = np.random.default_rng(1).integers(0, 2, 7)
    model = mlp(first).to_dtype("float64")
    loss = ax.losses.SoftmaxCrossEntropy()
    grads = []
    for input_grad in (True, False):
        loss.forward(model.forward(X, training=True), y)
        model.zero_grad()
        out = model.backward(loss.backward(), input_grad=input_grad)
        assert (out is None) == (not input_grad)
        grads.append([p.grad.copy() for p in model.parameters()])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)


def test_backward_params_accumulates_like_backward():
    layer = ax.Dense(4, 3, dtype="float64")
    x = np.random.default_rng(0).standard_normal((5, 4))
    g = np.random.default_rng(1).standard_normal((5, 3))
    layer.forward(x)
    layer.backward_params(g)
    layer.backward_params(g)  # a second call adds
    np.testing.assert_allclose(layer.weight.grad, 2 * x.T @ g)
    np.testing.assert_allclose(layer.bias.grad, 2 * g.sum(axis=0))


def test_accumulate_matmul_writes_then_adds():
    p = ax.Parameter(np.zeros((2, 2), dtype=np.float32))
    a = np.arange(4, dtype=np.float32).reshape(2, 2)
    p.accumulate_matmul(a, a)
    np.testing.assert_array_equal(p.grad, a @ a)
    p.accumulate_matmul(a.T, a)
    np.testing.assert_array_equal(p.grad, a @ a + a.T @ a)
    p.zero_grad()
    np.testing.assert_array_equal(p.grad, 0)
    assert p.grad.dtype == np.float32


@pytest.mark.parametrize("alpha", [0.0, 0.01, 0.3, 1.0, 2.5])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_leaky_relu_matches_its_definition(alpha, dtype):
    z = np.random.default_rng(0).standard_normal((6, 9)).astype(dtype)
    z[0, :3] = 0
    g = np.random.default_rng(1).standard_normal((6, 9)).astype(dtype)
    layer = ax.LeakyReLU(alpha)
    y = layer.forward(z, training=True)
    dz = layer.backward(g)
    np.testing.assert_array_equal(y, np.where(z > 0, z, z * dtype(alpha)))
    np.testing.assert_allclose(dz, np.where(z > 0, g, g * dtype(alpha)), rtol=1e-6)
    assert y.dtype == dtype and dz.dtype == dtype


@pytest.mark.parametrize("layer", [ax.ReLU(), ax.Sigmoid(), ax.Tanh()], ids=["relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activation_backward_keeps_dtype_and_leaves_the_gradient_alone(layer, dtype):
    z = np.random.default_rng(0).standard_normal((4, 5)).astype(dtype)
    g = np.random.default_rng(1).standard_normal((4, 5)).astype(dtype)
    g0 = g.copy()
    y = layer.forward(z, training=True)
    dz = layer.backward(g)
    np.testing.assert_array_equal(g, g0)
    assert dz.dtype == dtype and dz is not g
    deriv = {"ReLU": (z > 0).astype(dtype), "Sigmoid": y * (1 - y), "Tanh": 1 - y * y}[type(layer).__name__]
    np.testing.assert_allclose(dz, g * deriv, rtol=1e-6)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 80), k=st.integers(1, 80), scale=st.sampled_from([1.0, 1e4]),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_log_softmax_and_softmax_match_the_plain_formula_in_float64(n, k, scale, dtype):
    from axon import functions as F
    z = (np.random.default_rng(n * 100 + k).standard_normal((n, k)) * scale).astype(dtype)
    want_max = z.max(axis=1, keepdims=True)
    shifted = (z - want_max).astype(np.float64)
    ref = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(F.log_softmax(z, axis=1), ref, rtol=tol, atol=tol)
    np.testing.assert_allclose(F.softmax(z, axis=-1), np.exp(ref), rtol=tol, atol=tol)
    assert F.log_softmax(z, axis=1).dtype == dtype


def test_zero_grad_is_lazy_but_reads_as_zero():
    p = ax.Parameter(np.ones((3, 2), dtype=np.float32))
    p.accumulate(np.full((3, 2), 2.0, dtype=np.float32))
    buffer = p._grad
    p.zero_grad()
    np.testing.assert_array_equal(p.grad, 0)          # reading clears it
    assert p.grad is buffer and p.grad.dtype == np.float32
    p.accumulate(np.full((3, 2), 3.0, dtype=np.float32))
    p.zero_grad()
    p.accumulate_matmul(np.ones((3, 1), dtype=np.float32), np.ones((1, 2), dtype=np.float32))
    np.testing.assert_array_equal(p.grad, 1)          # overwritten, not added to the stale 3s
    p.accumulate(np.ones((3, 2), dtype=np.float32))
    np.testing.assert_array_equal(p.grad, 2)          # later contributions add


def test_assigning_or_editing_grad_is_respected():
    p = ax.Parameter(np.zeros(3))
    p.grad = np.array([1.0, 2.0, 3.0])
    p.accumulate(np.ones(3))
    np.testing.assert_array_equal(p.grad, [2, 3, 4])
    p.zero_grad()
    p.grad += 5.0                                      # read (zeros), add, assign back
    p.accumulate(np.ones(3))
    np.testing.assert_array_equal(p.grad, 6)


def test_model_zero_grad_between_steps_gives_fresh_gradients():
    ax.set_seed(0)
    model = ax.Sequential(ax.Dense(4, 3), ax.ReLU(), ax.Dense(3, 2))
    X = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    loss = ax.losses.MSE()
    y = np.zeros((5, 2), dtype=np.float32)
    grads = []
    for _ in range(2):
        loss.forward(model.forward(X), y)
        model.zero_grad()
        model.backward(loss.backward(), input_grad=False)
        grads.append([p.grad.copy() for p in model.parameters()])
    for a, b in zip(*grads):
        np.testing.assert_array_equal(a, b)
