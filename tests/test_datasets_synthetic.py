"""Synthetic problems: shapes, dtypes, determinism by seed, balanced classes, the curves' formulas."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from axon.datasets import (
    hard_sigmoid,
    make_circles,
    make_curve,
    make_gaussians,
    make_moons,
    make_spirals,
    make_surface,
    make_xor,
    piecewise_linear,
)
from axon.functions import relu

CLASSIFIERS = {
    "xor": lambda n, seed, **kw: make_xor(n, seed=seed, **kw),
    "moons": lambda n, seed, **kw: make_moons(n, seed=seed, **kw),
    "spirals2": lambda n, seed, **kw: make_spirals(n, 2, seed=seed, **kw),
    "spirals3": lambda n, seed, **kw: make_spirals(n, 3, seed=seed, **kw),
    "circles": lambda n, seed, **kw: make_circles(n, seed=seed, **kw),
    "gaussians2": lambda n, seed, **kw: make_gaussians(n, 2, seed=seed, **kw),
    "gaussians3": lambda n, seed, **kw: make_gaussians(n, 3, seed=seed, **kw),
}
N_CLASSES = {"xor": 2, "moons": 2, "spirals2": 2, "spirals3": 3, "circles": 2, "gaussians2": 2, "gaussians3": 3}


@pytest.mark.parametrize("name", CLASSIFIERS)
@settings(max_examples=15, deadline=None)
@given(n=st.integers(4, 301), seed=st.integers(0, 2**31))
def test_shapes_dtypes_balance(name, n, seed):
    X, y = CLASSIFIERS[name](n, seed)
    assert X.shape == (n, 2) and X.dtype == np.float32
    assert y.shape == (n,) and y.dtype == np.int64
    counts = np.bincount(y, minlength=N_CLASSES[name])
    assert len(counts) == N_CLASSES[name] and counts.max() - counts.min() <= 1
    assert np.isfinite(X).all()


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_determinism_by_seed(name):
    X1, y1 = CLASSIFIERS[name](100, 7)
    X2, y2 = CLASSIFIERS[name](100, 7)
    X3, _ = CLASSIFIERS[name](100, 8)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    Xg, yg = CLASSIFIERS[name](100, np.random.default_rng(7))  # a Generator works as the seed too
    np.testing.assert_array_equal(Xg, X1)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_global_numpy_state_is_untouched(name):
    state = np.random.get_state()[1].copy()  # noqa: NPY002 (checking that the legacy state is unused)
    CLASSIFIERS[name](50, None)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # noqa: NPY002


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_float64_and_unshuffled(name):
    X, y = CLASSIFIERS[name](40, 0, dtype="float64", shuffle=False)
    assert X.dtype == np.float64
    # Unshuffled, the order is fixed (grouped by class; XOR by corner (0,0), (0,1), (1,0), (1,1)).
    np.testing.assert_array_equal(y, CLASSIFIERS[name](40, 1, shuffle=False)[1])
    expected = np.repeat([0, 1, 1, 0], 10) if name == "xor" else np.sort(y)
    np.testing.assert_array_equal(y, expected)


def test_xor_accepts_n_as_the_sample_count():
    X, y = make_xor(n=12, seed=0)
    np.testing.assert_array_equal(X, make_xor(12, seed=0)[0])
    assert X.shape == (12, 2) and np.bincount(y).tolist() == [6, 6]


def test_xor_table_and_bias_column():
    X, y = make_xor(table=True)
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [0, 1, 1, 0])
    Xb, yb = make_xor(table=True, bias_column=True)
    np.testing.assert_array_equal(Xb, [[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]])
    assert Xb.dtype == np.float32 and yb.dtype == np.int64


def test_xor_labels_follow_the_nearest_corner():
    X, y = make_xor(400, noise=0.1, seed=0)
    corner = np.round(X).clip(0, 1).astype(int)
    agree = np.mean((corner[:, 0] ^ corner[:, 1]) == y)
    assert agree > 0.99
    assert make_xor(8, noise=0.0, seed=1)[0].tolist() == np.round(make_xor(8, noise=0.0, seed=1)[0]).tolist()


def test_moons_without_noise_lie_on_the_half_circles():
    X, y = make_moons(50, noise=0.0, seed=0)
    outer, inner = X[y == 0].astype(np.float64), X[y == 1].astype(np.float64)
    np.testing.assert_allclose(np.hypot(outer[:, 0], outer[:, 1]), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.hypot(inner[:, 0] - 1.0, inner[:, 1] - 0.5), 1.0, atol=1e-6)
    assert (outer[:, 1] >= -1e-7).all() and (inner[:, 1] <= 0.5 + 1e-7).all()


def test_spirals_radius_and_arms():
    X, y = make_spirals(300, 3, noise=0.0, seed=0, shuffle=False)
    r = np.hypot(X[:, 0], X[:, 1])
    assert 0.04 < r.min() and r.max() <= 1.0 + 1e-6
    # Arms are rotated copies of one another: rotating arm 0 by 2π/3 gives arm 1.
    c, s = np.cos(2 * np.pi / 3), np.sin(2 * np.pi / 3)
    rotated = X[y == 0] @ np.array([[c, s], [-s, c]])
    np.testing.assert_allclose(rotated, X[y == 1], atol=1e-5)


def test_circles_without_noise_lie_on_two_radii():
    X, y = make_circles(60, noise=0.0, factor=0.3, seed=0)
    r = np.hypot(X[:, 0], X[:, 1]).astype(np.float64)
    np.testing.assert_allclose(r[y == 0], 1.0, atol=1e-6)
    np.testing.assert_allclose(r[y == 1], 0.3, atol=1e-6)


def test_gaussian_blobs_sit_around_their_centres():
    X, y = make_gaussians(3000, 2, noise=0.2, radius=2.0, seed=0, dtype="float64")
    c = 2.0 / np.sqrt(2.0)
    np.testing.assert_allclose(X[y == 0].mean(axis=0), [c, c], atol=0.03)
    np.testing.assert_allclose(X[y == 1].mean(axis=0), [-c, -c], atol=0.03)
    np.testing.assert_allclose(X[y == 0].std(axis=0), [0.2, 0.2], atol=0.02)


@pytest.mark.parametrize("kind", ["plane", "gaussians"])
def test_surfaces(kind):
    X, y = make_surface(kind, 80, seed=4)
    assert X.shape == (80, 2) and y.shape == (80, 1) and X.dtype == np.float32
    assert -1 <= X.min() and X.max() <= 1
    np.testing.assert_array_equal(y, make_surface(kind, 80, seed=4)[1])
    Xd, yd = make_surface(kind, 50, seed=1, dtype="float64")
    if kind == "plane":
        np.testing.assert_allclose(yd[:, 0], (Xd[:, 0] + Xd[:, 1]) / 2, atol=1e-12)
    else:  # Σ h exp(-d²/(2·0.25²)) over the five bumps
        from axon.datasets.synthetic import SURFACE_BUMPS
        expected = sum(h * np.exp(-((Xd[:, 0] - cx) ** 2 + (Xd[:, 1] - cy) ** 2) / (2 * 0.25 ** 2))
                       for cx, cy, h in SURFACE_BUMPS)
        np.testing.assert_allclose(yd[:, 0], expected, atol=1e-12)
    noisy = make_surface(kind, 50, noise=0.1, seed=1, dtype="float64")[1]
    assert 0.05 < np.std(noisy - yd) < 0.2


@pytest.mark.parametrize("call, message", [
    (lambda: make_circles(100, factor=1.5), "factor"),
    (lambda: make_circles(100, factor="x"), "factor"),
    (lambda: make_gaussians(100, radius=0), "radius"),
    (lambda: make_gaussians(100, 1), "n_classes"),
    (lambda: make_surface("cone"), "kind"),
    (lambda: make_xor(3), "n_samples"),
    (lambda: make_spirals(10, 1), "n_classes"),
    (lambda: make_spirals(2, 3), "n_samples"),
    (lambda: make_moons(100, noise=-1), "noise"),
    (lambda: make_moons(100, noise=None), "noise"),
    (lambda: make_curve("cubic"), "kind"),
    (lambda: make_curve(n_samples=0), "n_samples"),
    (lambda: make_moons(10.5), "n_samples"),
])
def test_bad_arguments(call, message):
    with pytest.raises((TypeError, ValueError), match=message):  # TypeError for n_samples=10.5
        call()


@pytest.mark.parametrize("kind", ["piecewise", "sine"])
def test_curve_shapes_order_and_seed(kind):
    x, y = make_curve(kind, 64, noise=0.1, seed=3)
    assert x.shape == (64, 1) and y.shape == (64, 1) and x.dtype == np.float32 and y.dtype == np.float32
    assert np.all(np.diff(x[:, 0]) >= 0) and 0 <= x.min() and x.max() <= 1
    x2, y2 = make_curve(kind, 64, noise=0.1, seed=3)
    np.testing.assert_array_equal(y, y2)
    xd, yd = make_curve(kind, 10, dtype="float64")
    assert xd.dtype == np.float64 and yd.dtype == np.float64


def test_noiseless_curves_are_the_formulas():
    x, y = make_curve("sine", 50, seed=0, dtype="float64")
    np.testing.assert_allclose(y, np.sin(2 * np.pi * x), atol=1e-12)
    x, y = make_curve("piecewise", 50, seed=0, dtype="float64")
    np.testing.assert_allclose(y, piecewise_linear(x), atol=1e-12)


def test_piecewise_is_a_constant_plus_hard_sigmoids():
    # The worked values of the red curve, read off its definition.
    xs = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.525, 0.6, 0.7, 0.9, 1.0])
    expected = [0.5, 0.5, 1.0, 1.5, 1.5, 0.75, 0.0, 0.0, 1.2, 1.2]
    np.testing.assert_allclose(piecewise_linear(xs), expected, atol=1e-12)
    # A hard sigmoid is the difference of two ReLUs.
    x = np.linspace(-1, 2, 301)
    two_relus = 2.0 / (0.5 - 0.2) * (relu(x - 0.2) - relu(x - 0.5))
    np.testing.assert_allclose(hard_sigmoid(x, 0.2, 0.5, 2.0), two_relus, atol=1e-12)
    # Piecewise linear: second differences vanish away from the six kinks.
    grid = np.linspace(0, 1, 1001)
    second = np.abs(np.diff(piecewise_linear(grid), 2))
    assert (second > 1e-9).sum() <= 6
