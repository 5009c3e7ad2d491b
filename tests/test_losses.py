"""Every loss: gradient checks in float64, PyTorch agreement, extremes, dtype, the link."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import axon as ax
from axon.losses import (
    LOSS_NAMES,
    MSE,
    BinaryCrossEntropy,
    CrossEntropyCost,
    QuadraticCost,
    SoftmaxCrossEntropy,
    get_loss,
)


def _targets(kind, rng, n, k):
    if kind in ("mse", "quadratic"):
        return rng.normal(size=(n, k))
    if kind in ("bce_logits", "bce_probs", "cec_logits", "cec_probs"):
        return rng.integers(0, 2, size=(n, k)).astype(float)
    if kind == "sce_int":
        return rng.integers(0, k, size=n)
    return np.eye(k)[rng.integers(0, k, size=n)]  # sce_onehot


LOSSES = {"mse": MSE, "quadratic": QuadraticCost, "bce_logits": BinaryCrossEntropy,
          "bce_probs": lambda: BinaryCrossEntropy(from_logits=False),
          "cec_logits": CrossEntropyCost, "cec_probs": lambda: CrossEntropyCost(from_logits=False),
          "sce_int": SoftmaxCrossEntropy, "sce_onehot": SoftmaxCrossEntropy}


@pytest.mark.parametrize("kind", sorted(LOSSES))
@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 7), k=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_gradcheck_every_loss(kind, n, k, seed):
    rng = np.random.default_rng(seed)
    if kind.startswith("sce"):
        k = max(k, 2)
    # An Identity model makes gradcheck's input gradient exactly the loss gradient; a Dense
    # model checks it through a parameter too. Probabilities come from a Sigmoid.
    tail = [ax.Sigmoid()] if kind.endswith("probs") else []
    for model in (ax.Sequential(ax.Identity(), *tail), ax.Sequential(ax.Dense(3, k), *tail)):
        width = k if isinstance(model[0], ax.Identity) else 3
        X = rng.normal(size=(n, width))
        report = ax.gradcheck(model, LOSSES[kind](), X, _targets(kind, rng, n, k))
        assert report.max_rel_error <= 1e-6, str(report)


def _torch_value(kind, out, target, torch):
    F = torch.nn.functional
    if kind == "mse":
        return F.mse_loss(out, target)
    if kind == "quadratic":  # PyTorch has no 1/(2n) Σ‖y−a‖²: build it from its parts
        return 0.5 * F.mse_loss(out, target, reduction="sum") / out.shape[0]
    if kind == "bce_logits":
        return F.binary_cross_entropy_with_logits(out, target)
    if kind == "bce_probs":
        return F.binary_cross_entropy(out, target)
    if kind == "cec_logits":  # Nielsen's cost: summed over the outputs, mean over the samples
        return torch.nn.BCEWithLogitsLoss(reduction="sum")(out, target) / out.shape[0]
    if kind == "cec_probs":
        return torch.nn.BCELoss(reduction="sum")(out, target) / out.shape[0]
    return F.cross_entropy(out, target)


@pytest.mark.parametrize("kind", sorted(LOSSES))
def test_loss_matches_pytorch(kind):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    n, k = 6, 4
    out = rng.normal(size=(n, k)) * 2
    if kind.endswith("probs"):
        out = 1 / (1 + np.exp(-out))
    target = _targets(kind, rng, n, k)
    loss = LOSSES[kind]()
    value = loss.forward(out, target)
    grad = loss.backward()
    ot = torch.tensor(out, requires_grad=True)
    tt = torch.tensor(target)
    tv = _torch_value(kind, ot, tt, torch)
    tv.backward()
    assert value == pytest.approx(tv.item(), rel=1e-6)
    np.testing.assert_allclose(grad, ot.grad.numpy(), rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("target", [np.array([0, 1]), np.eye(3)[[0, 1]]])
def test_softmax_cross_entropy_is_finite_at_extreme_logits(target):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], dtype=np.float32)
    loss = SoftmaxCrossEntropy()
    value = loss.forward(logits, target)
    grad = loss.backward()
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    assert value == pytest.approx(np.log(2) / 2, rel=1e-5)  # sample 2 splits between two classes


def test_binary_cross_entropy_is_finite_at_extremes():
    loss = BinaryCrossEntropy()
    assert np.isfinite(loss.forward(np.array([[1e4], [-1e4]]), np.array([0.0, 1.0])))
    assert np.all(np.isfinite(loss.backward()))
    probs = BinaryCrossEntropy(from_logits=False)
    value = probs.forward(np.array([[0.0], [1.0]]), np.array([1.0, 0.0]))
    assert value == pytest.approx(100.0)  # ln clamped at −100, as PyTorch
    assert np.all(np.isfinite(probs.backward()))


@pytest.mark.parametrize("kind", sorted(LOSSES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_loss_gradient_keeps_dtype(kind, dtype):
    rng = np.random.default_rng(0)
    out = rng.uniform(0.1, 0.9, size=(4, 3)).astype(dtype)
    loss = LOSSES[kind]()
    assert isinstance(loss.forward(out, _targets(kind, rng, 4, 3)), float)
    assert loss.backward().dtype == dtype


def test_link_gives_what_predict_reports():
    z = np.array([[0.0, np.log(3.0)]])
    np.testing.assert_allclose(SoftmaxCrossEntropy().link(z), [[0.25, 0.75]])
    np.testing.assert_allclose(BinaryCrossEntropy().link(np.zeros((1, 1))), [[0.5]])
    np.testing.assert_array_equal(MSE().link(z), z)


def test_worked_example_quadratic_cost():
    """C = 1/(2n) Σ‖y − a‖² with every number written out: n = 2, ‖e₁‖² = 1 + 4, ‖e₂‖² = 9."""
    a = np.array([[1.0, 2.0], [3.0, 0.0]])
    y = np.array([[0.0, 0.0], [0.0, 0.0]])
    loss = QuadraticCost()
    assert loss.forward(a, y) == pytest.approx((5 + 9) / 4)
    np.testing.assert_allclose(loss.backward(), a / 2)  # ∇ₐC = (a − y)/n
    assert MSE().forward(a, y) == pytest.approx(14 / 4)


def test_shape_and_label_errors_are_clear():
    with pytest.raises(ValueError, match="does not match"):
        MSE().forward(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
        SoftmaxCrossEntropy().forward(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="2 labels for 3 outputs"):
        SoftmaxCrossEntropy().forward(np.zeros((3, 3)), np.array([0, 1]))


def test_regression_target_of_shape_n_fits_output_n_by_1():
    assert MSE().forward(np.ones((3, 1)), np.zeros(3)) == pytest.approx(1.0)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 6), k=st.integers(1, 5), from_logits=st.booleans(), seed=st.integers(0, 2**16))
def test_cross_entropy_cost_is_k_times_binary_cross_entropy(n, k, from_logits, seed):
    """The two share every term and differ only in the divisor: n (the book) against n·k."""
    rng = np.random.default_rng(seed)
    out = rng.normal(size=(n, k)) * 3
    if not from_logits:
        out = 1 / (1 + np.exp(-out))
    y = rng.integers(0, 2, size=(n, k)).astype(float)
    book, mean = CrossEntropyCost(from_logits), BinaryCrossEntropy(from_logits)
    assert book.forward(out, y) == pytest.approx(k * mean.forward(out, y), rel=1e-12)
    np.testing.assert_allclose(book.backward(), k * mean.backward(), rtol=1e-12)
    np.testing.assert_array_equal(book.link(out), mean.link(out))


def test_worked_example_cross_entropy_cost():
    """C = −1/n Σₓ Σⱼ [yⱼ ln aⱼ + (1 − yⱼ) ln(1 − aⱼ)] with n = 2 samples, k = 2 outputs:
    sample 1 (a = 0.8, 0.4; y = 1, 0) has −ln 0.8 − ln 0.6, sample 2 (a = 0.5, 0.9; y = 0, 1)
    −ln 0.5 − ln 0.9; C is their sum over 2, and ∂C/∂z = (a − y)/2."""
    a = np.array([[0.8, 0.4], [0.5, 0.9]])
    y = np.array([[1.0, 0.0], [0.0, 1.0]])
    expected = -(np.log(0.8) + np.log(0.6) + np.log(0.5) + np.log(0.9)) / 2
    z = np.log(a / (1 - a))
    logits = CrossEntropyCost()
    assert logits.forward(z, y) == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(logits.backward(), (a - y) / 2, rtol=1e-12)
    probs = CrossEntropyCost(from_logits=False)
    assert probs.forward(a, y) == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(probs.backward() * a * (1 - a), (a - y) / 2, rtol=1e-12)  # × σ′: δ = (a − y)/n
    assert BinaryCrossEntropy().forward(z, y) == pytest.approx(expected / 2, rel=1e-12)


def test_cross_entropy_cost_is_finite_at_extremes():
    loss = CrossEntropyCost()
    assert loss.forward(np.array([[1e4, -1e4]]), np.array([[0.0, 1.0]])) == pytest.approx(2e4)
    assert np.all(np.isfinite(loss.backward()))
    probs = CrossEntropyCost(from_logits=False)
    assert probs.forward(np.array([[0.0, 1.0]]), np.array([[1.0, 0.0]])) == pytest.approx(200.0)
    assert np.all(np.isfinite(probs.backward()))


@pytest.mark.parametrize("loss", [CrossEntropyCost(), CrossEntropyCost(from_logits=False)])
def test_cross_entropy_cost_round_trips_through_a_model_file(loss, tmp_path):
    model = ax.Sequential(ax.Dense(3, 2), *([] if loss.from_logits else [ax.Sigmoid()]))
    model.compile(loss, "sgd")
    model.save(tmp_path / "m.axon")
    loaded = ax.load(tmp_path / "m.axon")
    assert type(loaded.loss) is CrossEntropyCost
    assert loaded.loss.get_config() == {"from_logits": loss.from_logits}


@pytest.mark.parametrize("cls", [ax.losses.MSE, ax.losses.BinaryCrossEntropy, ax.losses.CrossEntropyCost])
@pytest.mark.parametrize("label", [-1, 4])
def test_class_indices_outside_the_outputs_are_a_clear_error(cls, label):
    out = np.full((3, 4), 0.25)
    with pytest.raises(ValueError, match=rf"class label {label} is outside 0\.\.3 for 4 outputs"):
        cls().forward(out, np.array([0, label, 1]))


def test_cross_entropy_cost_targets_must_be_probabilities():
    model = ax.Sequential(ax.Dense(3, 2))
    model.compile(CrossEntropyCost(), ax.optim.SGD(lr=0.1))
    with pytest.raises(ValueError, match=r"\[0, 1\] for CrossEntropyCost"):
        model.fit(np.zeros((4, 3)), np.full((4, 2), 2.0), verbose=0)


NAMED = {
    MSE: ["mse", "mean_squared_error", "MSE"],
    QuadraticCost: ["quadratic", "quadratic_cost", "QuadraticCost"],
    BinaryCrossEntropy: ["bce", "binary_cross_entropy", "binary_crossentropy", "BinaryCrossEntropy"],
    CrossEntropyCost: ["cross_entropy_cost", "nielsen_cross_entropy", "CrossEntropyCost"],
    SoftmaxCrossEntropy: ["cross_entropy", "softmax_cross_entropy", "categorical_crossentropy",
                          "sparse_categorical_crossentropy", "SoftmaxCrossEntropy"],
}


@pytest.mark.parametrize("cls, name", [(cls, name) for cls, names in NAMED.items() for name in names])
def test_get_loss_by_name(cls, name):
    loss = get_loss(name)
    assert type(loss) is cls
    if isinstance(loss, BinaryCrossEntropy):
        assert loss.from_logits  # Keras' binary_crossentropy takes probabilities; axon's names take logits


def test_every_name_is_documented_and_the_table_is_complete():
    assert {name.lower() for names in NAMED.values() for name in names} == set(LOSS_NAMES)
    for name in LOSS_NAMES:
        if name not in {cls.__name__.lower() for cls in NAMED}:
            assert f'"{name}"' in get_loss.__doc__, name


def test_get_loss_unknown_name_lists_every_name():
    with pytest.raises(ValueError, match="unknown loss 'hinge'") as err:
        get_loss("hinge")
    for name in LOSS_NAMES:
        assert name in str(err.value)


@pytest.mark.parametrize("keras_name, target", [("categorical_crossentropy", "onehot"),
                                                ("sparse_categorical_crossentropy", "labels")])
def test_keras_names_train_as_softmax_cross_entropy(keras_name, target):
    rng = np.random.default_rng(0)
    X, labels = rng.normal(size=(24, 4)), rng.integers(0, 3, size=24)
    y = np.eye(3)[labels] if target == "onehot" else labels
    weights = []
    for loss in (keras_name, SoftmaxCrossEntropy()):
        model = ax.Sequential(ax.Dense(4, 3, seed=np.random.default_rng(1), dtype="float64"))
        model.compile(loss=loss, optimizer=ax.optim.SGD(lr=0.5))
        model.fit(X, y, epochs=2, batch_size=8, seed=0, verbose=0)
        weights.append(model[0].weight.data.copy())
    np.testing.assert_array_equal(weights[0], weights[1])
