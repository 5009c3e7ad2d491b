"""Standardizer: z = (x − mean)/scale per feature, dtype kept, inverse, errors, agreement with scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import axon as ax
from axon.preprocessing import PREPROCESSOR_REGISTRY, Standardizer


def test_worked_example():
    X = np.array([[1.0, 10.0, 5.0], [3.0, 10.0, 7.0], [5.0, 10.0, 9.0]])
    s = Standardizer().fit(X)
    # column 0: mean 3, population std sqrt(8/3); column 1 constant: scale 1; column 2: mean 7
    np.testing.assert_allclose(s.mean_, [3.0, 10.0, 7.0])
    np.testing.assert_allclose(s.scale_, [np.sqrt(8 / 3), 1.0, np.sqrt(8 / 3)])
    z = s.transform(X)
    np.testing.assert_allclose(z[:, 0], [-np.sqrt(1.5), 0.0, np.sqrt(1.5)])
    assert np.array_equal(z[:, 1], [0.0, 0.0, 0.0])  # a constant feature maps to 0, not NaN


@settings(max_examples=40, deadline=None)
@given(X=hnp.arrays(np.float64, st.tuples(st.integers(2, 20), st.integers(1, 5)),
                    elements=st.floats(-1e3, 1e3)))
def test_standardised_features_have_zero_mean_unit_std_and_invert(X):
    s = Standardizer().fit(X)
    z = s.transform(X)
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-9)
    std = z.std(axis=0)
    constant = X.std(axis=0) == 0
    np.testing.assert_allclose(std[~constant & (X.std(axis=0) > 1e-6)], 1, rtol=1e-6)
    np.testing.assert_allclose(s.inverse_transform(z), X, rtol=1e-9, atol=1e-9)


def test_matches_scikit_learn():
    sklearn = pytest.importorskip("sklearn.preprocessing")
    X = np.random.default_rng(0).normal(3, 2, size=(50, 6))
    X[:, 2] = 4.0
    ours, theirs = Standardizer().fit(X), sklearn.StandardScaler().fit(X)
    np.testing.assert_allclose(ours.mean_, theirs.mean_)
    np.testing.assert_allclose(ours.scale_, theirs.scale_)
    np.testing.assert_allclose(ours.transform(X), theirs.transform(X), atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(dtype):
    X = np.random.default_rng(1).normal(size=(10, 3)).astype(dtype)
    s = Standardizer().fit(X)
    assert s.mean_.dtype == np.float64  # statistics in float64
    assert s.transform(X).dtype == dtype
    assert s.inverse_transform(s.transform(X)).dtype == dtype


def test_integer_input_becomes_default_dtype():
    s = Standardizer().fit(np.array([[1, 2], [3, 4]]))
    assert s.transform(np.array([[1, 2]])).dtype == np.float32
    ax.set_default_dtype("float64")
    assert s.transform(np.array([[1, 2]])).dtype == np.float64


def test_images_are_standardised_per_pixel():
    X = np.random.default_rng(2).normal(size=(8, 1, 4, 4)).astype(np.float32)
    s = Standardizer().fit(X)
    assert s.mean_.shape == (1, 4, 4) and s.n_features_in_ == 16
    assert s.transform(X).shape == X.shape


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="not fitted"):
        Standardizer().transform(np.ones((2, 2)))
    with pytest.raises(ValueError, match="NaN"):
        Standardizer().fit(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="n_samples"):
        Standardizer().fit(np.ones((0, 3)))
    with pytest.raises(ValueError, match="n_samples"):
        Standardizer().fit(np.ones(3))
    with pytest.raises(TypeError, match="numeric"):
        Standardizer().fit(np.array([["a", "b"]]))
    s = Standardizer().fit(np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"shape \(3,\).*\(2,\)"):
        s.transform(np.ones((3, 3)))


def test_arrays_round_trip_and_are_validated():
    s = Standardizer().fit(np.random.default_rng(3).normal(size=(5, 3)))
    assert s.get_config() == {}
    t = Standardizer.from_arrays(s.get_arrays(), s.get_config())
    assert np.array_equal(t.mean_, s.mean_) and np.array_equal(t.scale_, s.scale_)
    assert PREPROCESSOR_REGISTRY["Standardizer"] is Standardizer
    good = s.get_arrays()
    for bad in ({"mean": good["mean"]},
                {**good, "extra": good["mean"]},
                {"mean": good["mean"], "scale": np.zeros(3)},
                {"mean": good["mean"], "scale": -np.ones(3)},
                {"mean": np.full(3, np.nan), "scale": good["scale"]},
                {"mean": good["mean"], "scale": np.ones(4)},
                {"mean": good["mean"].astype(np.int64), "scale": good["scale"]}):
        with pytest.raises(ValueError):
            Standardizer.from_arrays(bad)


def test_saved_with_the_model(tmp_path):
    X = np.random.default_rng(4).normal(5, 3, size=(20, 4)).astype(np.float32)
    model = ax.Sequential(ax.Dense(4, 2))
    model.preprocessor = Standardizer().fit(X)
    ax.save(model, tmp_path / "m.axon")
    loaded = ax.load(tmp_path / "m.axon")
    assert isinstance(loaded.preprocessor, Standardizer)
    assert np.array_equal(loaded.preprocessor.transform(X), model.preprocessor.transform(X))
