"""Recurrent layers: RNN (tanh), LSTM and GRU over batch-first sequences (N, T, D).

A recurrent layer applies the same cell at every step t = 1 … T, feeding it the step's input
xₜ and its own previous state hₜ₋₁ (and cₜ₋₁ for the LSTM)::

    hₜ = cell(xₜ, hₜ₋₁)          h₀ = 0 or a given initial state

Parameters follow PyTorch's layouts in axon's row-vector convention (``weight_ih`` is PyTorch's
``weight_ih_l0`` transposed), gates side by side in PyTorch's order, G of them:

    weight_ih (input_size, G·hidden)   weight_hh (hidden, G·hidden)   bias_ih, bias_hh (G·hidden,)
    RNN  G = 1                         LSTM G = 4: i, f, g, o         GRU G = 3: r, z, n

**Backpropagation through time (BPTT).** Unrolled over the T steps, the layer is a deep network
whose layers share one set of weights. Backward walks the steps in reverse: at step t the
gradient reaching hₜ is what the output yₜ receives plus what hₜ₊₁ passed back, the cell turns
it into the gradients of its gates, and those give ∂C/∂hₜ₋₁ for the step before. The weights'
gradients are the sums over the steps; they are computed after the walk as three matrix
products over all T·N rows at once (the per-step work is only ∂C/∂hₜ₋₁ = δₜ·W_hhᵀ). In the same
way the input's contribution x·W_ih of every step is one product before the walk.

At each step backward multiplies the gradient by W_hhᵀ and by the derivative of a squashing
function, so over many steps it shrinks (or grows) geometrically: the vanishing gradient of a
plain RNN (``axon demo rnn-vanishing``). The LSTM's cell state cₜ = f ⊙ cₜ₋₁ + i ⊙ g is passed on
by a product with the forget gate only, so its gradient can survive many steps.

**Truncated BPTT.** With ``stateful=True`` each forward starts from the final state of the
previous one (the state is carried between batches, as DeZero does), but backward stops at the
start of the batch: feed a long series in consecutive chunks
(:func:`axon.data.sequences.bptt_batches`) and call :meth:`reset_state` (or
:func:`reset_states` on a model) at the start of each pass over the series.

**Padding masks.** Given a mask (N, T), True at real steps (see :mod:`axon.layers.base`), a
padded step leaves the state unchanged (hₜ = hₜ₋₁, cₜ = cₜ₋₁) and outputs 0, so the last state is
the state after each sequence's last real step wherever the padding is, and a right-padded
batch gives what PyTorch's packed sequences give.
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

State = np.ndarray | tuple[np.ndarray, ...]


class _Recurrent(Layer):
    """What RNN, LSTM and GRU share: parameters, input checks, states, the products over all steps.

    A subclass sets ``_gates`` (G) and ``_n_states`` (1, or 2 for the LSTM) and writes out its
    cell: ``_run(XW, states0, m)`` walks the steps forward, ``_bptt(dY, dstates, m)`` walks them
    back and returns the gate gradients and ∂C/∂(initial states).
    """

    supports_mask = True
    _gates = 1
    _n_states = 1

    def __init__(self, input_size: int, hidden_size: int, return_sequences: bool = False, *,
                 stateful: bool = False, init: str | Callable | None = None, dtype=None,
                 seed: Seed = None, name: str | None = None) -> None:
        super().__init__(name)
        kind = type(self).__name__
        self.input_size = check_int(input_size, f"{kind} input_size", example=8)
        self.hidden_size = check_int(hidden_size, f"{kind} hidden_size", example=32)
        self.return_sequences, self.stateful = bool(return_sequences), bool(stateful)
        self.init = init
        dt = resolve_dtype(dtype)
        rng = as_generator(seed)
        D, H, GH = self.input_size, self.hidden_size, self._gates * self.hidden_size
        if init is None:
            # PyTorch's default: every weight and bias U(−1/√H, 1/√H).
            k = 1.0 / math.sqrt(H)
            draw = [rng.uniform(-k, k, size=s).astype(dt) for s in ((D, GH), (H, GH), (GH,), (GH,))]
        else:
            draw = [initialize(init, (D, GH), rng, dt), initialize(init, (H, GH), rng, dt),
                    np.zeros(GH, dtype=dt), np.zeros(GH, dtype=dt)]
        self.weight_ih = self.add_parameter("weight_ih", draw[0])
        self.weight_hh = self.add_parameter("weight_hh", draw[1])
        self.bias_ih = self.add_parameter("bias_ih", draw[2])
        self.bias_hh = self.add_parameter("bias_hh", draw[3])
        #: The state after the last forward's final step: h (N, H), or (h, c) for the LSTM.
        self.state: State | None = None
        #: ∂C/∂(initial state) after backward, shaped as the state (zeros when none was given).
        self.grad_initial_state: State | None = None
        self._cache: dict[str, Any] = {}

    # -- states ----------------------------------------------------------------------------------
    def reset_state(self) -> None:
        """Forget the carried state: the next forward of a stateful layer starts from zeros."""
        self.state = None

    def _initial_states(self, initial_state: State | None, N: int, like: np.ndarray) -> list[np.ndarray]:
        """h₀ (and c₀) as a list, in ``like``'s dtype and on its device (a weight of the layer)."""
        H = self.hidden_size
        if initial_state is None and self.stateful and self.state is not None:
            initial_state = self.state
            carried = self._as_list(initial_state)[0]
            if carried.shape[0] != N:
                raise ValueError(f"{self.name} is stateful and carries a state for {carried.shape[0]} "
                                 f"sequences, but the batch has {N}; keep the batch size fixed or call "
                                 f"reset_state() first")
        if initial_state is None:
            xp = backend.namespace(like)
            return [xp.zeros((N, H), dtype=like.dtype) for _ in range(self._n_states)]
        states = self._as_list(initial_state)
        if len(states) != self._n_states:
            what = "a pair (h0, c0)" if self._n_states == 2 else "one array h0"
            raise ValueError(f"{self.name}: initial_state must be {what} of shape ({N}, {H})")
        out = []
        for s in states:
            s = backend.to_device_of(s, like)
            if s.shape != (N, H):
                raise ValueError(f"{self.name}: initial state of shape {s.shape}, expected ({N}, {H})")
            out.append(s.astype(like.dtype, copy=False))
        return out

    def _as_list(self, state: State) -> list[np.ndarray]:
        if self._n_states == 1:
            return [state[0] if isinstance(state, tuple) and len(state) == 1 else state]  # type: ignore[list-item]
        return list(state)

    def _as_state(self, arrays: list[np.ndarray]) -> State:
        return arrays[0] if self._n_states == 1 else tuple(arrays)

    # -- forward and backward over all steps -------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = False, mask: np.ndarray | None = None,
                initial_state: State | None = None) -> np.ndarray:
        """Run the T steps: (N, T, input_size) → (N, T, hidden) or the last state (N, hidden).

        ``mask`` (N, T) marks the real steps (see the module doc); ``initial_state`` is h₀ (N, H),
        or (h₀, c₀) for the LSTM; without it h₀ = 0, or the carried state of a stateful layer.
        """
        W = self.weight_ih.data
        if x.ndim != 3 or x.shape[2] != self.input_size:
            raise ValueError(f"{self.name} expects input of shape (n, steps, {self.input_size}), got {x.shape}")
        if x.dtype != W.dtype:
            x = x.astype(W.dtype)
        N, T, D = x.shape
        if T < 1:
            raise ValueError(f"{self.name} got sequences of length 0; pass at least one step")
        states0 = self._initial_states(initial_state, N, W)
        xp = backend.namespace(W)
        m = None
        if mask is not None:
            if mask.shape != (N, T):
                raise ValueError(f"{self.name}: mask of shape {mask.shape} does not match the input's (N, T) = {(N, T)}")
            m = xp.ascontiguousarray(mask.T, dtype=W.dtype)[:, :, None]     # (T, N, 1)
        # Time-major (T, N, ·) so that every step reads and writes contiguous rows.
        xs = xp.ascontiguousarray(x.transpose(1, 0, 2)).reshape(T * N, D)
        XW = (xs @ self._walk(W)).reshape(T, N, -1)                         # x·W_ih for all steps at once
        XW += self._walk(self._input_bias())
        hs, finals = self._run(XW, self._walk(self.weight_hh.data), states0, m)  # hs (T+1, N, H), hs[0] = h0
        self._cache.update(xs=xs, hs=hs, m=m, shape=x.shape)
        self.state = self._as_state([f.copy() for f in finals])
        if not self.return_sequences:
            return finals[0].copy()
        ys = hs[1:] if m is None else hs[1:] * m                            # padded steps output 0
        return xp.ascontiguousarray(ys.transpose(1, 0, 2))

    def _input_bias(self) -> np.ndarray:
        """The bias added to x·W_ih before the walk: b_ih + b_hh (the GRU keeps part of b_hh apart)."""
        return self.bias_ih.data + self.bias_hh.data

    # The walk works on the gates in its own column order (the LSTM puts its three sigmoid gates
    # side by side), with the sigmoid gates' pre-activations halved: then one tanh call per step
    # gives tanh(z) for the tanh gates and tanh(z/2) for the others, σ(z) = ½(1 + tanh(z/2))
    # (functions.sigmoid_from_half_tanh), a third of the transcendental calls NumPy would make.
    _order: tuple[int, ...] = ()                    # internal gate k is parameter gate _order[k]
    _halved = 0                                     # the first _halved internal gates are sigmoids

    def _internal(self, w: np.ndarray) -> np.ndarray:
        """Columns (…, G·H) of a parameter in the walk's gate order."""
        if not self._order:
            return w
        H = self.hidden_size
        return backend.namespace(w).concatenate([w[..., k * H:(k + 1) * H] for k in self._order], axis=-1)

    def _external(self, g: np.ndarray) -> np.ndarray:
        """Columns in the walk's order back in the parameters' (PyTorch's) gate order."""
        if not self._order:
            return g
        H = self.hidden_size
        out = np.empty_like(g)
        for j, k in enumerate(self._order):
            out[..., k * H:(k + 1) * H] = g[..., j * H:(j + 1) * H]
        return out

    def _walk(self, w: np.ndarray) -> np.ndarray:
        """Columns (…, G·H) of a parameter as the walk takes them: in its gate order, the sigmoid
        gates' halved. One new array, or ``w`` itself when nothing changes (the RNN)."""
        if not self._order and not self._halved:
            return w
        H = self.hidden_size
        out = backend.namespace(w).empty_like(w)
        for j, k in enumerate(self._order or range(self._gates)):
            np.multiply(w[..., k * H:(k + 1) * H], 0.5 if j < self._halved else 1.0,
                        out=out[..., j * H:(j + 1) * H])
        return out

    def backward(self, grad_y: np.ndarray, grad_state: State | None = None) -> np.ndarray:
        """BPTT over the whole sequence; returns ∂C/∂x (N, T, input_size).

        ``grad_state`` is an optional ∂C/∂(final state) from outside (a decoder started from this
        layer's state). ∂C/∂(initial state) is left in :attr:`grad_initial_state`.
        """
        c = self._cache
        N, T, D = c["shape"]
        H = self.hidden_size
        xp = backend.namespace(grad_y)
        dfinal = [xp.zeros((N, H), dtype=grad_y.dtype) for _ in range(self._n_states)]
        if grad_state is not None:
            for d, g in zip(dfinal, self._as_list(grad_state)):
                d += g
        if self.return_sequences:
            dY = xp.ascontiguousarray(grad_y.transpose(1, 0, 2))             # (T, N, H)
            if c["m"] is not None:
                dY = dY * c["m"]
        else:
            dY = None
            dfinal[0] += grad_y
        # The weights in the walk's gate order, not halved (the gate gradients are the full
        # pre-activations'); made here, not kept from forward, so inference never makes them.
        W_ih, W_hh = self._internal(self.weight_ih.data), self._internal(self.weight_hh.data)
        dGx, dGh, dstates0 = self._bptt(dY, dfinal, c["m"], W_hh.T)
        self.grad_initial_state = self._as_state(dstates0)
        # The weights' gradients: sums over all steps, each one product over the T·N rows.
        GH = self._gates * H
        dGx2, dGh2 = dGx.reshape(T * N, GH), dGh.reshape(T * N, GH)
        hs = c["hs"][:-1].reshape(T * N, H)
        if self._order:
            self.weight_ih.accumulate(self._external(c["xs"].T @ dGx2))
            self.weight_hh.accumulate(self._external(hs.T @ dGh2))
        else:
            self.weight_ih.accumulate_matmul(c["xs"].T, dGx2)              # Σₜ xₜᵀ·δₜ
            self.weight_hh.accumulate_matmul(hs.T, dGh2)                   # Σₜ hₜ₋₁ᵀ·δₜ
        db = self._external(dGx2.sum(axis=0))
        self.bias_ih.accumulate(db)
        self.bias_hh.accumulate(db if dGh is dGx else self._external(dGh2.sum(axis=0)))
        dx = dGx2 @ W_ih.T
        return xp.ascontiguousarray(dx.reshape(T, N, D).transpose(1, 0, 2))

    def _run(self, XW: np.ndarray, W_hh: np.ndarray, states0: list[np.ndarray],
             m: np.ndarray | None) -> tuple[np.ndarray, list[np.ndarray]]:
        """Walk the steps forward; ``XW`` and ``W_hh`` are in the walk's order, sigmoid gates halved."""
        raise NotImplementedError

    def _bptt(self, dY: np.ndarray | None, dfinal: list[np.ndarray], m: np.ndarray | None,
              W_hh_T: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        """Walk the steps back; returns the gate gradients (input side, hidden side) and ∂C/∂(states₀)."""
        raise NotImplementedError

    # -- description ------------------------------------------------------------------------------
    def compute_mask(self, x: np.ndarray, mask: np.ndarray | None) -> np.ndarray | None:
        return mask if self.return_sequences else None

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        if len(input_shape) != 2 or input_shape[1] != self.input_size:
            raise ValueError(f"{self.name} expects samples of shape (steps, {self.input_size}), "
                             f"got {tuple(input_shape)}")
        return (input_shape[0], self.hidden_size) if self.return_sequences else (self.hidden_size,)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"input_size": self.input_size, "hidden_size": self.hidden_size,
                                  "return_sequences": self.return_sequences, "stateful": self.stateful}
        if isinstance(self.init, str):
            config["init"] = self.init
        return config


def _blend(new: np.ndarray, old: np.ndarray, m: np.ndarray) -> None:
    """new ← m·new + (1 − m)·old in place: a padded step (m = 0) keeps the old state."""
    new -= old
    new *= m
    new += old


@register_layer
class RNN(_Recurrent):
    """The plain (Elman) recurrent layer: ``hₜ = tanh(xₜ·W_ih + b_ih + hₜ₋₁·W_hh + b_hh)``.

    Shapes: x (N, T, input_size) → (N, T, hidden_size) with ``return_sequences=True``, else the
    last state h_T (N, hidden_size). Parameters ``weight_ih`` (input_size, hidden),
    ``weight_hh`` (hidden, hidden), ``bias_ih``, ``bias_hh`` (hidden,): PyTorch's ``nn.RNN``
    transposed. Default initialisation as PyTorch, U(−1/√H, 1/√H); ``init`` picks another for the
    weights (biases then start at 0).

    BPTT, with aₜ the pre-activation and δₜ = ∂C/∂aₜ:
    ``δₜ = (∂C/∂yₜ + δₜ₊₁·W_hhᵀ) ⊙ (1 − hₜ²)``; ∂C/∂W_hh = Σₜ hₜ₋₁ᵀ·δₜ, ∂C/∂W_ih = Σₜ xₜᵀ·δₜ,
    ∂C/∂b = Σₜ δₜ, ∂C/∂xₜ = δₜ·W_ihᵀ.

    Parameters
    ----------
    input_size, hidden_size : D and H.
    return_sequences : output every step (N, T, H) or only the last state (N, H).
    stateful : carry the final state into the next forward (truncated BPTT; see the module doc).
    init : None (PyTorch's default) or an initializer name or callable for both weight matrices.
    dtype, seed : as for Dense (the initial weights' randomness).
    """

    def _run(self, XW, W_hh, states0, m):
        T, N, H = XW.shape
        xp = backend.namespace(XW)
        hs = xp.empty((T + 1, N, H), dtype=XW.dtype)
        hs[0] = states0[0]
        for t in range(T):
            h = hs[t + 1]
            xp.matmul(hs[t], W_hh, out=h)
            h += XW[t]
            np.tanh(h, out=h)                             # hₜ = tanh(xₜW_ih + hₜ₋₁W_hh + b)
            if m is not None:
                _blend(h, hs[t], m[t])
        return hs, [hs[T]]

    def _bptt(self, dY, dfinal, m, W_hh_T):
        hs = self._cache["hs"]
        T = hs.shape[0] - 1
        dA = backend.namespace(dfinal[0]).empty((T, *dfinal[0].shape), dtype=dfinal[0].dtype)
        dh = dfinal[0]                                    # ∂C/∂hₜ from the steps after t
        for t in reversed(range(T)):
            g = dh if dY is None else dh + dY[t]
            if m is not None:
                keep = dh * (1 - m[t])                    # a padded step passes its gradient straight back
                g = g * m[t]
            h = hs[t + 1]
            np.multiply(h, h, out=dA[t])
            np.subtract(1, dA[t], out=dA[t])
            dA[t] *= g                                    # δₜ = ∂C/∂hₜ ⊙ tanh′ = ∂C/∂hₜ ⊙ (1 − hₜ²)
            dh = dA[t] @ W_hh_T                           # ∂C/∂hₜ₋₁ = δₜ·W_hhᵀ
            if m is not None:
                dh += keep
        return dA, dA, [dh]


@register_layer
class LSTM(_Recurrent):
    """Long short-term memory (Hochreiter & Schmidhuber, 1997), as PyTorch's ``nn.LSTM``.

    With aₜ = xₜ·W_ih + b_ih + hₜ₋₁·W_hh + b_hh (N, 4H), split into four gates in PyTorch's order::

        i = σ(aᵢ)   f = σ(a_f)   g = tanh(a_g)   o = σ(a_o)
        cₜ = f ⊙ cₜ₋₁ + i ⊙ g          (the cell state: what to forget, what to write)
        hₜ = o ⊙ tanh(cₜ)              (what to show)

    Shapes: x (N, T, input_size) → (N, T, hidden_size) (``return_sequences=True``) or h_T (N, hidden_size);
    the state is the pair (h, c). Parameters ``weight_ih`` (input_size, 4H), ``weight_hh`` (H, 4H),
    ``bias_ih``, ``bias_hh`` (4H,): PyTorch's transposed, so ``weight_ih = lstm.weight_ih_l0.T``.

    BPTT at step t, given ∂C/∂hₜ (from yₜ and step t+1) and ∂C/∂cₜ (from step t+1)::

        ∂C/∂o = ∂C/∂hₜ ⊙ tanh(cₜ)
        ∂C/∂cₜ += ∂C/∂hₜ ⊙ o ⊙ (1 − tanh²(cₜ))
        ∂C/∂i = ∂C/∂cₜ ⊙ g     ∂C/∂g = ∂C/∂cₜ ⊙ i     ∂C/∂f = ∂C/∂cₜ ⊙ cₜ₋₁
        ∂C/∂cₜ₋₁ = ∂C/∂cₜ ⊙ f
        δₜ = [∂C/∂i ⊙ i(1−i), ∂C/∂f ⊙ f(1−f), ∂C/∂g ⊙ (1−g²), ∂C/∂o ⊙ o(1−o)]
        ∂C/∂hₜ₋₁ = δₜ·W_hhᵀ

    Parameters as :class:`RNN`.
    """

    _gates = 4
    _n_states = 2
    _order = (0, 1, 3, 2)   # the walk's order i, f, o, g: the three sigmoid gates side by side
    _halved = 3

    def _run(self, XW, W_hh, states0, m):
        T, N, G = XW.shape
        H = G // 4
        xp = backend.namespace(XW)
        gates = xp.empty((T, N, G), dtype=XW.dtype)         # i, f, o, g after their squashing
        hs = xp.empty((T + 1, N, H), dtype=XW.dtype)
        cs = xp.empty((T + 1, N, H), dtype=XW.dtype)
        tcs = xp.empty((T, N, H), dtype=XW.dtype)          # tanh(cₜ)
        hs[0], cs[0] = states0
        for t in range(T):
            a = gates[t]
            xp.matmul(hs[t], W_hh, out=a)
            a += XW[t]                                     # aₜ = xₜW_ih + hₜ₋₁W_hh + b (i, f, o halved)
            np.tanh(a, out=a)
            F.sigmoid_from_half_tanh(a[:, :3 * H])         # i, f, o = σ(·); g = tanh(·)
            i, f, o, g = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            c = cs[t + 1]
            np.multiply(f, cs[t], out=c)
            c += i * g                                     # cₜ = f ⊙ cₜ₋₁ + i ⊙ g
            if m is not None:
                _blend(c, cs[t], m[t])
            np.tanh(c, out=tcs[t])
            h = hs[t + 1]
            np.multiply(o, tcs[t], out=h)                  # hₜ = o ⊙ tanh(cₜ)
            if m is not None:
                _blend(h, hs[t], m[t])
        self._cache.update(gates=gates, cs=cs, tcs=tcs)
        return hs, [hs[T], cs[T]]

    def _bptt(self, dY, dfinal, m, W_hh_T):
        c = self._cache
        gates, cs, tcs = c["gates"], c["cs"], c["tcs"]
        T, N, G = gates.shape
        H = G // 4
        dG = np.empty_like(gates)
        dh, dc = dfinal
        for t in reversed(range(T)):
            gh = dh if dY is None else dh + dY[t]          # ∂C/∂hₜ
            gc = dc                                        # ∂C/∂cₜ from step t+1
            if m is not None:
                keep_h, keep_c = dh * (1 - m[t]), dc * (1 - m[t])
                gh, gc = gh * m[t], gc * m[t]
            a = gates[t]
            i, f, o, g = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            tc = tcs[t]
            d = dG[t]
            np.multiply(gh, tc, out=d[:, 2 * H:3 * H])                 # ∂C/∂o
            dtc = tc * tc
            np.subtract(1, dtc, out=dtc)
            dtc *= o
            dtc *= gh
            gc = dtc + gc                                              # ∂C/∂cₜ
            np.multiply(gc, g, out=d[:, :H])                           # ∂C/∂i
            np.multiply(gc, cs[t], out=d[:, H:2 * H])                  # ∂C/∂f
            np.multiply(gc, i, out=d[:, 3 * H:])                       # ∂C/∂g
            dc = gc * f                                                # ∂C/∂cₜ₋₁
            # Through the squashing functions: σ′ = s(1 − s) for i, f, o; tanh′ = 1 − g² for g.
            sig = a[:, :3 * H]
            ds = 1 - sig
            ds *= sig
            d[:, :3 * H] *= ds
            dg = g * g
            np.subtract(1, dg, out=dg)
            d[:, 3 * H:] *= dg
            dh = d @ W_hh_T                                            # ∂C/∂hₜ₋₁ = δₜ·W_hhᵀ
            if m is not None:
                dh += keep_h
                dc += keep_c
        return dG, dG, [dh, dc]


@register_layer
class GRU(_Recurrent):
    """Gated recurrent unit (Cho et al., 2014), as PyTorch's ``nn.GRU``; gates in its order r, z, n::

        r = σ(xₜW_ir + b_ir + hₜ₋₁W_hr + b_hr)            (reset)
        z = σ(xₜW_iz + b_iz + hₜ₋₁W_hz + b_hz)            (update)
        n = tanh(xₜW_in + b_in + r ⊙ (hₜ₋₁W_hn + b_hn))   (candidate)
        hₜ = (1 − z) ⊙ n + z ⊙ hₜ₋₁

    Shapes as :class:`RNN`. Parameters ``weight_ih`` (input_size, 3H), ``weight_hh`` (H, 3H),
    ``bias_ih``, ``bias_hh`` (3H,), PyTorch's transposed. b_hn stays inside the product with r,
    so b_hh is not simply added to b_ih for the n gate.

    BPTT at step t, with ĥ = hₜ₋₁W_hn + b_hn and ∂C/∂hₜ given::

        ∂C/∂n = ∂C/∂hₜ ⊙ (1 − z)      ∂C/∂z = ∂C/∂hₜ ⊙ (hₜ₋₁ − n)
        δₙ = ∂C/∂n ⊙ (1 − n²)          ∂C/∂r = δₙ ⊙ ĥ           ∂C/∂ĥ = δₙ ⊙ r
        δ_r = ∂C/∂r ⊙ r(1 − r)         δ_z = ∂C/∂z ⊙ z(1 − z)
        input side [δ_r, δ_z, δₙ] (for W_ih, b_ih), hidden side [δ_r, δ_z, ∂C/∂ĥ] (for W_hh, b_hh)
        ∂C/∂hₜ₋₁ = ∂C/∂hₜ ⊙ z + [δ_r, δ_z, ∂C/∂ĥ]·W_hhᵀ

    Parameters as :class:`RNN`.
    """

    _gates = 3

    def _input_bias(self) -> np.ndarray:
        b = self.bias_ih.data.copy()
        H = self.hidden_size
        b[:2 * H] += self.bias_hh.data[:2 * H]          # r and z: both biases simply add
        return b

    _halved = 2             # r and z are sigmoid gates

    def _run(self, XW, W_hh, states0, m):
        b_hn = self.bias_hh.data[2 * self.hidden_size:]
        T, N, G = XW.shape
        H = G // 3
        xp = backend.namespace(XW)
        gates = xp.empty((T, N, G), dtype=XW.dtype)       # r, z, n
        hhat = xp.empty((T, N, H), dtype=XW.dtype)        # ĥ = hₜ₋₁W_hn + b_hn
        hs = xp.empty((T + 1, N, H), dtype=XW.dtype)
        hs[0] = states0[0]
        for t in range(T):
            hW = hs[t] @ W_hh
            a = gates[t]
            rz = a[:, :2 * H]
            np.add(XW[t, :, :2 * H], hW[:, :2 * H], out=rz)  # halved pre-activations of r and z
            F.sigmoid_from_half_tanh(np.tanh(rz, out=rz))   # r, z
            r, z, n = a[:, :H], a[:, H:2 * H], a[:, 2 * H:]
            np.add(hW[:, 2 * H:], b_hn, out=hhat[t])
            np.multiply(r, hhat[t], out=n)
            n += XW[t, :, 2 * H:]
            np.tanh(n, out=n)                              # n = tanh(xW_in + b_in + r ⊙ ĥ)
            h = hs[t + 1]
            np.subtract(hs[t], n, out=h)
            h *= z
            h += n                                         # hₜ = n + z ⊙ (hₜ₋₁ − n)
            if m is not None:
                _blend(h, hs[t], m[t])
        self._cache.update(gates=gates, hhat=hhat)
        return hs, [hs[T]]

    def _bptt(self, dY, dfinal, m, W_hh_T):
        c = self._cache
        gates, hhat, hs = c["gates"], c["hhat"], c["hs"]
        T, N, G = gates.shape
        H = G // 3
        dGx = np.empty_like(gates)
        dGh = np.empty_like(gates)
        dh = dfinal[0]
        for t in reversed(range(T)):
            gh = dh if dY is None else dh + dY[t]          # ∂C/∂hₜ
            if m is not None:
                keep = dh * (1 - m[t])
                gh = gh * m[t]
            a = gates[t]
            r, z, n = a[:, :H], a[:, H:2 * H], a[:, 2 * H:]
            dx, dhh = dGx[t], dGh[t]
            dn = gh * (1 - z)
            np.multiply(dn, 1 - n * n, out=dx[:, 2 * H:])               # δₙ
            np.multiply(dx[:, 2 * H:], r, out=dhh[:, 2 * H:])           # ∂C/∂ĥ
            np.multiply(dx[:, 2 * H:], hhat[t], out=dx[:, :H])          # ∂C/∂r
            dx[:, :H] *= r * (1 - r)                                    # δ_r
            np.subtract(hs[t], n, out=dx[:, H:2 * H])
            dx[:, H:2 * H] *= gh
            dx[:, H:2 * H] *= z * (1 - z)                               # δ_z
            dhh[:, :2 * H] = dx[:, :2 * H]
            dh = gh * z
            dh += dhh @ W_hh_T                                          # ∂C/∂hₜ₋₁
            if m is not None:
                dh += keep
        return dGx, dGh, [dh]


def reset_states(model: Any) -> None:
    """Call ``reset_state()`` on every recurrent layer of ``model`` (a Sequential, a layer or a list).

    Start of an epoch of truncated BPTT: the carried states go back to zeros.
    """
    layers = model.layers if hasattr(model, "layers") else model if isinstance(model, (list, tuple)) else [model]
    for layer in layers:
        if isinstance(layer, _Recurrent):
            layer.reset_state()
        elif hasattr(layer, "layers"):
            reset_states(layer)
