"""compile / fit / evaluate / predict: the Keras-style loop does exactly the course's explicit loop,
and real models learn with it."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import axon as ax
from axon.training import History, TrainingDivergedError


@pytest.fixture(scope="module")
def digits():
    return ax.datasets.load_digits()


def _mlp(seed=0, dropout=0.0, l1=0.0, l2=0.0, dtype=None):
    ax.set_seed(seed)
    layers = [ax.Dense(64, 32, init="he", l1=l1, l2=l2, dtype=dtype), ax.ReLU()]
    if dropout:
        layers.append(ax.Dropout(dropout))
    return ax.Sequential(*layers, ax.Dense(32, 10, l2=l2, dtype=dtype))


# -- compile ---------------------------------------------------------------------------------------
def test_compile_accepts_names_instances_and_classes():
    m = _mlp()
    m.compile(loss="cross_entropy", optimizer="adam", metrics=["acc", "top_3_accuracy"])
    assert isinstance(m.loss, ax.losses.SoftmaxCrossEntropy) and isinstance(m.optimizer, ax.optim.Adam)
    assert m.optimizer.params == m.parameters()
    assert m.metrics == ["accuracy", "top_3_accuracy"]
    m.compile(loss=ax.losses.MSE, optimizer=ax.optim.SGD(m.parameters(), lr=0.3))  # bound already: kept
    assert isinstance(m.loss, ax.losses.MSE) and m.optimizer.lr == 0.3
    m.compile(loss=ax.losses.MSE())
    assert isinstance(m.optimizer, ax.optim.SGD) and m.optimizer.lr == 0.01  # the default


def test_compile_rejects_wrong_things():
    m = _mlp()
    with pytest.raises(ValueError, match="not this model's"):
        m.compile("mse", ax.optim.SGD(_mlp(1).parameters()))
    with pytest.raises(ValueError, match="unknown loss"):
        m.compile("hinge")
    with pytest.raises(ValueError, match="unknown optimizer"):
        m.compile("mse", "adamax")
    with pytest.raises(ValueError, match="unknown metric"):
        m.compile("mse", metrics=["precision"])
    with pytest.raises(TypeError, match="loss must be"):
        m.compile(3)


def test_compile_rejects_a_double_link_also_through_subclasses():
    class MySoftmax(ax.Softmax):
        pass

    class MySigmoid(ax.Sigmoid):
        pass

    class MyCrossEntropy(ax.losses.SoftmaxCrossEntropy):
        pass

    with pytest.raises(ValueError, match="ends with a Softmax layer"):
        ax.Sequential(ax.Dense(4, 3), MySoftmax()).compile(MyCrossEntropy())
    with pytest.raises(ValueError, match="ends with a Softmax layer"):
        ax.Sequential(ax.Dense(4, 3), ax.Softmax()).compile(MyCrossEntropy())
    with pytest.raises(ValueError, match="ends with a Sigmoid layer"):
        ax.Sequential(ax.Dense(4, 1), MySigmoid()).compile(ax.losses.BinaryCrossEntropy(from_logits=True))


# -- fit is the explicit loop -----------------------------------------------------------------------
def test_fit_equals_the_explicit_loop_bit_for_bit(digits):
    (X, y), _ = digits
    X, y = X[:300], y[:300]
    a, b = _mlp(l1=1e-4, l2=1e-3), _mlp(l1=1e-4, l2=1e-3)
    a.compile("cross_entropy", ax.optim.SGD(lr=0.1, momentum=0.9))
    h = a.fit(X, y, epochs=3, batch_size=32, shuffle=False, verbose=0)

    loss, opt = ax.losses.SoftmaxCrossEntropy(), ax.optim.SGD(b.parameters(), lr=0.1, momentum=0.9)
    epoch_losses = []
    for _ in range(3):
        values = []
        for xb, yb in ax.data.batches(X, y, batch_size=32, shuffle=False):
            out = b.forward(xb, training=True)
            values.append(loss.forward(out, yb) + b.penalty())
            b.zero_grad()
            b.backward(loss.backward())
            opt.step()
        epoch_losses.append(sum(values) / len(values))
    assert all(np.array_equal(p.data, q.data) for p, q in zip(a.parameters(), b.parameters()))
    # the reported loss: mean over the epoch's batches of (loss + penalties)
    assert h.history["loss"] == epoch_losses


def test_history_has_train_validation_metrics_and_lr(digits):
    (X, y), (Xt, yt) = digits
    m = _mlp()
    m.compile("cross_entropy", ax.optim.SGD(lr=0.1), metrics=["accuracy"])
    h = m.fit(X, y, epochs=3, validation_data=(Xt, yt), verbose=0)
    assert isinstance(h, History) and h.epoch == [0, 1, 2]
    assert list(h.history) == ["loss", "accuracy", "val_loss", "val_accuracy", "lr"]
    assert all(len(v) == 3 for v in h.history.values())
    assert h.history["lr"] == [0.1, 0.1, 0.1]
    assert h.history["loss"][2] < h.history["loss"][0]
    # the validation figures are evaluate's on the weights at the end of the epoch
    assert h.history["val_loss"][-1] == pytest.approx(m.evaluate(Xt, yt)["loss"], rel=1e-6)
    assert h.history["val_accuracy"][-1] == m.evaluate(Xt, yt)["accuracy"]
    assert not h.interrupted and h.params["steps"] == -(-len(X) // 32)


def test_validation_split_holds_out_the_last_fraction_without_shuffling(digits):
    (X, y), _ = digits
    X, y = X[:200], y[:200]
    m = _mlp()
    m.compile("cross_entropy", ax.optim.SGD(lr=0.1), metrics=["accuracy"])
    h = m.fit(X, y, epochs=1, validation_split=0.25, verbose=0)
    assert h.params["samples"] == 150
    assert h.history["val_loss"][0] == pytest.approx(m.evaluate(X[150:], y[150:])["loss"], rel=1e-6)
    with pytest.raises(ValueError, match="not both"):
        m.fit(X, y, validation_split=0.1, validation_data=(X, y), verbose=0)
    with pytest.raises(ValueError, match="at least one"):
        m.fit(X[:3], y[:3], validation_split=0.1, verbose=0)


def test_evaluate_adds_the_penalty_and_weights_batches_by_size(digits):
    (X, y), _ = digits
    X, y = X[:103], y[:103]
    m = _mlp(l2=0.01)
    m.compile("cross_entropy", metrics=["accuracy"])
    full = m.loss.forward(m.forward(X), y)
    r = m.evaluate(X, y, batch_size=10)  # last batch has 3 samples
    assert r["loss"] == pytest.approx(full + m.penalty(), rel=1e-6)
    assert m.penalty() > 0
    assert r["accuracy"] == np.mean(m.forward(X).argmax(1) == y)


def test_predict_applies_the_link(digits):
    (X, y), _ = digits
    m = _mlp()
    m.compile("cross_entropy")
    p = m.predict(X[:50], batch_size=16)
    assert p.shape == (50, 10) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(p, ax.functions.softmax(m.forward(X[:50]), axis=1), rtol=1e-6)
    m.compile("mse")
    np.testing.assert_array_equal(m.predict(X[:5]), m.forward(X[:5]))
    b = ax.Sequential(ax.Dense(64, 1))
    b.compile(ax.losses.BinaryCrossEntropy(from_logits=True))
    q = b.predict(X[:5])
    assert ((q > 0) & (q < 1)).all()


def test_preprocessor_is_the_first_step_of_forward_fit_evaluate_and_predict(digits):
    (X, y), _ = digits
    from axon.preprocessing import Standardizer

    X = X[:200] * 100 + 5  # badly scaled raw data
    m = _mlp()
    m.compile("cross_entropy", metrics=["accuracy"])
    network = ax.Sequential(*m.layers)  # the same layers without the preprocessor
    m.preprocessor = Standardizer().fit(X)
    Z = m.preprocessor.transform(X)
    np.testing.assert_array_equal(m.forward(X), network.forward(Z))
    np.testing.assert_allclose(m.predict(X), ax.functions.softmax(network.forward(Z), axis=1), rtol=1e-5)
    assert m.evaluate(X, y[:200])["loss"] == pytest.approx(m.loss.forward(network.forward(Z), y[:200]), rel=1e-5)
    h = m.fit(X, y[:200], epochs=2, verbose=0)
    assert np.isfinite(h.history["loss"]).all()


def test_fit_standardises_once_and_equals_training_on_standardised_data(digits):
    (X, y), (Xt, yt) = digits
    from axon.preprocessing import Standardizer

    X, y, Xt, yt = X[:300] * 100 + 5, y[:300], Xt[:100] * 100 + 5, yt[:100]
    sizes = []

    class Counting(Standardizer):
        def transform(self, X):
            sizes.append(len(X))
            return super().transform(X)

    a, b = _mlp(), _mlp()
    a.preprocessor = Counting().fit(X)
    for m in (a, b):
        m.compile("cross_entropy", ax.optim.SGD(lr=0.1, momentum=0.9), metrics=["accuracy"])
    ha = a.fit(X, y, epochs=3, batch_size=32, validation_data=(Xt, yt), seed=1, verbose=0)
    assert sizes == [300, 100]  # once per fit, the training and the validation inputs: not per batch
    Z, Zt = a.preprocessor.transform(X), a.preprocessor.transform(Xt)
    hb = b.fit(Z, y, epochs=3, batch_size=32, validation_data=(Zt, yt), seed=1, verbose=0)
    assert all(np.array_equal(p.data, q.data) for p, q in zip(a.parameters(), b.parameters()))
    assert ha.history == hb.history


def test_fit_checks_that_the_model_is_compiled_once(digits, monkeypatch):
    from axon import validation

    (X, y), _ = digits
    calls = []
    check = validation.check_compiled
    monkeypatch.setattr(validation, "check_compiled", lambda *a: calls.append(a) or check(*a))
    m = _mlp()
    m.compile("cross_entropy")
    m.fit(X[:50], y[:50], epochs=1, verbose=0)
    assert len(calls) == 1
    with pytest.raises(ValueError, match="model is not compiled"):
        _mlp().fit(X[:50], y[:50], verbose=0)


def test_float64_models_train_in_float64(digits):
    (X, y), _ = digits
    m = _mlp(dtype="float64")
    m.compile("cross_entropy", ax.optim.Adam(lr=1e-2))
    m.fit(X[:100], y[:100], epochs=2, verbose=0)
    assert all(p.data.dtype == np.float64 for p in m.parameters())
    assert m.predict(X[:3]).dtype == np.float64
    f = _mlp()
    f.compile("cross_entropy", ax.optim.Adam(lr=1e-2))
    f.fit(X[:100].astype(np.float64), y[:100], epochs=1, verbose=0)  # float64 data, float32 model
    assert all(p.data.dtype == np.float32 for p in f.parameters())


# -- reproducibility ------------------------------------------------------------------------------
def test_same_seed_gives_identical_weights_and_history(digits):
    (X, y), (Xt, yt) = digits
    runs = []
    for k in range(2):
        m = _mlp(seed=5, dropout=0.3)
        m.compile("cross_entropy", ax.optim.Adam(lr=1e-3), metrics=["accuracy"])
        ax.get_rng().random(17 * k + 1)  # whatever happened before must not matter
        h = m.fit(X, y, epochs=3, validation_data=(Xt, yt), seed=7, verbose=0)
        runs.append((h.history, [p.data.copy() for p in m.parameters()]))
    assert runs[0][0] == runs[1][0]
    assert all(np.array_equal(a, b) for a, b in zip(runs[0][1], runs[1][1]))
    m = _mlp(seed=5, dropout=0.3)
    m.compile("cross_entropy", ax.optim.Adam(lr=1e-3), metrics=["accuracy"])
    assert m.fit(X, y, epochs=3, validation_data=(Xt, yt), seed=8, verbose=0).history != runs[0][0]


def test_seed_none_follows_axon_set_seed(digits):
    (X, y), _ = digits
    out = []
    for _ in range(2):
        m = _mlp(seed=3)  # also calls ax.set_seed(3)
        m.compile("cross_entropy", ax.optim.SGD(lr=0.1))
        out.append(m.fit(X[:200], y[:200], epochs=2, verbose=0).history["loss"])
    assert out[0] == out[1]


RECIPE = """
import sys
import numpy as np
import axon as ax

ax.set_seed(0)                       # the documented recipe: first, before any layer is built
(X, y), _ = ax.datasets.load_digits()
model = ax.Sequential(ax.Dense(64, 32), ax.ReLU(), ax.Dropout(0.2), ax.Dense(32, 10))
model.compile("cross_entropy", "adam")
model.fit(X[:300], y[:300], epochs=3, validation_split=0.2, verbose=0)
np.savez(sys.argv[1], *[p.data for p in model.parameters()])
"""


def test_the_documented_recipe_makes_a_whole_script_bit_identical(tmp_path):
    import os
    import subprocess
    import sys

    script = tmp_path / "recipe.py"
    script.write_text(RECIPE)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    weights = []
    for k in range(2):
        out = tmp_path / f"w{k}.npz"
        subprocess.run([sys.executable, str(script), str(out)], check=True, env=env, timeout=120)
        with np.load(out) as f:
            weights.append([f[key] for key in sorted(f.files)])
    assert all(np.array_equal(a, b) for a, b in zip(*weights))
    assert "ax.set_seed(0)" in (Path(__file__).resolve().parents[1] / "docs" / "training.md").read_text()


def test_set_seed_reaches_dropout_layers_built_before_it():
    drop = ax.Dropout(0.5)  # no seed of its own: axon's generator, looked up at every forward pass
    x = np.ones((4, 6), np.float32)
    ax.set_seed(11)
    a = drop.forward(x, training=True)
    ax.set_seed(11)
    b = drop.forward(x, training=True)
    np.testing.assert_array_equal(a, b)
    own = ax.Dropout(0.5, seed=3)  # its own generator: set_seed leaves it alone
    ax.set_seed(11)
    c = own.forward(x, training=True)
    ax.set_seed(11)
    assert not np.array_equal(c, own.forward(x, training=True))


def test_fit_seed_gives_dropout_its_own_generator_for_the_run_only():
    X = np.random.default_rng(0).random((32, 4)).astype(np.float32)
    y = np.arange(32) % 2
    follows, own = ax.Dropout(0.5), ax.Dropout(0.5, seed=4)
    model = ax.Sequential(ax.Dense(4, 8), follows, own, ax.Dense(8, 2))
    model.compile("cross_entropy", "sgd")
    mine = own.own_rng
    model.fit(X, y, epochs=1, seed=0, verbose=0)
    assert follows.own_rng is None and own.own_rng is mine  # as they were before fit
    x = np.ones((2, 8), np.float32)
    ax.set_seed(1)
    a = follows.forward(x, training=True)
    ax.set_seed(1)
    np.testing.assert_array_equal(a, follows.forward(x, training=True))


def test_fit_seed_does_not_reseed_the_weights(digits):
    (X, y), _ = digits
    ax.set_seed(1)
    a = ax.Sequential(ax.Dense(64, 10))
    ax.set_seed(2)
    b = ax.Sequential(ax.Dense(64, 10))
    for m in (a, b):
        m.compile("cross_entropy", "sgd")
        m.fit(X[:64], y[:64], epochs=1, seed=0, verbose=0)
    assert not np.array_equal(a.parameters()[0].data, b.parameters()[0].data)


# -- divergence -----------------------------------------------------------------------------------
def test_divergence_stops_with_a_clear_error_and_finite_weights(digits):
    (X, y), _ = digits
    m = _mlp()
    m.compile("mse", ax.optim.SGD(lr=1e4))
    with pytest.raises(TrainingDivergedError) as info:
        m.fit(X[:256], np.eye(10)[y[:256]] * 1e3, epochs=5, batch_size=32, verbose=0)
    err = info.value
    assert isinstance(err, FloatingPointError) and isinstance(err, ValueError)
    msg = str(err)
    assert f"epoch {err.epoch}, batch {err.batch}" in msg and "lower learning rate" in msg and "clip_norm" in msg
    assert all(np.isfinite(p.data).all() for p in m.parameters())


def test_non_finite_weights_at_epoch_end_roll_back(digits):
    (X, y), _ = digits

    class Poison(ax.callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            if batch == 3:  # after the last batch the loss is never computed again
                self.model.parameters()[0].data[0, 0] = np.nan

    m = _mlp()
    m.compile("cross_entropy", ax.optim.SGD(lr=0.1))
    before = [p.data.copy() for p in m.parameters()]
    with pytest.raises(TrainingDivergedError, match="dense_1.weight"):
        m.fit(X[:128], y[:128], epochs=2, batch_size=32, callbacks=[Poison()], verbose=0)
    assert all(np.array_equal(a, p.data) for a, p in zip(before, m.parameters()))


# -- regularisation convention --------------------------------------------------------------------
def test_penalty_value_and_gradient_are_consistent():
    rng = np.random.default_rng(0)
    ax.set_default_dtype("float64")
    ax.set_seed(0)
    m = ax.Sequential(ax.Dense(5, 4, l1=0.03, l2=0.2), ax.Tanh(), ax.Dense(4, 3, l2=0.1))
    X, y = rng.normal(size=(6, 5)), rng.integers(0, 3, 6)
    loss = ax.losses.SoftmaxCrossEntropy()
    assert ax.gradcheck(m, loss, X, y).ok  # the numerical gradient of loss + penalty
    W1, W2 = m[0].weight.data, m[2].weight.data
    expected = 0.2 / 2 * (W1**2).sum() + 0.03 * np.abs(W1).sum() + 0.1 / 2 * (W2**2).sum()
    assert m.penalty() == pytest.approx(expected, rel=1e-12)
    # the gradient a penalty adds: l2·W + l1·sign(W), nothing on biases
    m.forward(X)
    m.zero_grad()
    m.backward(np.zeros((6, 3)))
    np.testing.assert_allclose(m[0].weight.grad, 0.2 * W1 + 0.03 * np.sign(W1), rtol=1e-12)
    np.testing.assert_allclose(m[2].weight.grad, 0.1 * W2, rtol=1e-12)
    assert not m[0].bias.grad.any()
    # fit reports it: one full batch, no shuffling, loss of epoch 1 = loss + penalty before the step
    m.compile(loss, ax.optim.SGD(lr=0.01))
    expected_loss = loss.forward(m.forward(X), y) + m.penalty()
    h = m.fit(X, y, epochs=1, batch_size=6, shuffle=False, verbose=0)
    assert h.history["loss"][0] == pytest.approx(expected_loss, rel=1e-12)


def test_l2_equals_sgd_weight_decay_in_the_update(digits):
    (X, y), _ = digits
    a, b = _mlp(l2=0.01, dtype="float64"), _mlp(dtype="float64")
    a.compile("cross_entropy", ax.optim.SGD(lr=0.1))
    b.compile("cross_entropy", ax.optim.SGD(lr=0.1, weight_decay=0.01))
    for m in (a, b):
        m.fit(X[:64], y[:64], epochs=1, batch_size=64, shuffle=False, verbose=0)
    # Dense regularises weights only; weight_decay also decays biases: compare the weights
    np.testing.assert_allclose(a[0].weight.data, b[0].weight.data, rtol=1e-10, atol=1e-12)


# -- it learns ------------------------------------------------------------------------------------
@pytest.mark.slow
def test_mlp_on_digits_reaches_975_test_accuracy(digits):
    (X, y), (Xt, yt) = digits
    accs = []
    for seed in range(3):
        ax.set_seed(seed)
        m = ax.Sequential(ax.Dense(64, 256, init="he"), ax.ReLU(), ax.Dense(256, 128, init="he"), ax.ReLU(),
                          ax.Dense(128, 10))
        m.compile("cross_entropy", ax.optim.Adam(lr=1e-3), metrics=["accuracy"])
        m.fit(X, y, epochs=40, batch_size=32, seed=seed, verbose=0)
        accs.append(m.evaluate(Xt, yt)["accuracy"])
    assert np.mean(accs) >= 0.975, accs


def test_nielsen_sigmoid_network_with_quadratic_cost_learns(digits):
    (X, y), (Xt, yt) = digits
    ax.set_seed(0)
    net = ax.Sequential(ax.Dense(64, 30), ax.Sigmoid(), ax.Dense(30, 10), ax.Sigmoid())  # [64, 30, 10]
    net.compile("quadratic", ax.optim.SGD(lr=3.0), metrics=["accuracy"])
    net.fit(X, np.eye(10)[y], epochs=30, batch_size=10, seed=0, verbose=0)
    assert net.evaluate(Xt, np.eye(10)[yt])["accuracy"] >= 0.90
    assert np.mean(net.predict(Xt).argmax(1) == yt) >= 0.90


def test_cross_entropy_cures_the_learning_slowdown_of_a_saturated_neuron():
    """Nielsen ch. 3: one sigmoid neuron, input 1, target 0, started at w = b = 2 (output 0.98)."""
    X, y = np.ones((1, 1), np.float32), np.zeros((1, 1), np.float32)

    def neuron(*rest):
        d = ax.Dense(1, 1)
        d.weight.data[:] = 2.0
        d.bias.data[:] = 2.0
        return ax.Sequential(d, *rest)

    quad = neuron(ax.Sigmoid())
    quad.compile("quadratic", ax.optim.SGD(lr=0.15))
    ce = neuron()  # the sigmoid is the loss's link
    ce.compile(ax.losses.BinaryCrossEntropy(from_logits=True), ax.optim.SGD(lr=0.15))
    hq = quad.fit(X, y, epochs=30, batch_size=1, verbose=0).history["loss"]
    hc = ce.fit(X, y, epochs=30, batch_size=1, verbose=0).history["loss"]
    assert (hq[0] - hq[9]) / hq[0] < 0.01  # stuck: σ′(4) ≈ 0.018 slows every step
    assert (hc[0] - hc[9]) / hc[0] > 0.5
    assert ce.predict(X)[0, 0] < 0.3 < 0.95 < quad.predict(X)[0, 0]


# -- memory -----------------------------------------------------------------------------------------
def test_fit_never_copies_the_training_set():
    rng = np.random.default_rng(0)
    X = rng.random((40_000, 784), dtype=np.float32)  # 125 MB
    y = rng.integers(0, 10, 40_000)
    ax.set_seed(0)
    m = ax.Sequential(ax.Dense(784, 16), ax.ReLU(), ax.Dense(16, 10))
    m.compile("cross_entropy", ax.optim.SGD(lr=0.01), metrics=["accuracy"])
    tracemalloc.start()
    try:
        m.fit(X, y, epochs=1, batch_size=512, validation_split=0.1, verbose=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # batches, the permutation, the finiteness scan's blocks: a few MB, far from one copy of X
    assert peak < 0.15 * X.nbytes, f"peak {peak / 1e6:.1f} MB for {X.nbytes / 1e6:.0f} MB of data"
