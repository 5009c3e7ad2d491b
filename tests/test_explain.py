"""ax.trace: the course's δ per layer, BP3/BP4 exactly, nothing in the model changed; GradientStats."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import axon as ax
from axon.callbacks import GradientStats
from axon.explain import Trace, TraceRecord


def _net(dtype="float64", seed=0, dropout=0.0):
    rng = np.random.default_rng(seed)
    layers = [ax.Dense(5, 7, seed=rng, dtype=dtype), ax.Sigmoid(), ax.Dense(7, 6, seed=rng, dtype=dtype),
              ax.ReLU(), ax.Dense(6, 4, seed=rng, dtype=dtype), ax.Tanh()]
    if dropout:
        layers.append(ax.Dropout(dropout, seed=np.random.default_rng(seed + 1)))
    layers.append(ax.Dense(4, 3, seed=rng, dtype=dtype))
    return ax.Sequential(*layers)


def _data(n=9, seed=1, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 5)).astype(dtype), rng.integers(0, 3, size=n)


def test_records_one_per_layer_in_order_with_shapes():
    model = _net()
    X, y = _data()
    t = ax.trace(model, ax.losses.SoftmaxCrossEntropy(), X, y)
    assert isinstance(t, Trace) and len(t) == len(model.layers)
    assert [r.name for r in t] == [layer.name for layer in model.layers]
    assert all(isinstance(r, TraceRecord) for r in t)
    assert t[0] is t["dense_1"] and t[-1].layer is model.layers[-1]
    for r in t:
        assert r.grad_output.shape == r.output.shape and r.grad_input.shape == r.input.shape
    # each layer's output is the next one's input, and its grad_input the previous one's grad_output
    for a, b in zip(t.records, t.records[1:]):
        np.testing.assert_array_equal(a.output, b.input)
        np.testing.assert_array_equal(a.grad_output, b.grad_input)
    assert set(t["dense_1"].param_grads) == {"weight", "bias"} and t["sigmoid_1"].param_grads == {}
    with pytest.raises(KeyError, match="dense_1"):
        t["nope"]


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 12), seed=st.integers(0, 1000))
def test_bp3_bp4_hold_exactly_in_float64(n, seed):
    model = _net(seed=seed)
    X, y = _data(n, seed + 1)
    t = ax.trace(model, ax.losses.SoftmaxCrossEntropy(), X, y)
    for r in t:
        if r.kind != "Dense":
            continue
        delta = r.grad_output
        np.testing.assert_allclose(r.param_grads["bias"], delta.sum(axis=0), rtol=0, atol=1e-10)      # BP3
        np.testing.assert_allclose(r.param_grads["weight"], r.input.T @ delta, rtol=0, atol=1e-10)    # BP4
        np.testing.assert_allclose(r.grad_input, delta @ r.layer.weight.data.T, rtol=0, atol=1e-10)   # BP2
    # BP1 for the output layer with the fused softmax cross-entropy: δᴸ = (a − y)/n
    a = ax.functions.softmax(t[-1].output)
    onehot = np.eye(3)[y]
    np.testing.assert_allclose(t[-1].grad_output, (a - onehot) / n, atol=1e-12)
    # BP2 through an activation: δˡ = (δˡ⁺¹·Wᵀ) ⊙ σ′(zˡ)
    z1 = t["dense_1"].output
    np.testing.assert_allclose(t["dense_1"].grad_output, t["sigmoid_1"].grad_output * ax.functions.sigmoid_prime(z1),
                               atol=1e-12)


def test_param_grads_match_a_plain_backward_pass():
    model = _net()
    X, y = _data()
    loss = ax.losses.SoftmaxCrossEntropy()
    t = ax.trace(model, loss, X, y)
    model.zero_grad()
    loss.forward(model.forward(X), y)
    model.backward(loss.backward())
    for layer in model.layers:
        for k, p in layer.named_parameters().items():
            np.testing.assert_array_equal(t[layer.name].param_grads[k], p.grad)
    assert t.loss == pytest.approx(loss.forward(model.forward(X), y))


def test_trace_changes_no_parameter_grad_or_optimizer_state():
    model = _net(dropout=0.3)
    X, y = _data()
    loss = ax.losses.SoftmaxCrossEntropy()
    opt = ax.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    # a real step first, so there is momentum state and non-zero accumulated gradients
    model.zero_grad()
    loss.forward(model.forward(X, training=True), y)
    model.backward(loss.backward())
    opt.step()
    before = [(p.data.copy(), p.grad.copy(), p._fresh) for p in model.parameters()]
    opt_before = opt.state_dict() if hasattr(opt, "state_dict") else None
    velocity = [s["velocity"].copy() for s in opt.state]
    rng_state = model.layers[-2].rng.bit_generator.state
    for training in (False, True):
        ax.trace(model, loss, X, y, training=training)
    for p, (data, grad, fresh) in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.data, data)
        np.testing.assert_array_equal(p.grad, grad)
        assert p._fresh == fresh
    for s, v in zip(opt.state, velocity):
        np.testing.assert_array_equal(s["velocity"], v)
    if opt_before is not None:
        assert opt.state_dict().keys() == opt_before.keys()
    assert model.layers[-2].rng.bit_generator.state == rng_state
    # and the next accumulate after a zero_grad still behaves as a fresh start
    model.zero_grad()
    assert all(p._fresh for p in model.parameters())


def test_trace_keeps_a_fresh_grad_fresh():
    model = _net()
    model.zero_grad()
    X, y = _data()
    ax.trace(model, "cross_entropy", X, y)
    assert all(p._fresh and not p.grad.any() for p in model.parameters())


def test_float32_model_gives_float32_records():
    ax.set_default_dtype("float32")
    model = _net(dtype="float32")
    X, y = _data(dtype=np.float64)
    t = ax.trace(model, ax.losses.SoftmaxCrossEntropy(), X, y)
    assert all(r.output.dtype == np.float32 and r.grad_output.dtype == np.float32 for r in t)


def test_saturation_and_dead_relu_fractions():
    # weights chosen so the outcome is known: sigmoid units pushed far out, half the ReLUs never fire
    d1 = ax.Dense(2, 4, dtype="float64")
    d1.weight.data[:] = [[50, -50, 0.0, 0.0], [0, 0, 0, 0]]
    d1.bias.data[:] = 0
    d2 = ax.Dense(4, 4, dtype="float64")
    d2.weight.data[:] = 0
    d2.bias.data[:] = [1.0, 1.0, -1.0, -1.0]
    model = ax.Sequential(d1, ax.Sigmoid(), d2, ax.ReLU(), ax.Dense(4, 1, dtype="float64"), ax.Tanh())
    X = np.array([[1.0, 0.0], [2.0, 1.0], [0.5, 3.0]])
    t = ax.trace(model, ax.losses.MSE(), X, np.zeros((3, 1)))
    assert t["sigmoid_1"].saturated_fraction == pytest.approx(0.5)   # units 1, 2 at 0 or 1; 3, 4 at 0.5
    assert t["relu_1"].dead_fraction == pytest.approx(0.5)           # units 3, 4 output 0 for every sample
    assert t["tanh_1"].saturated_fraction is not None
    assert t["dense_1"].saturated_fraction is None and t["dense_1"].dead_fraction is None
    text = str(t)
    for word in ("dense_1", "‖δ‖", "‖∂C/∂W‖", "saturated", "dead", "50.0%", "(n, 2) → (n, 4)"):
        assert word in text


def test_trace_applies_the_preprocessor_and_uses_model_loss():
    class Shift:
        def transform(self, X):
            return X - 100.0

    model = _net()
    model.loss = ax.losses.SoftmaxCrossEntropy()
    X, y = _data()
    model.preprocessor = Shift()
    t = ax.trace(model, None, X + 100.0, y)
    np.testing.assert_allclose(t[0].input, X)


@pytest.mark.parametrize("X, y, exc, word", [
    (np.full((3, 5), np.nan), np.zeros(3, int), ValueError, "NaN"),
    (np.zeros((3, 5)), np.zeros(4, int), ValueError, "samples"),
    (np.zeros(5), np.zeros(1, int), ValueError, "shape"),
    (np.array([["a"] * 5]), np.zeros(1, int), TypeError, "numbers"),
    (np.zeros((3, 4)), np.zeros(3, int), ValueError, "features"),
    (np.zeros((3, 5)), np.array([0, 1, 7]), ValueError, "label"),
])
def test_bad_inputs_raise_clear_errors(X, y, exc, word):
    with pytest.raises(exc, match=word):
        ax.trace(_net(), ax.losses.SoftmaxCrossEntropy(), X, y)


def test_missing_loss_is_a_clear_error():
    with pytest.raises(ValueError, match="loss"):
        ax.trace(_net(), None, *_data())


def test_gradient_stats_measures_layer_norms_per_epoch():
    model = _net()
    X, y = _data(32)
    loss = ax.losses.SoftmaxCrossEntropy()
    opt = ax.optim.SGD(model.parameters(), lr=0.1)
    cb = GradientStats()
    cb.set_model(model)
    cb.on_train_begin()
    history: dict[str, list[float]] = {}
    expected = {}
    for epoch in range(2):
        cb.on_epoch_begin(epoch, {})
        norms = []
        for b, (xb, yb) in enumerate(ax.data.batches(X, y, batch_size=8, seed=epoch)):
            model.zero_grad()
            loss.forward(model.forward(xb, training=True), yb)
            model.backward(loss.backward())
            norms.append(np.linalg.norm(model.layers[0].weight.grad))
            cb.on_batch_end(b, {})
            opt.step()
        logs: dict[str, float] = {}
        cb.on_epoch_end(epoch, logs)
        for k, v in logs.items():
            history.setdefault(k, []).append(v)
        expected.setdefault("dense_1", []).append(float(np.mean(norms)))
    assert set(history) == {"grad_norm/dense_1", "grad_norm/dense_2", "grad_norm/dense_3", "grad_norm/dense_4"}
    np.testing.assert_allclose(history["grad_norm/dense_1"], expected["dense_1"], rtol=1e-12)
    assert all(len(v) == 2 for v in history.values())


def test_gradient_stats_in_fit_writes_history_and_is_exposed_in_callbacks():
    assert ax.callbacks.GradientStats is GradientStats
    rng = np.random.default_rng(0)
    model = ax.Sequential(ax.Dense(5, 8, seed=rng), ax.Sigmoid(), ax.Dense(8, 3, seed=rng))
    model.compile(loss="cross_entropy", optimizer=ax.optim.SGD(lr=0.1))
    X, y = _data(40)
    history = model.fit(X, y, epochs=3, batch_size=16, callbacks=[GradientStats()], verbose=0, seed=0)
    for name in ("dense_1", "dense_2"):
        values = history.history[f"grad_norm/{name}"]
        assert len(values) == 3 and all(v > 0 for v in values)
    assert "grad_norm/sigmoid_1" not in history.history


def test_gradient_stats_state_round_trip():
    cb = GradientStats()
    cb._sums, cb._count = {"dense_1": 3.0}, 2
    other = GradientStats()
    other.load_state_dict(cb.state_dict())
    logs: dict[str, float] = {}
    other.on_epoch_end(0, logs)
    assert logs == {"grad_norm/dense_1": 1.5}


def test_training_mode_trace_restores_batchnorm_statistics_and_works_for_conv():
    rng = np.random.default_rng(0)
    model = ax.Sequential(ax.Conv2D(1, 2, 3, padding=1), ax.BatchNorm2d(2), ax.ReLU(), ax.Flatten(),
                          ax.Dense(2 * 4 * 4, 3, seed=rng))
    X = rng.normal(size=(6, 1, 4, 4)).astype(np.float32)
    y = rng.integers(0, 3, size=6)
    bn = model.layers[1]
    before = {k: v.copy() for k, v in bn.buffers().items()}
    t = ax.trace(model, "cross_entropy", X, y, training=True)
    for k, v in bn.buffers().items():
        np.testing.assert_array_equal(v, before[k])
    assert t["conv2d_1"].param_grads["weight"].shape == model.layers[0].weight.shape
    assert t["conv2d_1"].grad_input.shape == X.shape
    assert 0 <= t["relu_1"].dead_fraction <= 1
