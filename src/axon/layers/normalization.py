"""Normalisation layers: batch normalisation (Ioffe & Szegedy, 2015) for feature rows and image
channels, and layer normalisation (Ba et al., 2016) for the steps of sequences."""

from __future__ import annotations

from typing import Any

import numpy as np

from axon import backend
from axon._config import resolve_dtype
from axon.layers.base import Layer, register_layer
from axon.validation import check_int


class _BatchNorm(Layer):
    """Shared code of BatchNorm1d and BatchNorm2d; subclasses say which axes hold the channel."""

    _kind = ""

    def __init__(self, num_features: int, *, eps: float = 1e-5, momentum: float = 0.1, dtype=None,
                 name: str | None = None) -> None:
        super().__init__(name)
        kind = type(self).__name__
        num_features = check_int(num_features, f"{kind} num_features")
        if not np.isfinite(eps) or eps <= 0:
            raise ValueError(f"{kind} eps must be a small number > 0 (e.g. 1e-5), got {eps!r}")
        if not np.isfinite(momentum) or not 0 <= momentum <= 1:
            raise ValueError(f"{kind} momentum must be in [0, 1] (PyTorch's meaning; 0.1 is usual), "
                             f"got {momentum!r}")
        self.num_features = int(num_features)
        self.eps, self.momentum = float(eps), float(momentum)
        dt = resolve_dtype(dtype)
        self.weight = self.add_parameter("weight", np.ones(self.num_features, dtype=dt))
        self.bias = self.add_parameter("bias", np.zeros(self.num_features, dtype=dt))
        self.running_mean = np.zeros(self.num_features, dtype=dt)
        self.running_var = np.ones(self.num_features, dtype=dt)
        self._cache: tuple[np.ndarray, np.ndarray]  # x̂ and 1/σ of the last forward
        self._inference = False

    # -- shape handling: the channel axis is 1; statistics reduce over every other axis ------------
    def _check(self, x: np.ndarray) -> tuple[int, ...]:
        raise NotImplementedError

    def _per_channel(self, v: np.ndarray, ndim: int) -> np.ndarray:
        """Reshape a (C,) vector to broadcast along axis 1 of an ``ndim``-dimensional batch."""
        return v.reshape((1, -1) + (1,) * (ndim - 2))

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        axes = self._check(x)
        gamma = self.weight.data
        if x.dtype != gamma.dtype:
            x = x.astype(gamma.dtype)
        if training:
            m = x.size // self.num_features
            if m < 2:
                raise ValueError(f"{self.name} needs more than one value per channel in training "
                                 f"(got input {x.shape}); use a batch of 2 or more samples")
            mean = x.mean(axis=axes)
            xc = x - self._per_channel(mean, x.ndim)
            var = np.mean(np.square(xc), axis=axes)
            inv_std = 1.0 / np.sqrt(var + self.eps)
            xhat = xc
            xhat *= self._per_channel(inv_std, x.ndim)
            # Running statistics as PyTorch: unbiased variance, r ← (1 − momentum)·r + momentum·batch.
            mom = self.momentum
            self.running_mean *= 1.0 - mom
            self.running_mean += mom * mean
            self.running_var *= 1.0 - mom
            self.running_var += (mom * m / (m - 1)) * var
            self._cache = (xhat, inv_std)
        else:
            inv_std = 1.0 / np.sqrt(self.running_var + self.eps)
            xhat = (x - self._per_channel(self.running_mean, x.ndim)) * self._per_channel(inv_std, x.ndim)
            self._cache = (xhat, inv_std)
        self._inference = not training
        return xhat * self._per_channel(gamma, x.ndim) + self._per_channel(self.bias.data, x.ndim)

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        xhat, inv_std = self._cache
        axes = tuple(a for a in range(grad_y.ndim) if a != 1)
        sum_g = grad_y.sum(axis=axes)
        sum_gx = np.sum(grad_y * xhat, axis=axes)
        self.bias.accumulate(sum_g)                     # ∂C/∂β = Σ g
        self.weight.accumulate(sum_gx)                  # ∂C/∂γ = Σ g·x̂
        scale = self._per_channel(self.weight.data * inv_std, grad_y.ndim)
        if self._inference:
            return grad_y * scale                       # fixed statistics: y is affine in x
        # Batch statistics depend on every sample:
        # ∂C/∂x = γ/σ · (g − mean(g) − x̂ · mean(g·x̂)), means over the m values of each channel.
        m = grad_y.size // self.num_features
        dx = xhat * self._per_channel(sum_gx / m, grad_y.ndim)
        np.subtract(grad_y, dx, out=dx)
        dx -= self._per_channel(sum_g / m, grad_y.ndim)
        dx *= scale
        return dx

    # -- state saved with the model ----------------------------------------------------------
    def buffers(self) -> dict[str, np.ndarray]:
        return {"running_mean": self.running_mean, "running_var": self.running_var}

    def set_buffer(self, key: str, value: np.ndarray) -> None:
        if key not in ("running_mean", "running_var"):
            super().set_buffer(key, value)  # raises KeyError
        value = backend.as_array(value)
        if value.shape != (self.num_features,):
            raise ValueError(f"{self.name}.{key} must have shape ({self.num_features},), got {value.shape}")
        setattr(self, key, value.astype(self.weight.data.dtype))

    def get_config(self) -> dict[str, Any]:
        return {"num_features": self.num_features, "eps": self.eps, "momentum": self.momentum}


@register_layer
class BatchNorm1d(_BatchNorm):
    """Batch normalisation of features: input (N, D) (or (N, D, L)), D = ``num_features``.

    In training, per feature d over the batch (and L): μ = mean(x), σ² = mean((x − μ)²) (biased),
    ``x̂ = (x − μ) / sqrt(σ² + eps)`` and ``y = γ · x̂ + β`` (``.weight`` γ starts at 1, ``.bias`` β
    at 0). The running statistics follow PyTorch: ``running ← (1 − momentum)·running +
    momentum·batch``, with the *unbiased* variance m/(m − 1)·σ² (m values per feature). At
    inference μ and σ² are the running statistics, so the output of one sample does not depend on
    the rest of the batch. ``.running_mean`` and ``.running_var`` are buffers saved in model files.

    Backward in training (g = ∂C/∂y, means over the m values of each feature):
    ∂C/∂β = Σ g, ∂C/∂γ = Σ g·x̂, ∂C/∂x = γ/sqrt(σ² + eps) · (g − mean(g) − x̂·mean(g·x̂)).
    """

    def _check(self, x: np.ndarray) -> tuple[int, ...]:
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            raise ValueError(f"{self.name} expects input of shape (n, {self.num_features}) "
                             f"or (n, {self.num_features}, length), got {x.shape}")
        return (0,) if x.ndim == 2 else (0, 2)


@register_layer
class BatchNorm2d(_BatchNorm):
    """Batch normalisation of image channels: input (N, C, H, W), C = ``num_features``.

    As :class:`BatchNorm1d` with the statistics of each channel taken over the batch and every
    pixel (m = N·H·W values): μ_c, σ²_c, ``y = γ_c · (x − μ_c) / sqrt(σ²_c + eps) + β_c``.
    Running statistics, momentum (PyTorch's meaning) and backward as :class:`BatchNorm1d`.
    """

    def _check(self, x: np.ndarray) -> tuple[int, ...]:
        if x.ndim != 4 or x.shape[1] != self.num_features:
            raise ValueError(f"{self.name} expects input of shape (n, {self.num_features}, height, width), "
                             f"got {x.shape}")
        return (0, 2, 3)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(input_shape)


@register_layer
class LayerNorm(Layer):
    """Layer normalisation (Ba, Kiros & Hinton, 2016): each step normalised over its features.

    For every position (each row of (N, D), each step of (N, T, D)), over the last axis of size
    D = ``dim``: μ = mean(x), σ² = mean((x − μ)²) (biased), ``x̂ = (x − μ) / sqrt(σ² + eps)`` and
    ``y = γ · x̂ + β`` (``.weight`` γ starts at 1, ``.bias`` β at 0), as PyTorch's
    ``nn.LayerNorm(dim)``. Unlike BatchNorm there are no batch statistics: training and inference
    compute the same thing, and one sample's output never depends on the rest of the batch.

    Backward, with g = ∂C/∂y and ĝ = g·γ, means over the D features of each position:
    ∂C/∂β = Σ g, ∂C/∂γ = Σ g·x̂ (sums over every position), ∂C/∂x = (ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) / σ.
    """

    def __init__(self, dim: int, *, eps: float = 1e-5, dtype=None, name: str | None = None) -> None:
        super().__init__(name)
        dim = check_int(dim, "LayerNorm dim", example=64)
        if not np.isfinite(eps) or eps <= 0:
            raise ValueError(f"LayerNorm eps must be a small number > 0 (e.g. 1e-5), got {eps!r}")
        self.dim, self.eps = int(dim), float(eps)
        dt = resolve_dtype(dtype)
        self.weight = self.add_parameter("weight", np.ones(self.dim, dtype=dt))
        self.bias = self.add_parameter("bias", np.zeros(self.dim, dtype=dt))
        self._cache: tuple[np.ndarray, np.ndarray]  # x̂ and 1/σ of the last forward

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if x.ndim < 2 or x.shape[-1] != self.dim:
            raise ValueError(f"{self.name} expects input of shape (n, ..., {self.dim}), got {x.shape}")
        gamma = self.weight.data
        if x.dtype != gamma.dtype:
            x = x.astype(gamma.dtype)
        xhat = x - self._mean(x)
        var = self._mean(np.square(xhat))
        inv_std = 1.0 / np.sqrt(var + self.eps)
        xhat *= inv_std
        self._cache = (xhat, inv_std)
        y = xhat * gamma
        y += self.bias.data
        return y

    def _mean(self, a: np.ndarray) -> np.ndarray:
        """The mean over the last axis (kept, of length 1), as a product with a vector of 1/D:
        NumPy reduces a short last axis row by row, five times slower than this BLAS call."""
        return (a @ backend.namespace(a).full(self.dim, 1.0 / self.dim, dtype=a.dtype))[..., None]

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        xhat, inv_std = self._cache
        g2 = grad_y.reshape(-1, self.dim)
        self.bias.accumulate(g2.sum(axis=0))                      # ∂C/∂β = Σ g
        self.weight.accumulate(np.sum(g2 * xhat.reshape(g2.shape), axis=0))  # ∂C/∂γ = Σ g·x̂
        gh = grad_y * self.weight.data                            # ĝ = g·γ
        dx = xhat * self._mean(gh * xhat)
        np.subtract(gh, dx, out=dx)
        dx -= self._mean(gh)
        dx *= inv_std
        return dx

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {"dim": self.dim, "eps": self.eps}
