"""Small 2-D and 1-D problems for the demos.

The demos use ``axon.datasets.make_curve/make_xor/make_moons/make_spirals`` when that module
provides them, and the equivalent generators below otherwise, so a demo never depends on
anything but NumPy. All are float32 with a seeded generator.
"""

from __future__ import annotations

import numpy as np

#: Knots of the piecewise-linear "red curve" of lecture 1: flat, up, down, up, flat, that is a
#: constant plus three hard sigmoids.
CURVE_KNOTS_X = (-3.0, -1.5, -0.5, 1.0, 2.0, 3.0)
CURVE_KNOTS_Y = (1.0, 1.0, 2.5, 0.5, 1.5, 1.5)


def _library(name: str):
    import axon.datasets as datasets

    return getattr(datasets, name, None)


def curve(n_samples: int = 200, noise: float = 0.05, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """x of shape (n, 1), sorted, and y (n, 1): the piecewise-linear curve of lecture 1 plus noise."""
    make = _library("make_curve")
    if make is not None:
        x, y = make("piecewise", n_samples, noise=noise, seed=seed, dtype="float32")
        return x, y
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(CURVE_KNOTS_X[0], CURVE_KNOTS_X[-1], n_samples))
    y = np.interp(x, CURVE_KNOTS_X, CURVE_KNOTS_Y) + rng.normal(0.0, noise, n_samples)
    return x[:, None].astype(np.float32), y[:, None].astype(np.float32)


def _labels(X, y, n_samples):
    X, y = np.asarray(X, dtype=np.float32), np.asarray(y)
    ok = X.ndim == 2 and X.shape[1] == 2 and y.shape == (len(X),) and len(X) >= n_samples // 2
    return (X, y.astype(np.int64)) if ok else None


def xor(n_samples: int = 200, noise: float = 0.15, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Four noisy clusters at the corners of the unit square, label = x₁ XOR x₂: X (n, 2), y (n,)."""
    make = _library("make_xor")
    if make is not None:
        try:
            got = _labels(*make(n=n_samples, noise=noise, seed=seed), n_samples)
        except TypeError:
            got = None
        if got is not None:
            return got
    rng = np.random.default_rng(seed)
    corners = rng.integers(0, 2, size=(n_samples, 2))
    X = corners + rng.normal(0.0, noise, (n_samples, 2))
    return X.astype(np.float32), (corners[:, 0] ^ corners[:, 1]).astype(np.int64)


def moons(n_samples: int = 200, noise: float = 0.15, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (as scikit-learn's make_moons): X (n, 2), y (n,) in {0, 1}."""
    make = _library("make_moons")
    if make is not None:
        try:
            got = _labels(*make(n_samples, noise=noise, seed=seed), n_samples)
        except TypeError:
            got = None
        if got is not None:
            return got
    rng = np.random.default_rng(seed)
    n0 = n_samples // 2
    t0, t1 = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n_samples - n0)
    X = np.concatenate([np.c_[np.cos(t0), np.sin(t0)], np.c_[1 - np.cos(t1), 0.5 - np.sin(t1)]])
    X += rng.normal(0.0, noise, X.shape)
    y = np.r_[np.zeros(n0), np.ones(n_samples - n0)].astype(np.int64)
    return X.astype(np.float32), y


def spirals(n_samples: int = 300, n_classes: int = 2, noise: float = 0.1, seed: int = 0
            ) -> tuple[np.ndarray, np.ndarray]:
    """``n_classes`` interleaved spiral arms: X (n, 2) in about [-1, 1]², y (n,) in [0, n_classes)."""
    make = _library("make_spirals")
    if make is not None:
        try:
            got = _labels(*make(n_samples, n_classes=n_classes, noise=noise, seed=seed), n_samples)
        except TypeError:
            got = None
        if got is not None:
            return got
    rng = np.random.default_rng(seed)
    y = np.arange(n_samples) % n_classes
    r = rng.uniform(0.05, 1.0, n_samples)
    theta = 1.75 * np.pi * r + 2 * np.pi * y / n_classes + rng.normal(0.0, noise, n_samples)
    X = np.c_[r * np.cos(theta), r * np.sin(theta)]
    return X.astype(np.float32), y.astype(np.int64)
