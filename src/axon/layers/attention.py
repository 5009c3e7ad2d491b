"""Attention: a soft dictionary lookup, and the multi-head self-attention layer of the transformer.

A dictionary maps a query to the value whose key equals it. Attention makes the match soft: a
query q is compared with every key kⱼ (a dot product, scaled by 1/√d so its size does not grow
with the dimension d), the scores go through softmax, and the answer is the weighted mean of the
values::

    αⱼ = softmax_j(q·kⱼ / √d)          out = Σⱼ αⱼ vⱼ

For a batch of queries Q (Tq, d), keys K (Tk, d) and values V (Tk, dv): ``out = softmax(Q·Kᵀ/√d)·V``.
:func:`attention` and :func:`attention_backward` compute it and its gradients for any leading
batch axes; :class:`MultiHeadSelfAttention` uses them, and so can an encoder-decoder model
(``examples/seq2seq_dates.py`` attends from the decoder's states to the encoder's).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from axon import backend
from axon import functions as F
from axon._config import as_generator, resolve_dtype
from axon.initializers import initialize
from axon.layers.base import Layer, register_layer
from axon.validation import check_int

if TYPE_CHECKING:
    from axon._config import Seed

#: The score given to a masked key: exp(−1e9 − max) is exactly 0 in float32 and float64, and a row
#: whose keys are all masked gets uniform weights instead of NaN.
MASKED_SCORE = -1e9


def attention(q: np.ndarray, k: np.ndarray, v: np.ndarray,
              allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Scaled dot-product attention: ``out = softmax(q·kᵀ/√d)·v``; returns ``(out, weights)``.

    Shapes: q (..., Tq, d), k (..., Tk, d), v (..., Tk, dv) → out (..., Tq, dv) and the weights α
    (..., Tq, Tk), each row summing to 1. ``allowed``, broadcastable to (..., Tq, Tk), is True where
    a query may look at a key (a causal mask, a padding mask); the others get weight 0.
    """
    scores = q @ np.swapaxes(k, -1, -2)
    scores *= 1.0 / math.sqrt(q.shape[-1])
    if allowed is not None:
        scores = np.where(allowed, scores, scores.dtype.type(MASKED_SCORE))
    weights = F.softmax(scores, axis=-1)
    return weights @ v, weights


def attention_backward(grad_out: np.ndarray, q: np.ndarray, k: np.ndarray, v: np.ndarray,
                       weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The gradients (∂C/∂q, ∂C/∂k, ∂C/∂v) of :func:`attention`, given ∂C/∂out and its weights α.

    With G = ∂C/∂out and S the scaled scores:
    ``∂C/∂v = αᵀ·G``, ``∂C/∂α = G·vᵀ``, ``∂C/∂S = α ⊙ (∂C/∂α − Σⱼ ∂C/∂αⱼ αⱼ)`` (softmax's backward),
    ``∂C/∂q = ∂C/∂S·k/√d``, ``∂C/∂k = ∂C/∂Sᵀ·q/√d``. Masked keys have α = 0, so they get nothing.
    """
    dv = np.swapaxes(weights, -1, -2) @ grad_out
    dA = grad_out @ np.swapaxes(v, -1, -2)
    dS = dA
    # Σⱼ ∂C/∂αⱼ αⱼ as a product with ones: NumPy's sum over a short last axis is five times slower.
    dS -= ((dA * weights) @ backend.namespace(dA).ones(dA.shape[-1], dtype=dA.dtype))[..., None]
    dS *= weights
    dS *= 1.0 / math.sqrt(q.shape[-1])
    return dS @ k, np.swapaxes(dS, -1, -2) @ q, dv


@register_layer
class MultiHeadSelfAttention(Layer):
    """Multi-head self-attention over a sequence (N, T, d_model) → (N, T, d_model), as PyTorch's
    ``nn.MultiheadAttention(d_model, num_heads, batch_first=True)`` called with query = key = value.

    Every step asks every step (itself included): one product gives queries, keys and values,
    ``[Q | K | V] = x·W_in + b_in`` (each (N, T, d)); each of the h heads attends with its own
    d/h columns, ``headⱼ = softmax(Qⱼ·Kⱼᵀ/√(d/h))·Vⱼ``, and the heads side by side go through the
    output projection, ``y = [head₁ … head_h]·W_out + b_out``.

    Parameters ``in_proj_weight`` (d, 3d) (columns: queries, keys, values), ``in_proj_bias`` (3d,),
    ``out_proj_weight`` (d, d), ``out_proj_bias`` (d,): PyTorch's transposed, so
    ``in_proj_weight = mha.in_proj_weight.T`` and ``out_proj_weight = mha.out_proj.weight.T``.

    ``causal=True``: step t attends to steps ≤ t only (a decoder, a language model). A padding mask
    (N, T) (see :mod:`axon.layers.base`) keeps every query away from the padded keys; the padded
    queries are computed as any other (their outputs are left for the next layers to ignore).

    Backward: the output projection as a Dense layer, then :func:`attention_backward` per head,
    then the input projection: ∂C/∂W_in = xᵀ·[∂C/∂Q | ∂C/∂K | ∂C/∂V], ∂C/∂x = [...]·W_inᵀ.

    Parameters
    ----------
    d_model : d, the size of each step's vector.
    num_heads : h; d must be a multiple of h.
    causal : mask the future.
    init : initializer of both weight matrices, "xavier" (default, as PyTorch) or any other; biases 0.
    dtype, seed : as for Dense (the initial weights' randomness).
    """

    supports_mask = True

    def __init__(self, d_model: int, num_heads: int, causal: bool = False, *, init: str | Callable = "xavier",
                 dtype=None, seed: Seed = None, name: str | None = None) -> None:
        super().__init__(name)
        d_model = check_int(d_model, "MultiHeadSelfAttention d_model", example=64)
        num_heads = check_int(num_heads, "MultiHeadSelfAttention num_heads", example=4)
        if d_model % num_heads:
            raise ValueError(f"MultiHeadSelfAttention: d_model={d_model} is not a multiple of "
                             f"num_heads={num_heads}; each head takes d_model / num_heads columns")
        self.d_model, self.num_heads, self.causal = int(d_model), int(num_heads), bool(causal)
        self.init = init
        dt = resolve_dtype(dtype)
        rng = as_generator(seed)
        d = self.d_model
        # PyTorch draws the (3d, d) in-projection as one Glorot matrix: the fans are d and 3d.
        self.in_proj_weight = self.add_parameter("in_proj_weight", initialize(init, (d, 3 * d), rng, dt))
        self.in_proj_bias = self.add_parameter("in_proj_bias", np.zeros(3 * d, dtype=dt))
        self.out_proj_weight = self.add_parameter("out_proj_weight", initialize(init, (d, d), rng, dt))
        self.out_proj_bias = self.add_parameter("out_proj_bias", np.zeros(d, dtype=dt))
        self._cache: tuple[np.ndarray, ...] | None = None

    def _allowed(self, T: int, mask: np.ndarray | None, like: np.ndarray) -> np.ndarray | None:
        """Where a query may attend, broadcastable to (N, heads, T, T), on ``like``'s device; None
        for everywhere."""
        xp = backend.namespace(like)
        allowed = xp.tril(xp.ones((T, T), dtype=bool)) if self.causal else None
        if mask is not None:
            keys = mask[:, None, None, :]                     # (N, 1, 1, T): padded keys are off
            allowed = keys if allowed is None else keys & allowed
        return allowed

    def forward(self, x: np.ndarray, training: bool = False, mask: np.ndarray | None = None) -> np.ndarray:
        d, h = self.d_model, self.num_heads
        if x.ndim != 3 or x.shape[2] != d:
            raise ValueError(f"{self.name} expects input of shape (n, steps, {d}), got {x.shape}")
        W = self.in_proj_weight.data
        if x.dtype != W.dtype:
            x = x.astype(W.dtype)
        N, T, _ = x.shape
        if mask is not None and mask.shape != (N, T):
            raise ValueError(f"{self.name}: mask of shape {mask.shape} does not match the input's (N, T) = {(N, T)}")
        x2 = x.reshape(N * T, d)
        qkv = x2 @ W
        qkv += self.in_proj_bias.data
        # (N·T, 3d) → (3, N, heads, T, d/h): queries, keys, values, each head's columns together.
        q, k, v = backend.namespace(qkv).ascontiguousarray(qkv.reshape(N, T, 3, h, d // h).transpose(2, 0, 3, 1, 4))
        heads, weights = attention(q, k, v, self._allowed(T, mask, qkv))
        concat = heads.transpose(0, 2, 1, 3).reshape(N * T, d)
        y = concat @ self.out_proj_weight.data
        y += self.out_proj_bias.data
        self._cache = (x2, q, k, v, weights, concat)
        return y.reshape(N, T, d)

    @property
    def attention_weights(self) -> np.ndarray | None:
        """α of the last forward, (N, heads, T, T): row t says where step t looked."""
        return None if self._cache is None else self._cache[4]

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        assert self._cache is not None, "backward before forward"
        x2, q, k, v, weights, concat = self._cache
        N, h, T, dh = q.shape
        d = self.d_model
        g = grad_y.reshape(N * T, d)
        self.out_proj_weight.accumulate_matmul(concat.T, g)
        self.out_proj_bias.accumulate(g.sum(axis=0))
        dheads = (g @ self.out_proj_weight.data.T).reshape(N, T, h, dh).transpose(0, 2, 1, 3)
        dq, dk, dv = attention_backward(dheads, q, k, v, weights)
        dqkv = backend.namespace(dq).empty((N, T, 3, h, dh), dtype=dq.dtype)  # back to the columns [Q | K | V]
        for i, part in enumerate((dq, dk, dv)):
            dqkv[:, :, i] = part.transpose(0, 2, 1, 3)
        dqkv = dqkv.reshape(N * T, 3 * d)
        self.in_proj_weight.accumulate_matmul(x2.T, dqkv)
        self.in_proj_bias.accumulate(dqkv.sum(axis=0))
        return (dqkv @ self.in_proj_weight.data.T).reshape(N, T, d)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        if len(input_shape) != 2 or input_shape[1] != self.d_model:
            raise ValueError(f"{self.name} expects samples of shape (steps, {self.d_model}), "
                             f"got {tuple(input_shape)}")
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"d_model": self.d_model, "num_heads": self.num_heads, "causal": self.causal}
        if isinstance(self.init, str):
            config["init"] = self.init
        return config
