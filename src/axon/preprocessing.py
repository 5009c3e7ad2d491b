"""Input preprocessing that travels with the model: Standardizer (z-scores per feature).

A fitted preprocessor set as ``model.preprocessor`` is the first step of the model's forward
pass (:meth:`axon.Sequential.prepare`), so ``fit``, ``evaluate``, ``predict``, ``trace`` and
``gradcheck`` take raw inputs; it is saved in the model file by :func:`axon.save` and prepended to
the graph by :func:`axon.export_onnx`. So a saved model takes the same raw data it was trained on.

A preprocessor type provides ``fit(X) -> self``, ``transform(X)``, ``backward(grad)`` (the
gradient through ``transform``), ``inverse_transform(X)``,
``get_config() -> dict`` (JSON), ``get_arrays() -> dict[str, ndarray]`` and the class method
``from_arrays(arrays, config)``; it is registered by class name in :data:`PREPROCESSOR_REGISTRY`
so that model files name it by type, never by code path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from axon import backend
from axon._config import get_default_dtype

#: Preprocessor classes by type name, for model files.
PREPROCESSOR_REGISTRY: dict[str, type] = {}


def register_preprocessor(cls: type) -> type:
    """Class decorator: make a preprocessor type loadable from model files by its class name."""
    PREPROCESSOR_REGISTRY[cls.__name__] = cls
    return cls


def _as_float_array(X, what: str) -> np.ndarray:
    # Keep float32 and float64 as they are (no silent upcast); anything else becomes the default dtype.
    X = backend.as_array(X)
    if X.dtype not in (np.float32, np.float64):
        if not (np.issubdtype(X.dtype, np.number) or X.dtype == np.bool_):
            raise TypeError(f"Standardizer.{what}: X must be numeric, got dtype {X.dtype}")
        X = X.astype(get_default_dtype())
    return X


@register_preprocessor
class Standardizer:
    """Standardise each feature to zero mean and unit variance: z = (x − mean) / scale.

    ``fit`` computes, per feature (every axis but the first, the sample axis), ``mean_`` and
    ``scale_`` = the population standard deviation (ddof=0, as scikit-learn's StandardScaler),
    with zeros replaced by 1 so that constant features map to 0 instead of dividing by zero
    (a column counts as constant when its variance is within floating-point rounding of 0).
    Statistics are computed and kept in float64; ``transform`` returns the dtype it was given
    (float32 stays float32; integer input becomes the default dtype).

    Shapes: ``X`` is (n, d) or (n, C, H, W); ``mean_`` and ``scale_`` are one sample's shape
    ((d,) or (C, H, W)). ``transform`` and ``inverse_transform`` keep the shape of ``X``.

    Examples
    --------
    >>> s = Standardizer().fit(X_train)
    >>> model.preprocessor = s          # model(X), fit and predict now standardise raw X themselves
    """

    def __init__(self) -> None:
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None
        self._cast: dict[tuple[np.dtype, str], tuple[np.ndarray, np.ndarray]] = {}

    # -- fitting ---------------------------------------------------------------------
    def fit(self, X) -> Standardizer:
        """Compute the per-feature mean and standard deviation of ``X`` (n, …); returns self."""
        X = _as_float_array(X, "fit")
        if X.ndim < 2 or X.shape[0] == 0:
            raise ValueError(f"Standardizer.fit: X must have shape (n_samples, n_features...) with "
                             f"n_samples >= 1, got {X.shape}")
        if not np.isfinite(X).all():
            raise ValueError("Standardizer.fit: X contains NaN or infinity; clean or impute it first")
        X64 = X.astype(np.float64, copy=False)
        n = X64.shape[0]
        mean = X64.mean(axis=0)
        var = X64.var(axis=0)
        # A constant column can get a variance of a few ulps from rounding in the mean; treat
        # anything within that rounding bound as zero (the bound scikit-learn uses).
        eps = np.finfo(np.float64).eps
        constant = var <= n * eps * var + (n * mean * eps) ** 2
        std = np.sqrt(var)
        std[constant] = 1.0
        self._set(backend.to_host(mean), backend.to_host(std))  # kept on the host, as files save them
        return self

    def _set(self, mean: np.ndarray, scale: np.ndarray) -> None:
        self.mean_ = mean
        self.scale_ = scale
        self._cast = {}

    @property
    def is_fitted(self) -> bool:
        """Whether :meth:`fit` (or :meth:`from_arrays`) has set ``mean_`` and ``scale_``."""
        return self.mean_ is not None

    @property
    def n_features_in_(self) -> int:
        """Number of features per sample (the size of ``mean_``)."""
        return int(self._fitted("n_features_in_")[0].size)

    def _fitted(self, what: str) -> tuple[np.ndarray, np.ndarray]:
        """(mean_, scale_), or a ValueError when the Standardizer is not fitted yet."""
        if self.mean_ is None or self.scale_ is None:
            raise ValueError(f"Standardizer.{what}: this Standardizer is not fitted yet; call fit(X_train) first")
        return self.mean_, self.scale_

    def _params(self, X: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
        mean, scale = self._fitted(what)
        if X.shape[1:] != mean.shape:
            raise ValueError(f"Standardizer.{what}: X has samples of shape {X.shape[1:]}, but the "
                             f"Standardizer was fitted on samples of shape {mean.shape}")
        # Cast the statistics once per dtype and device, so float32 data gives float32 results
        # and data on the GPU meets statistics there.
        key = (X.dtype, backend.device_of(X))
        if key not in self._cast:
            device = key[1]
            self._cast[key] = (backend.to_device(mean.astype(X.dtype), device),
                               backend.to_device(scale.astype(X.dtype), device))
        return self._cast[key]

    # -- applying --------------------------------------------------------------------
    def transform(self, X) -> np.ndarray:
        """z = (x − mean_) / scale_, per feature. Shape (n, …) in and out; dtype kept."""
        X = _as_float_array(X, "transform")
        mean, scale = self._params(X, "transform")
        return (X - mean) / scale

    def backward(self, grad_z: np.ndarray) -> np.ndarray:
        """∂C/∂x = ∂C/∂z / scale_, the gradient through :meth:`transform`. Shape kept."""
        _, scale = self._params(grad_z, "backward")
        return grad_z / scale

    def fit_transform(self, X) -> np.ndarray:
        """``fit(X).transform(X)``."""
        return self.fit(X).transform(X)

    def inverse_transform(self, Z) -> np.ndarray:
        """x = z · scale_ + mean_: undoes :meth:`transform`. Shape (n, …) in and out; dtype kept."""
        Z = _as_float_array(Z, "inverse_transform")
        mean, scale = self._params(Z, "inverse_transform")
        return Z * scale + mean

    # -- saving ----------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """Constructor arguments (JSON); the learned statistics are in :meth:`get_arrays`."""
        return {}

    def get_arrays(self) -> dict[str, np.ndarray]:
        """The learned statistics, ``{"mean": mean_, "scale": scale_}``, as saved in model files."""
        mean, scale = self._fitted("get_arrays")
        return {"mean": mean, "scale": scale}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], config: Mapping[str, Any] | None = None
                    ) -> Standardizer:
        """A fitted Standardizer from ``{"mean": ..., "scale": ...}`` (what :meth:`get_arrays` gave).

        Raises ValueError unless both arrays are present (and nothing else), have the same shape,
        are float32 or float64, finite, and every scale is > 0.
        """
        if config:
            raise ValueError(f"Standardizer takes no configuration, got {sorted(config)}")
        if set(arrays) != {"mean", "scale"}:
            raise ValueError(f"Standardizer needs arrays 'mean' and 'scale', got {sorted(arrays)}")
        mean, scale = np.asarray(arrays["mean"]), np.asarray(arrays["scale"])
        if mean.shape != scale.shape:
            raise ValueError(f"Standardizer mean has shape {mean.shape} but scale has shape {scale.shape}")
        for key, a in (("mean", mean), ("scale", scale)):
            if a.dtype not in (np.float32, np.float64):
                raise ValueError(f"Standardizer {key} must be float32 or float64, got {a.dtype}")
            if not np.isfinite(a).all():
                raise ValueError(f"Standardizer {key} contains NaN or infinity")
        if (scale <= 0).any():
            raise ValueError("Standardizer scale must be > 0 everywhere")
        s = cls()
        s._set(mean.astype(np.float64), scale.astype(np.float64))
        return s

    def __repr__(self) -> str:
        state = f"n_features_in_={self.n_features_in_}" if self.is_fitted else "not fitted"
        return f"Standardizer({state})"
