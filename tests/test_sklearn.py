"""The scikit-learn estimators: scikit-learn's own checks, labels of any type, multi-output
regression, reproducibility, partial_fit, early stopping, Pipeline and GridSearchCV."""

from __future__ import annotations

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import axon as ax  # noqa: E402
from axon.sklearn import AxonClassifier, AxonRegressor  # noqa: E402


def _blobs(n=120, seed=0):
    """Three well-separated Gaussian blobs in 2-D with string labels."""
    rng = np.random.default_rng(seed)
    centers = np.array([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])
    idx = rng.integers(0, 3, n)
    X = centers[idx] + 0.5 * rng.standard_normal((n, 2))
    return X, np.array(["cat", "dog", "eel"])[idx]


def _float32_rounding(estimator):
    """float32 matrix products round differently for different batch sizes on some CPUs.

    OpenBLAS's sgemm kernels on an AMD EPYC give row results that differ by ~1e-6 relative
    between a batch and its subsets (measured: up to 9.5e-7 for a 30x10 @ 10x16 product), and
    check_methods_subset_invariance allows 1e-7. On other CPUs it passes: hence not strict.
    The float64 instances below run this check strictly.
    """
    if estimator.dtype == "float64":
        return {}
    return {"check_methods_subset_invariance": "float32 BLAS rounds per batch size (~1e-6 > 1e-7)"}


# The checks use the parameters of the instances given here: small networks and a larger
# learning rate, so that each check's fit takes milliseconds and still learns its easy problems.
# float32 is the default dtype; float64 instances with wider layers run every check strictly.
@parametrize_with_checks([
    AxonClassifier(hidden_layer_sizes=(16,), epochs=40, lr=1e-2, batch_size=16),
    AxonRegressor(hidden_layer_sizes=(16,), epochs=40, lr=1e-2, batch_size=16),
    AxonClassifier(hidden_layer_sizes=(64,), epochs=30, lr=1e-2, dtype="float64"),
    AxonRegressor(hidden_layer_sizes=(64, 32), epochs=30, lr=1e-2, dtype="float64"),
], expected_failed_checks=_float32_rounding, xfail_strict=False)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_float32_predictions_of_subsets_equal_the_batch_to_float32_rounding():
    """What check_methods_subset_invariance asks, at float32's tolerance (the check's 1e-7 is float64's)."""
    X, y = _blobs(60)
    clf = AxonClassifier(hidden_layer_sizes=(16,), epochs=5, random_state=0).fit(X, y)
    reg = AxonRegressor(hidden_layer_sizes=(16,), epochs=5, random_state=0).fit(X, (y == "cat") * 10.0)
    for method in (clf.predict_proba, reg.predict):
        whole = method(X)
        parts = np.concatenate([method(X[:1]), method(X[1:23]), method(X[23:])])
        np.testing.assert_allclose(parts, whole, rtol=1e-5, atol=1e-5)
    assert reg.model_.dtype == np.float32


def test_float64_predict_of_one_row_equals_the_batch():
    X, y = _blobs(50)
    reg = AxonRegressor(hidden_layer_sizes=(100,), epochs=3, dtype="float64", random_state=0)
    reg.fit(X, (y == "cat") * 10.0)
    assert reg.model_.dtype == np.float64
    np.testing.assert_allclose(reg.predict(X[3:4]), reg.predict(X)[3:4], rtol=1e-12)


def test_string_labels_round_trip_and_learn():
    X, y = _blobs()
    clf = AxonClassifier(hidden_layer_sizes=(8,), epochs=60, lr=1e-2, random_state=0).fit(X, y)
    assert list(clf.classes_) == ["cat", "dog", "eel"]
    pred = clf.predict(X)
    assert pred.dtype == y.dtype and set(pred) <= set(y)
    assert clf.score(X, y) > 0.95
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], pred)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-10)


def test_binary_labels_use_two_softmax_units():
    X, y = _blobs()
    yb = (y == "cat").astype(int) * 5 - 1        # labels -1 and 4
    clf = AxonClassifier(hidden_layer_sizes=(8,), epochs=40, lr=1e-2, random_state=1).fit(X, yb)
    np.testing.assert_array_equal(clf.classes_, [-1, 4])
    assert clf.predict_proba(X).shape == (len(X), 2)
    assert clf.score(X, yb) > 0.95


def test_model_is_an_axon_network_whose_softmax_is_predict_proba():
    X, y = _blobs(60)
    clf = AxonClassifier(hidden_layer_sizes=(8, 4), activation="tanh", dropout=0.1, epochs=3,
                         random_state=0).fit(X, y)
    assert isinstance(clf.model_, ax.Sequential)
    types = [type(layer).__name__ for layer in clf.model_]
    assert types == ["Dense", "Tanh", "Dropout", "Dense", "Tanh", "Dropout", "Dense"]
    assert isinstance(clf.model_.loss, ax.losses.SoftmaxCrossEntropy)
    logits = clf.model_.forward(X.astype(np.float32))
    np.testing.assert_allclose(clf.predict_proba(X), ax.functions.softmax(logits.astype(np.float64)),
                               atol=1e-12)
    assert len(clf.loss_curve_) == clf.n_iter_ == 3


def test_multi_output_regression():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    Y = np.column_stack([X @ [1.0, -2.0, 0.5], np.sin(X[:, 0]) + X[:, 1]])
    reg = AxonRegressor(hidden_layer_sizes=(32,), epochs=80, lr=1e-2, random_state=0).fit(X, Y)
    assert reg.n_outputs_ == 2
    pred = reg.predict(X)
    assert pred.shape == (200, 2)
    assert reg.score(X, Y) > 0.9
    one = AxonRegressor(hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, Y[:, 0])
    assert one.predict(X).shape == (200,)


def test_random_state_makes_fit_reproducible():
    X, y = _blobs(80)
    params = dict(hidden_layer_sizes=(8,), epochs=5, dropout=0.2, early_stopping=True,
                  n_iter_no_change=2)
    a = AxonClassifier(random_state=3, **params).fit(X, y).predict_proba(X)
    b = AxonClassifier(random_state=3, **params).fit(X, y).predict_proba(X)
    c = AxonClassifier(random_state=4, **params).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_partial_fit_continues_training():
    X, y = _blobs()
    clf = AxonClassifier(hidden_layer_sizes=(8,), lr=1e-2, random_state=0)
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[:60], y[:60], classes=["cat", "dog", "eel"])
    w = clf.model_.parameters()[0].data.copy()
    for _ in range(20):
        clf.partial_fit(X, y)
    assert clf.n_iter_ == 21
    assert not np.array_equal(w, clf.model_.parameters()[0].data)   # the same network, trained on
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert clf.score(X, y) > 0.9
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X[:3], np.array(["cat", "fox", "eel"]))


def test_early_stopping_stops_and_restores_best_weights():
    X, y = _blobs(200)
    X = X + 2.0 * np.random.default_rng(1).standard_normal(X.shape)   # overlapping: it overfits
    params = dict(hidden_layer_sizes=(64,), lr=5e-2, early_stopping=True, tol=0.0, random_state=0)
    clf = AxonClassifier(epochs=500, n_iter_no_change=3, **params).fit(X, y)
    assert clf.n_iter_ < 500
    assert len(clf.validation_loss_curve_) == clf.n_iter_
    best_epoch = int(np.argmin(clf.validation_loss_curve_))
    assert clf.best_validation_loss_ == clf.validation_loss_curve_[best_epoch]
    assert best_epoch == clf.n_iter_ - 1 - 3                         # patience of 3 epochs
    # The kept weights are those after the best epoch: a run stopped right there has the same.
    short = AxonClassifier(epochs=best_epoch + 1, n_iter_no_change=100, **params).fit(X, y)
    for p, q in zip(clf.model_.parameters(), short.model_.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_clone_and_params():
    clf = AxonClassifier(hidden_layer_sizes=(7,), lr=0.5, random_state=2)
    X, y = _blobs(30)
    clf.fit(X, y)
    fresh = clone(clf)
    assert fresh.get_params() == clf.get_params()
    assert not hasattr(fresh, "model_")
    with pytest.raises(NotFittedError):
        fresh.predict(X)
    fresh.set_params(epochs=1, hidden_layer_sizes=())
    fresh.fit(X, y)
    assert [type(layer).__name__ for layer in fresh.model_] == ["Dense"]   # () is logistic regression


@pytest.mark.parametrize(("param", "value"), [
    ("lr", -1.0), ("epochs", 0), ("batch_size", 2.5), ("dropout", 1.0), ("activation", "swish"),
    ("optimizer", "nadam"), ("hidden_layer_sizes", (10, 0)), ("validation_fraction", 1.0),
    ("dtype", "float16"),
])
def test_bad_parameters_raise_value_error_naming_them(param, value):
    X, y = _blobs(20)
    clf = AxonClassifier(epochs=1).set_params(**{param: value})
    with pytest.raises(ValueError, match=param if param != "optimizer" else "optimizer"):
        clf.fit(X, y)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_is_reported():
    X, y = _blobs(40)
    reg = AxonRegressor(hidden_layer_sizes=(8,), optimizer="sgd", lr=1e3, epochs=50, random_state=0)
    with pytest.raises(ValueError, match="diverged.*lower learning rate"):
        reg.fit(X, (y == "cat") * 1e4)


def test_pipeline_in_grid_search_on_digits():
    (X, y), (Xt, yt) = ax.datasets.load_digits()
    pipe = make_pipeline(StandardScaler(), AxonClassifier(epochs=8, random_state=0))
    grid = GridSearchCV(pipe, {"axonclassifier__hidden_layer_sizes": [(16,), (64,)]}, cv=2)
    grid.fit(X[:600], y[:600])
    assert grid.best_params_["axonclassifier__hidden_layer_sizes"] in [(16,), (64,)]
    assert grid.score(Xt, yt) > 0.85


def test_grid_search_example_runs(capsys):
    import runpy
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "examples" / "sklearn_grid_search.py"
    runpy.run_path(str(path), run_name="__main__")
    out = capsys.readouterr().out
    accuracy = float(out.split("test accuracy:")[1].split()[0])
    assert accuracy > 0.9
