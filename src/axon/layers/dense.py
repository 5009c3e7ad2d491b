"""The fully connected layer z = a·W + b, with optional L1 and L2 penalties."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from axon._config import as_generator, resolve_dtype
from axon.initializers import initialize
from axon.layers.base import Layer, register_layer
from axon.layers.regularization import add_penalty_gradient, check_strengths, weight_penalty
from axon.validation import check_int

if TYPE_CHECKING:
    from axon._config import Seed


@register_layer
class Dense(Layer):
    """Fully connected layer: ``z = a @ W + b``.

    Row-vector convention of the course notes: a batch ``a`` of shape ``(n, in_features)``,
    ``W`` of shape ``(in_features, out_features)``, ``b`` of shape ``(out_features,)``;
    output ``z`` of shape ``(n, out_features)``; sequences (n, T, in_features) step by step (see below).

    Backward, with δ = ∂C/∂z of shape ``(n, out_features)`` (the course's error of the layer):

    - BP3  ∂C/∂b = Σₙ δ                  (sum over the batch)
    - BP4  ∂C/∂W = aᵀ · δ
    - BP2 (the part this layer owns)  ∂C/∂a = δ · Wᵀ

    Regularisation, added to the mean loss and to ∂C/∂W (biases are not penalised):
    ``l2/2 · Σ W²`` (gradient ``l2 · W``) and ``l1 · Σ |W|`` (gradient ``l1 · sign(W)``).

    Parameters
    ----------
    in_features, out_features : sizes of the input and output rows.
    init : the weights' initialiser: "xavier" (default), "he", "lecun", "normal", "standard_normal",
        "uniform", "zeros" or ``init(shape, rng)`` (see :mod:`axon.initializers`).
    bias : whether to add ``b``.
    bias_init : the biases' initialiser, by the same names: "zeros" (default); Nielsen draws them
        from N(0, 1), ``bias_init="standard_normal"``.
    l1, l2 : penalty strengths (see above), >= 0.
    dtype : "float32" or "float64"; default :func:`axon.get_default_dtype`.
    seed : the initial weights' randomness: None (axon's generator, :func:`axon.set_seed`), an int or a
        ``numpy.random.Generator``.
    """

    def __init__(self, in_features: int, out_features: int, *, init: str | Callable = "xavier",
                 bias: bool = True, bias_init: str | Callable = "zeros", l1: float = 0.0,
                 l2: float = 0.0, dtype=None, seed: Seed = None, name: str | None = None) -> None:
        super().__init__(name)
        in_features = check_int(in_features, "Dense in_features")
        out_features = check_int(out_features, "Dense out_features")
        self.in_features, self.out_features = in_features, out_features
        self.init = init
        self.l1, self.l2 = check_strengths(l1, l2, "Dense")
        dt = resolve_dtype(dtype)
        rng = as_generator(seed)
        self.weight = self.add_parameter(
            "weight", initialize(init, (self.in_features, self.out_features), rng, dt))
        self.bias = (self.add_parameter("bias", initialize(bias_init, (self.out_features,), rng, dt))
                     if bias else None)
        self._x: np.ndarray  # the input of the last forward (BP4 needs it)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        W = self.weight.data
        if x.ndim != 2 or x.shape[1] != self.in_features:
            return self._forward_steps(x)  # (n, T, in_features), or a clear error
        if x.dtype != W.dtype:
            x = x.astype(W.dtype)
        self._x = x
        z = x @ W
        if self.bias is not None:
            z += self.bias.data
        return z

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        self.backward_params(grad_y)
        return grad_y @ self.weight.data.T                    # BP2: δ·Wᵀ (the σ′ factor is the activation's)

    def backward_params(self, grad_y: np.ndarray) -> None:
        delta = grad_y if grad_y.ndim == 2 else grad_y.reshape(-1, self.out_features)  # steps as rows
        self.weight.accumulate_matmul(self._x.T, delta)       # BP4: ∂C/∂W = aᵀ·δ
        add_penalty_gradient(self.weight, self.l1, self.l2)
        if self.bias is not None:
            self.bias.accumulate(delta.sum(axis=0))           # BP3: ∂C/∂b = δ

    def penalty(self) -> float:
        return weight_penalty(self.weight.data, self.l1, self.l2)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return (*tuple(input_shape)[:-1], self.out_features)

    def get_config(self) -> dict[str, Any]:
        return {"in_features": self.in_features, "out_features": self.out_features,
                "bias": self.bias is not None, "l1": self.l1, "l2": self.l2}

    def _forward_steps(self, x: np.ndarray) -> np.ndarray:
        """Sequences (n, T, in_features) → (n, T, out_features): every step through the same weights.

        Computed as one product of the (n·T, in_features) rows; backward's BP3 and BP4 then sum over
        the steps too (``backward_params`` reshapes δ the same way, and δ·Wᵀ broadcasts over T).
        """
        if x.ndim < 2 or x.shape[-1] != self.in_features:
            raise ValueError(f"{self.name} expects input of shape (n, {self.in_features}) or "
                             f"(n, ..., {self.in_features}), got {x.shape}")
        return self.forward(x.reshape(-1, self.in_features)).reshape(*x.shape[:-1], self.out_features)
