"""Sequential, Parameter naming, summary, and the explicit training loop of API.md as written."""

from __future__ import annotations

import numpy as np
import pytest

import axon as ax


def test_parameters_are_named_and_ordered():
    model = ax.Sequential(ax.Dense(4, 3), ax.ReLU(), ax.Dense(3, 3), ax.Sigmoid(), ax.Dense(3, 2))
    names = [p.name for p in model.parameters()]
    assert names == ["dense_1.weight", "dense_1.bias", "dense_2.weight", "dense_2.bias",
                     "dense_3.weight", "dense_3.bias"]
    assert [layer.name for layer in model] == ["dense_1", "relu_1", "dense_2", "sigmoid_1", "dense_3"]
    assert model[0].weight is model.named_parameters()["dense_1.weight"]


def test_user_given_names_are_kept():
    model = ax.Sequential(ax.Dense(2, 2, name="hidden"), ax.Dense(2, 1))
    assert [p.name for p in model.parameters()][:2] == ["hidden.weight", "hidden.bias"]


def test_sequential_rejects_non_layers():
    with pytest.raises(TypeError, match="item 1 is int"):
        ax.Sequential(ax.Dense(2, 2), 3)


def test_call_is_forward_and_backward_returns_input_gradient_when_asked():
    model = ax.Sequential(ax.Dense(3, 2, dtype="float64"), ax.Tanh())
    x = np.random.default_rng(0).normal(size=(4, 3))
    np.testing.assert_array_equal(model(x), model.forward(x))
    assert model.backward(np.ones((4, 2))) is None  # the explicit loop: parameter gradients only
    grads = [p.grad.copy() for p in model.parameters()]
    model.zero_grad()
    gx = model.backward(np.ones((4, 2)), input_grad=True)
    assert gx.shape == (4, 3)
    np.testing.assert_allclose(gx, (np.ones((4, 2)) * (1 - model(x) ** 2)) @ model[0].weight.data.T)
    assert all(np.array_equal(a, p.grad) for a, p in zip(grads, model.parameters()))  # the same updates


def test_zero_grad_clears_every_parameter():
    model = ax.Sequential(ax.Dense(3, 2), ax.ReLU(), ax.Dense(2, 1))
    model.forward(np.ones((2, 3), dtype=np.float32))
    model.backward(np.ones((2, 1), dtype=np.float32))
    assert any(p.grad.any() for p in model.parameters())
    model.zero_grad()
    assert not any(p.grad.any() for p in model.parameters())


def test_summary_lists_layers_shapes_and_counts():
    model = ax.Sequential(ax.Dense(64, 128), ax.ReLU(), ax.Dropout(0.2), ax.Dense(128, 10))
    text = model.summary()
    assert "dense_1 (Dense)" in text and "(n, 128)" in text and "(n, 10)" in text
    assert "8,320" in text and "1,290" in text and "Total params: 9,610" in text


def test_input_is_converted_to_the_model_dtype():
    model = ax.Sequential(ax.Dense(2, 1))
    assert model(np.ones((1, 2), dtype=np.float64)).dtype == np.float32
    assert model(np.ones((1, 2), dtype=np.uint8)).dtype == np.float32
    model.to_dtype("float64")
    assert model(np.ones((1, 2), dtype=np.float32)).dtype == np.float64


def test_set_default_dtype_float64_builds_float64_models():
    ax.set_default_dtype("float64")
    model = ax.Sequential(ax.Dense(2, 2), ax.Dense(2, 1))
    assert all(p.data.dtype == np.float64 for p in model.parameters())
    with pytest.raises(ValueError, match="float32' or 'float64"):
        ax.set_default_dtype("float16")


def test_explicit_loop_of_the_api_runs_as_written_and_learns():
    (X, y), (Xt, yt) = ax.datasets.load_digits()
    ax.set_seed(0)
    model = ax.Sequential(ax.Dense(64, 128, init="he"), ax.ReLU(), ax.Dropout(0.2), ax.Dense(128, 10))
    loss = ax.losses.SoftmaxCrossEntropy()
    opt = ax.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(10):
        for xb, yb in ax.data.batches(X, y, batch_size=32, shuffle=True, seed=0):
            out = model.forward(xb, training=True)
            value = loss.forward(out, yb)
            model.zero_grad()
            model.backward(loss.backward())
            opt.step()
    assert value < 0.5
    assert all(p.data.dtype == np.float32 for p in model.parameters())  # no silent upcast
    assert (model(Xt).argmax(axis=1) == yt).mean() >= 0.93


def test_sgd_step_is_the_course_update_rule():
    p = ax.Parameter(np.array([1.0, -2.0], dtype=np.float32))
    p.grad[:] = [0.5, 0.25]
    ax.optim.SGD([p], lr=0.1).step()  # θ ← θ − ηg
    np.testing.assert_allclose(p.data, [0.95, -2.025])
    assert p.data.dtype == np.float32
