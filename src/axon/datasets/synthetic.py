"""Small synthetic problems of the course: XOR, two moons, spirals, circles, Gaussian blobs, and
curves and surfaces to fit.

Every generator takes ``seed`` (an int, a ``numpy.random.Generator``, or None for axon's generator,
see :func:`axon.set_seed`), so the same seed gives the same data; inputs are float (axon's default dtype,
float32 unless changed), class labels are int64 of shape ``(n,)`` and the classes are balanced
(their sizes differ by at most one).
"""

from __future__ import annotations

import numpy as np

from axon._config import as_generator, resolve_dtype
from axon.validation import check_int

# Hung-yi Lee's lecture 1 "red curve": a constant plus three hard sigmoids (ramps). Each ramp is
# (start, end, height): 0 before ``start``, rising linearly to ``height`` at ``end``, flat after.
PIECEWISE_CONSTANT = 0.5
PIECEWISE_RAMPS: tuple[tuple[float, float, float], ...] = (
    (0.10, 0.30, 1.0),
    (0.45, 0.60, -1.5),
    (0.75, 0.90, 1.2),
)

XOR_TABLE = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
XOR_LABELS = np.array([0, 1, 1, 0])


def _check_noise(noise) -> float:
    value = _number(noise)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    return value


def _number(value) -> float:
    """``value`` as a float, NaN for what is not a number (booleans included)."""
    if isinstance(value, bool):
        return float("nan")
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _balanced_labels(n_samples: int, n_classes: int) -> np.ndarray:
    """``n_samples`` labels 0,1,...,K-1,0,1,... sorted: each class gets n//K or n//K + 1."""
    return np.sort(np.arange(n_samples) % n_classes)


def _finish(X: np.ndarray, y: np.ndarray, rng: np.random.Generator, shuffle: bool, dtype
            ) -> tuple[np.ndarray, np.ndarray]:
    if shuffle:
        order = rng.permutation(len(X))
        X, y = X[order], y[order]
    return X.astype(resolve_dtype(dtype)), y.astype(np.int64)


def _two_curves(n_samples, noise, seed, curve0, curve1, t_max: float, endpoint: bool, shuffle: bool, dtype
                ) -> tuple[np.ndarray, np.ndarray]:
    """``n - n//2`` points ``curve0(t)`` (class 0) and ``n//2`` points ``curve1(t)`` (class 1), t evenly
    spaced in [0, t_max], plus Gaussian noise of standard deviation ``noise``."""
    n = check_int(n_samples, "n_samples", minimum=2)
    noise = _check_noise(noise)
    rng = as_generator(seed)
    n_out = n - n // 2
    X = np.vstack([curve0(np.linspace(0.0, t_max, n_out, endpoint=endpoint)),
                   curve1(np.linspace(0.0, t_max, n // 2, endpoint=endpoint))])
    y = np.concatenate([np.zeros(n_out), np.ones(n // 2)])
    X = X + noise * rng.standard_normal(X.shape)
    return _finish(X, y, rng, shuffle, dtype)


def make_xor(n_samples: int = 200, *, n: int | None = None, noise: float = 0.1,
             seed: int | np.random.Generator | None = None, table: bool = False, bias_column: bool = False,
             shuffle: bool = True, dtype=None) -> tuple[np.ndarray, np.ndarray]:
    """The XOR problem: label 1 when exactly one of the two inputs is 1; no line separates the classes.

    Parameters
    ----------
    n_samples : int
        Number of points: each is a corner (a, b) of the unit square, a quarter of the points per
        corner, plus Gaussian noise of standard deviation ``noise``; label ``y = a XOR b``.
    n : int, optional
        Another name for ``n_samples`` (``make_xor(n=100)``); give one of the two.
    noise : float
        Standard deviation of the noise added to both inputs.
    seed : int, Generator or None
        Source of the noise and the order.
    table : bool
        Return the 4-row truth table instead (``n_samples``, ``noise`` and ``seed`` are unused):
        X = [[0,0],[0,1],[1,0],[1,1]], y = [0,1,1,0].
    bias_column : bool
        Append a column of ones, as in the from-scratch article's 3-4-1 network, whose input is
        [[0,0,1],[0,1,1],[1,0,1],[1,1,1]].
    shuffle : bool
        Shuffle the rows (sampled data only).
    dtype : str or dtype, optional
        float32 or float64 for X; default axon's default dtype.

    Returns
    -------
    X : numpy.ndarray
        Shape ``(n, 2)``, or ``(n, 3)`` with ``bias_column``.
    y : numpy.ndarray
        int64 labels 0/1, shape ``(n,)``.
    """
    if table:
        X, y = XOR_TABLE.astype(np.float64), XOR_LABELS.copy()
    else:
        n = check_int(n_samples if n is None else n, "n_samples", minimum=4)
        noise = _check_noise(noise)
        rng = as_generator(seed)
        corner = _balanced_labels(n, 4)
        X = XOR_TABLE[corner] + noise * rng.standard_normal((n, 2))
        y = XOR_LABELS[corner]
        if shuffle:
            order = rng.permutation(n)
            X, y = X[order], y[order]
    if bias_column:
        X = np.hstack([X, np.ones((len(X), 1))])
    return X.astype(resolve_dtype(dtype)), y.astype(np.int64)


def make_moons(n_samples: int = 200, *, noise: float = 0.1, seed: int | np.random.Generator | None = None,
               shuffle: bool = True, dtype=None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles, as scikit-learn's ``make_moons``.

    Class 0: ``(cos t, sin t)``; class 1: ``(1 - cos t, 0.5 - sin t)``, for ``t`` evenly spaced in
    [0, π]; then Gaussian noise of standard deviation ``noise`` on both coordinates.

    Returns
    -------
    X : numpy.ndarray
        Shape ``(n_samples, 2)``.
    y : numpy.ndarray
        int64 labels 0/1, shape ``(n_samples,)``; ``n_samples // 2`` of class 1, the rest class 0.
    """
    def outer(t):
        return np.column_stack([np.cos(t), np.sin(t)])

    def inner(t):
        return np.column_stack([1.0 - np.cos(t), 0.5 - np.sin(t)])

    return _two_curves(n_samples, noise, seed, outer, inner, np.pi, True, shuffle, dtype)


def make_spirals(n_samples: int = 300, n_classes: int = 2, *, noise: float = 0.05, turns: float = 1.0,
                 seed: int | np.random.Generator | None = None, shuffle: bool = True, dtype=None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms, one per class (the CS231n and TensorFlow-playground problem).

    Arm ``k`` of ``K``: radius ``r`` evenly spaced in [0.05, 1], angle
    ``θ = 2π·turns·r + 2πk/K``, point ``r·(cos θ, sin θ)``, plus Gaussian noise of standard deviation
    ``noise`` on both coordinates.

    Parameters
    ----------
    n_samples : int
        Total number of points, split as evenly as possible over the classes.
    n_classes : int
        Number of arms (2 or 3 are the usual problems; any number >= 2 works).
    noise : float
        Standard deviation of the noise.
    turns : float
        How many times each arm winds around the centre.

    Returns
    -------
    X : numpy.ndarray
        Shape ``(n_samples, 2)``, roughly within [-1, 1]².
    y : numpy.ndarray
        int64 labels 0..n_classes-1, shape ``(n_samples,)``.
    """
    K = check_int(n_classes, "n_classes", minimum=2)
    n = check_int(n_samples, "n_samples", minimum=K)
    noise = _check_noise(noise)
    rng = as_generator(seed)
    y = _balanced_labels(n, K)
    r = np.empty(n)
    for k in range(K):  # one evenly spaced radius ramp per arm (a loop over classes, not samples)
        members = y == k
        r[members] = np.linspace(0.05, 1.0, int(members.sum()))
    theta = 2.0 * np.pi * turns * r + 2.0 * np.pi * y / K
    X = r[:, None] * np.column_stack([np.cos(theta), np.sin(theta)])
    X = X + noise * rng.standard_normal(X.shape)
    return _finish(X, y, rng, shuffle, dtype)


def make_circles(n_samples: int = 200, *, noise: float = 0.05, factor: float = 0.5,
                 seed: int | np.random.Generator | None = None, shuffle: bool = True, dtype=None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles, as scikit-learn's ``make_circles``: no line separates them, x₁² + x₂² does.

    Class 0 on the circle of radius 1, class 1 on the circle of radius ``factor``, angles evenly
    spaced in [0, 2π); then Gaussian noise of standard deviation ``noise`` on both coordinates.

    Returns
    -------
    X : numpy.ndarray
        Shape ``(n_samples, 2)``.
    y : numpy.ndarray
        int64 labels 0/1, shape ``(n_samples,)``; ``n_samples // 2`` of class 1, the rest class 0.
    """
    if not 0 < _number(factor) < 1:
        raise ValueError(f"factor (inner radius / outer radius) must be in (0, 1), got {factor!r}")

    def outer(t):
        return np.column_stack([np.cos(t), np.sin(t)])

    def inner(t):
        return factor * np.column_stack([np.cos(t), np.sin(t)])

    return _two_curves(n_samples, noise, seed, outer, inner, 2.0 * np.pi, False, shuffle, dtype)


def make_gaussians(n_samples: int = 200, n_classes: int = 2, *, noise: float = 0.3, radius: float = 1.0,
                   seed: int | np.random.Generator | None = None, shuffle: bool = True, dtype=None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs, one per class, with centres evenly spaced on a circle.

    Class ``k`` of ``K``: centre ``radius·(cos φₖ, sin φₖ)`` with ``φₖ = π/4 + 2πk/K`` (for two
    classes the diagonal corners (r/√2, r/√2) and (−r/√2, −r/√2)), points drawn from a normal
    distribution of standard deviation ``noise`` around it. Larger ``noise`` makes the blobs overlap.

    Returns
    -------
    X : numpy.ndarray
        Shape ``(n_samples, 2)``.
    y : numpy.ndarray
        int64 labels 0..n_classes-1, shape ``(n_samples,)``.
    """
    K = check_int(n_classes, "n_classes", minimum=2)
    n = check_int(n_samples, "n_samples", minimum=K)
    noise = _check_noise(noise)
    if not 0 < _number(radius) < np.inf:
        raise ValueError(f"radius must be a finite number > 0, got {radius!r}")
    rng = as_generator(seed)
    y = _balanced_labels(n, K)
    phi = np.pi / 4 + 2.0 * np.pi * np.arange(K) / K
    centres = radius * np.column_stack([np.cos(phi), np.sin(phi)])
    X = centres[y] + noise * rng.standard_normal((n, 2))
    return _finish(X, y, rng, shuffle, dtype)


def hard_sigmoid(x: np.ndarray, start: float, end: float, height: float) -> np.ndarray:
    """A ramp: 0 for x <= start, ``height`` for x >= end, linear in between.

    ``height · clip((x - start) / (end - start), 0, 1)``, which equals
    ``height / (end - start) · (relu(x - start) - relu(x - end))``: two ReLUs make one hard sigmoid.
    """
    return height * np.clip((x - start) / (end - start), 0.0, 1.0)


def piecewise_linear(x: np.ndarray) -> np.ndarray:
    """The lecture's red curve: ``PIECEWISE_CONSTANT + Σ hard_sigmoid(x, *ramp)`` over ``PIECEWISE_RAMPS``.

    Flat at 0.5 up to x = 0.1, up to 1.5 by x = 0.3, down to 0 between 0.45 and 0.6, up to 1.2
    between 0.75 and 0.9, flat after. Works on any shape; returns float64 for float64 input.
    """
    y = np.full(np.shape(x), PIECEWISE_CONSTANT)
    for start, end, height in PIECEWISE_RAMPS:
        y = y + hard_sigmoid(x, start, end, height)
    return y


_CURVES = {
    "piecewise": piecewise_linear,
    "sine": lambda x: np.sin(2.0 * np.pi * x),
}


def make_curve(kind: str = "piecewise", n_samples: int = 100, *, noise: float = 0.0,
               seed: int | np.random.Generator | None = None, dtype=None) -> tuple[np.ndarray, np.ndarray]:
    """One-dimensional regression data: ``y = f(x) + noise``, x uniform in [0, 1], sorted.

    Parameters
    ----------
    kind : {"piecewise", "sine"}
        "piecewise": the piecewise-linear red curve of Hung-yi Lee's lecture 1 (a constant plus a sum
        of hard sigmoids, see :func:`piecewise_linear`), which a sum of sigmoids
        ``b + Σᵢ cᵢ σ(bᵢ + wᵢ x)`` approximates better as terms are added. "sine": ``sin(2πx)``,
        one period.
    n_samples : int
        Number of points.
    noise : float
        Standard deviation of Gaussian noise added to y (0: the exact curve).
    seed : int, Generator or None
        Source of x and the noise.
    dtype : str or dtype, optional
        float32 or float64; default axon's default dtype.

    Returns
    -------
    x : numpy.ndarray
        Shape ``(n_samples, 1)``, ascending.
    y : numpy.ndarray
        Shape ``(n_samples, 1)``.
    """
    if kind not in _CURVES:
        raise ValueError(f"kind must be one of {sorted(_CURVES)}, got {kind!r}")
    n = check_int(n_samples, "n_samples", minimum=1)
    noise = _check_noise(noise)
    rng = as_generator(seed)
    x = np.sort(rng.uniform(0.0, 1.0, n))
    y = _CURVES[kind](x) + noise * rng.standard_normal(n)
    dt = resolve_dtype(dtype)
    return x.reshape(n, 1).astype(dt), y.reshape(n, 1).astype(dt)


#: Signed bumps (centre x₁, centre x₂, height) of the "gaussians" surface.
SURFACE_BUMPS: tuple[tuple[float, float, float], ...] = (
    (-0.5, -0.5, 1.0), (0.5, 0.5, 1.0), (-0.5, 0.5, -1.0), (0.5, -0.5, -1.0), (0.0, 0.0, 0.5),
)
#: The standard deviation of each Gaussian bump of the "gaussians" surface.
SURFACE_BUMP_WIDTH = 0.25


def _bumps(X: np.ndarray) -> np.ndarray:
    out = np.zeros(len(X))
    for cx, cy, height in SURFACE_BUMPS:
        d2 = (X[:, 0] - cx) ** 2 + (X[:, 1] - cy) ** 2
        out += height * np.exp(-d2 / (2.0 * SURFACE_BUMP_WIDTH ** 2))
    return out


_SURFACES = {
    "plane": lambda X: 0.5 * (X[:, 0] + X[:, 1]),
    "gaussians": _bumps,
}


def make_surface(kind: str = "plane", n_samples: int = 200, *, noise: float = 0.0,
                 seed: int | np.random.Generator | None = None, dtype=None) -> tuple[np.ndarray, np.ndarray]:
    """Two-dimensional regression data: ``y = f(x₁, x₂) + noise``, x uniform in [-1, 1]².

    Parameters
    ----------
    kind : {"plane", "gaussians"}
        "plane": ``f = (x₁ + x₂)/2``, a linear model fits it exactly. "gaussians": a sum of signed
        Gaussian bumps ``Σ hₖ exp(−‖x − cₖ‖² / (2·0.25²))`` over :data:`SURFACE_BUMPS`, which needs
        hidden units.
    n_samples : int
        Number of points.
    noise : float
        Standard deviation of Gaussian noise added to y (0: the exact surface).
    seed : int, Generator or None
        Source of x and the noise.
    dtype : str or dtype, optional
        float32 or float64; default axon's default dtype.

    Returns
    -------
    X : numpy.ndarray
        Shape ``(n_samples, 2)``.
    y : numpy.ndarray
        Shape ``(n_samples, 1)``.
    """
    if kind not in _SURFACES:
        raise ValueError(f"kind must be one of {sorted(_SURFACES)}, got {kind!r}")
    n = check_int(n_samples, "n_samples", minimum=1)
    noise = _check_noise(noise)
    rng = as_generator(seed)
    X = rng.uniform(-1.0, 1.0, (n, 2))
    y = _SURFACES[kind](X) + noise * rng.standard_normal(n)
    dt = resolve_dtype(dtype)
    return X.astype(dt), y.reshape(n, 1).astype(dt)
