"""Every layer: gradient checks in float64 over random shapes, PyTorch agreement, dtype, contract."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import axon as ax
from layer_table import LAYERS, TRAINING_MODE, make_input, model_for


def _output_shape(layer, in_shape):
    return layer.output_shape(tuple(in_shape))


@pytest.mark.parametrize("kind", sorted(LAYERS))
@settings(max_examples=15, deadline=None)
@given(n=st.integers(3, 6), d=st.integers(1, 6), seed=st.integers(0, 2**16))  # n >= 3: with 2, BatchNorm maps any pair to ±1
def test_gradcheck_every_layer(kind, n, d, seed):
    rng = np.random.default_rng(seed)
    ax.set_seed(seed)
    model, in_shape = model_for(kind, d)
    X = make_input(kind, (n, *in_shape), rng, np.float64)
    y = rng.normal(size=(n, 2))
    report = ax.gradcheck(model, ax.losses.MSE(), X, y, training=kind in TRAINING_MODE)
    assert report.max_rel_error <= 1e-6, str(report)


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_backward_does_not_mutate_incoming_gradient(kind):
    rng = np.random.default_rng(0)
    layer, in_shape = LAYERS[kind](4)
    layer.forward(make_input(kind, (5, *in_shape), rng, np.float32), training=True)
    g = rng.normal(size=(5, *_output_shape(layer, in_shape))).astype(np.float32)
    before = g.copy()
    gx = layer.backward(g)
    np.testing.assert_array_equal(g, before)
    assert gx is not g and gx.shape == (5, *in_shape)


@pytest.mark.parametrize("kind", sorted(LAYERS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_in_is_dtype_out(kind, dtype):
    ax.set_default_dtype(dtype)
    layer, in_shape = LAYERS[kind](4)
    x = make_input(kind, (3, *in_shape), np.random.default_rng(1), dtype)
    y = layer.forward(x, training=True)
    assert y.dtype == dtype
    gx = layer.backward(np.ones((3, *_output_shape(layer, in_shape)), dtype=dtype))
    assert gx.dtype == dtype  # (for token ids, the zeros of "no gradient" in the model's dtype)
    for p in layer.parameters():
        assert p.data.dtype == dtype and p.grad.dtype == dtype
    for value in layer.buffers().values():
        assert value.dtype == dtype


def test_the_table_covers_every_registered_layer():
    from axon.layers import LAYER_REGISTRY

    covered = {type(LAYERS[kind](2)[0]).__name__ for kind in LAYERS}
    assert set(LAYER_REGISTRY) - {"Scale"} <= covered, set(LAYER_REGISTRY) - covered  # Scale: a test's own


def test_extreme_inputs_are_finite():
    x = np.array([[-1000.0, 1000.0, 0.0]], dtype=np.float32)
    for layer, expected in ((ax.Sigmoid(), [0, 1, 0.5]), (ax.Tanh(), [-1, 1, 0])):
        y = layer.forward(x)
        np.testing.assert_allclose(y, [expected], atol=1e-7)
        g = layer.backward(np.ones_like(x))
        assert np.all(np.isfinite(g))
    big = np.array([[1e4, -1e4, 0.0]])
    y = ax.Softmax().forward(big)
    assert np.all(np.isfinite(y)) and y[0, 0] == pytest.approx(1.0)


# --- PyTorch as the reference -----------------------------------------------------------------

def _torch_activation(kind, torch):
    return {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
            "leaky_relu": lambda t: torch.nn.functional.leaky_relu(t, 0.1),
            "softmax": lambda t: torch.softmax(t, dim=-1), "identity": lambda t: t}[kind]


@pytest.mark.parametrize("kind", ["sigmoid", "tanh", "relu", "leaky_relu", "softmax", "identity"])
def test_activation_matches_pytorch(kind):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = rng.normal(size=(7, 5)) * 3
    g = rng.normal(size=(7, 5))
    layer, _ = LAYERS[kind](5)
    y = layer.forward(x)
    gx = layer.backward(g)
    xt = torch.tensor(x, requires_grad=True)
    yt = _torch_activation(kind, torch)(xt)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(gx, xt.grad.numpy(), rtol=1e-6, atol=1e-12)


def test_dense_matches_pytorch_linear():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    layer = ax.Dense(6, 4, dtype="float64")
    x, g = rng.normal(size=(5, 6)), rng.normal(size=(5, 4))
    lin = torch.nn.Linear(6, 4).double()
    with torch.no_grad():  # PyTorch stores W as (out, in): the transpose of axon's (in, out)
        lin.weight.copy_(torch.tensor(layer.weight.data.T))
        lin.bias.copy_(torch.tensor(layer.bias.data))
    xt = torch.tensor(x, requires_grad=True)
    yt = lin(xt)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(layer.forward(x), yt.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(layer.backward(g), xt.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(layer.weight.grad, lin.weight.grad.numpy().T, rtol=1e-6)
    np.testing.assert_allclose(layer.bias.grad, lin.bias.grad.numpy(), rtol=1e-6)


# --- Dense specifics -------------------------------------------------------------------------

def test_dense_backpropagation_equations():
    """BP3 ∂C/∂b = Σₙ δ, BP4 ∂C/∂W = aᵀδ, and ∂C/∂a = δWᵀ, exactly."""
    rng = np.random.default_rng(4)
    layer = ax.Dense(3, 2, dtype="float64")
    a, delta = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    layer.forward(a)
    grad_a = layer.backward(delta)
    np.testing.assert_array_equal(layer.weight.grad, a.T @ delta)
    np.testing.assert_array_equal(layer.bias.grad, delta.sum(axis=0))
    np.testing.assert_array_equal(grad_a, delta @ layer.weight.data.T)


def test_dense_gradients_accumulate_until_zero_grad():
    layer = ax.Dense(2, 2, dtype="float64")
    x, g = np.ones((1, 2)), np.ones((1, 2))
    layer.forward(x)
    layer.backward(g)
    once = layer.weight.grad.copy()
    layer.backward(g)
    np.testing.assert_allclose(layer.weight.grad, 2 * once)
    layer.zero_grad()
    assert not layer.weight.grad.any()


def test_dense_penalty_value_and_gradient():
    layer = ax.Dense(3, 2, l1=0.3, l2=0.5, dtype="float64")
    W = layer.weight.data
    assert layer.penalty() == pytest.approx(0.25 * (W**2).sum() + 0.3 * np.abs(W).sum())
    layer.forward(np.zeros((1, 3)))
    layer.backward(np.zeros((1, 2)))
    np.testing.assert_allclose(layer.weight.grad, 0.5 * W + 0.3 * np.sign(W))


@pytest.mark.parametrize("init,std", [("he", lambda i, o: np.sqrt(2 / i)),
                                      ("lecun", lambda i, o: np.sqrt(1 / i)),
                                      ("xavier", lambda i, o: np.sqrt(2 / (i + o))),
                                      ("normal", lambda i, o: 0.01)])
def test_initializer_scale(init, std):
    layer = ax.Dense(400, 300, init=init, seed=np.random.default_rng(0))
    assert layer.weight.data.std() == pytest.approx(std(400, 300), rel=0.05)
    assert not layer.bias.data.any()


def test_initializers_zeros_uniform_and_callable():
    assert not ax.Dense(3, 2, init="zeros").weight.data.any()
    assert np.abs(ax.Dense(30, 20, init="uniform").weight.data).max() <= 0.05
    layer = ax.Dense(3, 2, init=lambda shape, rng: np.full(shape, 0.5))
    np.testing.assert_array_equal(layer.weight.data, np.full((3, 2), 0.5, dtype=np.float32))
    with pytest.raises(ValueError, match="unknown init"):
        ax.Dense(3, 2, init="glorious")
    with pytest.raises(ValueError, match="expected"):
        ax.Dense(3, 2, init=lambda shape, rng: np.zeros(5))


def test_same_seed_same_weights():
    ax.set_seed(7)
    a = ax.Dense(5, 5).weight.data.copy()
    ax.set_seed(7)
    np.testing.assert_array_equal(a, ax.Dense(5, 5).weight.data)


@pytest.mark.parametrize("bad", [dict(in_features=0, out_features=2), dict(in_features=2, out_features=-1),
                                 dict(in_features=2.5, out_features=2), dict(in_features=2, out_features=2, l2=-1)])
def test_dense_rejects_bad_arguments(bad):
    with pytest.raises((TypeError, ValueError)):  # TypeError for in_features=2.5
        ax.Dense(**bad)


def test_dense_rejects_wrong_input_width():
    with pytest.raises(ValueError, match=r"expects input of shape \(n, 3\)"):
        ax.Dense(3, 2).forward(np.zeros((4, 5), dtype=np.float32))


# --- Dropout -----------------------------------------------------------------------------------

def test_dropout_same_seed_same_mask():
    x = np.ones((50, 40), dtype=np.float32)
    a = ax.Dropout(0.5, seed=np.random.default_rng(3)).forward(x, training=True)
    b = ax.Dropout(0.5, seed=np.random.default_rng(3)).forward(x, training=True)
    np.testing.assert_array_equal(a, b)


def test_dropout_is_inverted_and_identity_at_inference():
    x = np.ones((400, 500), dtype=np.float32)
    layer = ax.Dropout(0.3, seed=np.random.default_rng(0))
    y = layer.forward(x, training=True)
    assert y.mean() == pytest.approx(1.0, abs=0.01)          # expected value kept
    assert (y == 0).mean() == pytest.approx(0.3, abs=0.01)    # the right fraction dropped
    np.testing.assert_allclose(y[y != 0], 1 / 0.7, rtol=1e-6)
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), y)  # the same mask in backward
    assert layer.forward(x, training=False) is x


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5, "0.5"])
def test_dropout_rejects_bad_probability(p):
    with pytest.raises(ValueError, match="Dropout p"):
        ax.Dropout(p)


# --- A user-defined layer, as in the Layer docstring -----------------------------------------------

class Scale(ax.Layer):
    """y = x * s, one learned scale per feature."""

    def __init__(self, n):
        super().__init__()
        self.s = self.add_parameter("s", np.ones(n, dtype=ax.get_default_dtype()))

    def forward(self, x, training=False):
        self.x = x
        return x * self.s.data

    def backward(self, grad_y):
        self.s.accumulate((grad_y * self.x).sum(axis=0))
        return grad_y * self.s.data


def test_user_defined_layer_is_gradient_checked_and_named():
    rng = np.random.default_rng(5)
    model = ax.Sequential(Scale(3), ax.Dense(3, 1))
    assert [p.name for p in model.parameters()] == ["scale_1.s", "dense_1.weight", "dense_1.bias"]
    report = ax.gradcheck(model, ax.losses.MSE(), rng.normal(size=(6, 3)), rng.normal(size=(6, 1)))
    assert report.ok, str(report)
