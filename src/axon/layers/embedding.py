"""Embedding: integer ids to learned vectors, the first layer of a model that reads tokens."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from axon import backend
from axon._config import as_generator, resolve_dtype
from axon.initializers import initialize
from axon.layers.base import Layer, register_layer
from axon.validation import check_int

if TYPE_CHECKING:
    from axon._config import Seed


@register_layer
class Embedding(Layer):
    """A lookup table: ``y[n, t] = W[ids[n, t]]``, ids (N, T) of integers → (N, T, dim).

    ``W`` (num_embeddings, dim), as PyTorch's ``nn.Embedding``; initialised N(0, 1) as PyTorch.
    The lookup is the product of one-hot rows with W, so backward adds each step's gradient into
    the row it read: ``∂C/∂W[v] = Σ_{n,t: ids[n,t] = v} ∂C/∂y[n, t]``. The ids get no gradient (the
    output is piecewise constant in them): backward returns zeros of the ids' shape.

    ``padding_idx``: the id that pads short sequences to the batch's length. Its row starts at 0
    and is never trained (as PyTorch), padded steps always get the zero vector, and the layer hands the padding mask ``ids != padding_idx``
    (True at real steps) to the layers after it (see :mod:`axon.layers.base`), so recurrent
    layers, attention and GlobalAvgPool1D ignore the padding.

    Any number of id axes works: (N,) → (N, dim), (N, T) → (N, T, dim).

    Parameters
    ----------
    num_embeddings : the vocabulary size V; ids must be in [0, V).
    dim : the vector size.
    padding_idx : None (default) or the padding id in [0, V).
    init : "standard_normal" (default, N(0, 1), PyTorch's initialisation of embeddings) or any
        initializer of :mod:`axon.initializers` or a callable.
    dtype, seed : as for Dense (the initial weights' randomness).
    """

    integer_input = True

    def __init__(self, num_embeddings: int, dim: int, padding_idx: int | None = None, *,
                 init: str | Callable = "standard_normal", dtype=None, seed: Seed = None,
                 name: str | None = None) -> None:
        super().__init__(name)
        self.num_embeddings = check_int(num_embeddings, "Embedding num_embeddings", example=10000)
        self.dim = check_int(dim, "Embedding dim", example=64)
        self.padding_idx = None if padding_idx is None else check_int(
            padding_idx, "Embedding padding_idx (None, or the id that pads)", minimum=0,
            maximum=self.num_embeddings - 1)
        self.init = init
        dt = resolve_dtype(dtype)
        weight = initialize(init, (self.num_embeddings, self.dim), as_generator(seed), dt)
        if self.padding_idx is not None:
            weight[self.padding_idx] = 0
        self.weight = self.add_parameter("weight", weight)
        self._ids: np.ndarray  # the ids of the last forward

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        ids = backend.as_array(x)
        if ids.dtype.kind not in "iu":
            if ids.dtype.kind != "f" or not np.array_equal(ids, np.round(ids)):
                raise ValueError(f"{self.name} takes integer ids, got {ids.dtype} values; "
                                 f"encode tokens as integers in [0, {self.num_embeddings})")
            ids = ids.astype(np.intp)
        if ids.ndim < 1:
            raise ValueError(f"{self.name} expects a batch of ids (n, steps), got a scalar")
        if ids.size and (ids.min() < 0 or ids.max() >= self.num_embeddings):
            raise ValueError(f"{self.name}: ids must be in [0, {self.num_embeddings}), got values from "
                             f"{ids.min()} to {ids.max()}; enlarge num_embeddings or fix the encoding")
        self._ids = ids
        y = self.weight.data[ids]
        if self.padding_idx is not None:
            y[ids == self.padding_idx] = 0  # so the padding row has no effect, and no gradient
        return y

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        self.backward_params(grad_y)
        return backend.namespace(grad_y).zeros(self._ids.shape, dtype=grad_y.dtype)

    def backward_params(self, grad_y: np.ndarray) -> None:
        ids = self._ids.reshape(-1)
        g = grad_y.reshape(-1, self.dim)
        xp = backend.namespace(g)
        dW = xp.zeros_like(self.weight.data)
        if self.num_embeddings <= 256:
            # A small vocabulary: the one-hot product Oᵀ·g as one matrix product (BLAS) is faster
            # than scattering rows one by one.
            onehot = xp.zeros((ids.size, self.num_embeddings), dtype=g.dtype)
            onehot[xp.arange(ids.size), ids] = 1
            xp.matmul(onehot.T, g, out=dW)
        else:
            backend.scatter_add(dW, ids, g)  # dW[ids] += g, every repeated id added
        if self.padding_idx is not None:
            dW[self.padding_idx] = 0
        self.weight.accumulate(dW)

    def compute_mask(self, x: np.ndarray, mask: np.ndarray | None) -> np.ndarray | None:
        if self.padding_idx is None:
            return mask
        own = backend.as_array(x) != self.padding_idx
        return own if mask is None else own & mask

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return (*tuple(input_shape), self.dim)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"num_embeddings": self.num_embeddings, "dim": self.dim,
                                  "padding_idx": self.padding_idx}
        if isinstance(self.init, str):
            config["init"] = self.init
        return config
