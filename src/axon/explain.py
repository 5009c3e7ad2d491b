"""Looking inside: one recorded forward and backward pass of a model, :func:`trace`.

``ax.trace(model, loss, X, y)`` runs the batch forward through every layer, then backpropagates the
loss's gradient, and keeps, for each layer, what went in and out in both directions. For a Dense
layer ``z = a·W + b`` the record holds the course's quantities:

- ``input``        aˡ⁻¹, the activations the layer receives, shape (n, in_features)
- ``output``       zˡ, the weighted input, shape (n, out_features)
- ``grad_output``  δˡ = ∂C/∂zˡ, the error of the layer (BP1 for the last layer, BP2 for the others)
- ``param_grads``  {"bias": Σₙ δˡ (BP3), "weight": (aˡ⁻¹)ᵀ·δˡ (BP4)}
- ``grad_input``   ∂C/∂aˡ⁻¹ = δˡ·Wᵀ, which the activation before it turns into δˡ⁻¹ (BP2)

Nothing in the model changes: parameter values, their ``.grad`` (values *and* the "nothing
accumulated yet" flag), buffers, the random generators of Dropout layers and any optimizer state are
the same after the call as before it.

:class:`axon.callbacks.GradientStats` records gradient norms per epoch during training instead.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from axon.layers.base import Layer, forward_masked
from axon.losses import Loss, get_loss
from axon.model import Sequential

#: A sigmoid unit counts as saturated when its output is below this or above 1 minus this:
#: there σ′(z) = a(1 − a) < 0.0099, under 4% of its largest value ¼, so it barely learns.
SIGMOID_SATURATION = 0.01
#: A tanh unit counts as saturated when |a| > 0.99: there tanh′(z) = 1 − a² < 0.02.
TANH_SATURATION = 0.99


@dataclass
class TraceRecord:
    """What one layer saw in one forward and backward pass (arrays of the batch, not copies of views).

    Attributes
    ----------
    name : the layer's name, e.g. ``"dense_1"``.
    layer : the layer object itself.
    input : the layer's input, shape (n, …).
    output : the layer's output, shape (n, …); for a Dense layer zˡ, for an activation aˡ.
    grad_output : ∂C/∂output, same shape as ``output``; for a Dense layer the course's δˡ = ∂C/∂zˡ.
    grad_input : ∂C/∂input, same shape as ``input``.
    param_grads : ``{"weight": ∂C/∂W, "bias": ∂C/∂b}`` for this pass alone (empty for layers without
        parameters). These are the full gradients that ``backward`` puts into ``.grad``: with an l1 or
        l2 penalty on the layer, its gradient is included, so BP4 holds for the loss term only.
    """

    name: str
    layer: Layer
    input: np.ndarray
    output: np.ndarray
    grad_output: np.ndarray
    grad_input: np.ndarray
    param_grads: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """The layer's class name, e.g. ``"Dense"``."""
        return type(self.layer).__name__

    @property
    def weight_grad_norm(self) -> float | None:
        """‖∂C/∂W‖ (Frobenius norm of the "weight" gradient), None for a layer without weights."""
        g = self.param_grads.get("weight")
        return None if g is None else float(np.linalg.norm(g))

    @property
    def saturated_fraction(self) -> float | None:
        """Fraction of a Sigmoid or Tanh layer's outputs (all samples, all units) near an asymptote.

        Sigmoid: a < 0.01 or a > 0.99 (:data:`SIGMOID_SATURATION`); Tanh: |a| > 0.99
        (:data:`TANH_SATURATION`). None for other layers.
        """
        a = self.output
        if self.kind == "Sigmoid":
            return float(np.mean((a < SIGMOID_SATURATION) | (a > 1 - SIGMOID_SATURATION)))
        if self.kind == "Tanh":
            return float(np.mean(np.abs(a) > TANH_SATURATION))
        return None

    @property
    def dead_fraction(self) -> float | None:
        """Fraction of a ReLU layer's units whose output is 0 for every sample of the batch.

        A unit is one position of the per-sample output (a feature, or a channel-pixel for images).
        Such a unit passes no gradient back (ReLU′ = 0), so its incoming weights stop learning.
        None for other layers.
        """
        if self.kind != "ReLU":
            return None
        return float(np.mean(np.all(self.output == 0, axis=0)))


class Trace:
    """The records of :func:`trace`, one per layer in order; iterable, indexable (by position or
    layer name) and sized. ``loss`` is the mean loss of the batch (without penalties) and
    ``penalty`` the model's regularisation term. ``print(trace)`` shows the table.
    """

    def __init__(self, records: list[TraceRecord], loss: float, penalty: float = 0.0) -> None:
        self.records = records
        self.loss = loss
        self.penalty = penalty

    def __iter__(self) -> Iterator[TraceRecord]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, key: int | str) -> TraceRecord:
        if isinstance(key, str):
            for r in self.records:
                if r.name == key:
                    return r
            raise KeyError(f"no layer named {key!r}; layers are {', '.join(r.name for r in self.records)}")
        return self.records[key]

    def rows(self) -> list[dict[str, Any]]:
        """The table as data: one dict per layer with name, kind, input/output shapes (per sample),
        ``a_norm`` ‖output‖, ``delta_norm`` ‖∂C/∂output‖, ``grad_norm`` ‖∂C/∂W‖ (or None),
        ``saturated`` and ``dead`` fractions (or None). Norms are Frobenius norms over the batch.
        """
        return [{"name": r.name, "kind": r.kind, "input_shape": tuple(r.input.shape[1:]),
                 "output_shape": tuple(r.output.shape[1:]), "a_norm": float(np.linalg.norm(r.output)),
                 "delta_norm": float(np.linalg.norm(r.grad_output)), "grad_norm": r.weight_grad_norm,
                 "saturated": r.saturated_fraction, "dead": r.dead_fraction} for r in self.records]

    def __str__(self) -> str:
        head = ("layer", "in → out", "‖a‖", "‖δ‖", "‖∂C/∂W‖", "saturated", "dead")
        table = [head]
        for row in self.rows():
            shapes = f"{_shape(row['input_shape'])} → {_shape(row['output_shape'])}"
            table.append((f"{row['name']} ({row['kind']})", shapes, f"{row['a_norm']:.3g}",
                          f"{row['delta_norm']:.3g}",
                          "-" if row["grad_norm"] is None else f"{row['grad_norm']:.3g}",
                          "-" if row["saturated"] is None else f"{row['saturated']:.1%}",
                          "-" if row["dead"] is None else f"{row['dead']:.1%}"))
        widths = [max(len(r[i]) for r in table) for i in range(len(head))]

        def fmt(r):
            return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))

        n = self.records[0].input.shape[0] if self.records else 0
        rule = "-" * len(fmt(head))
        lines = [fmt(head), rule, *(fmt(r) for r in table[1:]), rule,
                 f"loss {self.loss:.6g} (+ penalty {self.penalty:.3g}) on a batch of {n}; δ = ∂C/∂(layer output)",
                 f"saturated: sigmoid a<{SIGMOID_SATURATION} or "
                 f">{1 - SIGMOID_SATURATION}, tanh |a|>{TANH_SATURATION}; dead: ReLU output 0 for every sample"]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Trace({len(self)} layers, loss={self.loss:.6g})"


def _shape(s: tuple[int, ...]) -> str:
    return "(n, " + ", ".join(map(str, s)) + ")"


def _check_inputs(model: Sequential, loss: Loss, X, y) -> tuple[np.ndarray, np.ndarray]:
    from axon.validation import check_xy

    if not isinstance(model, Sequential):
        raise TypeError(f"trace: model must be an axon Sequential, got {type(model).__name__}")
    X, y = check_xy(model, X, y, loss, y_required=True)
    if X.ndim < 2:
        raise ValueError(f"X has shape {X.shape}; trace takes a batch (n, features): for one sample use X[None]")
    return X, y


def trace(model: Sequential, loss: Loss | str | None, X: np.ndarray, y: np.ndarray, *,
          training: bool = False) -> Trace:
    """One recorded forward and backward pass of ``model`` on the batch ``(X, y)``; changes nothing.

    Forward: aˡ = fˡ(aˡ⁻¹) for every layer, C = loss(a_L, y). Backward: ∂C/∂a_L = loss.backward(),
    then each layer in reverse maps ∂C/∂output to ∂C/∂input and computes its parameter gradients.

    Parameters
    ----------
    model : the Sequential to look into. ``model.preprocessor`` (if set) is applied to ``X`` first,
        as ``fit`` and ``predict`` do.
    loss : a Loss, a loss name ("mse", "cross_entropy", …) or None for ``model.loss``.
    X : a batch, shape (n, …) as the model takes it (raw, before the preprocessor).
    y : targets, shape as the loss takes them ((n,) class indices, (n, k), …).
    training : run the training-mode forward pass (dropout active). Dropout generators are
        restored afterwards, so the next training step draws the same masks as without the trace.

    Returns
    -------
    Trace : one :class:`TraceRecord` per layer, in order. Parameters, their ``.grad``, buffers and
    random generators are left exactly as they were.
    """
    if loss is None:
        loss = getattr(model, "loss", None)
        if loss is None:
            raise ValueError("trace: pass a loss (e.g. ax.losses.MSE()) or compile the model first")
    loss = copy.deepcopy(get_loss(loss))  # the caller's loss keeps its cached batch
    X, y = _check_inputs(model, loss, X, y)
    dtype = model.dtype
    x = model.prepare(X)  # the preprocessor, as forward applies it; token ids stay integers
    mask = None
    if np.issubdtype(y.dtype, np.floating):
        y = y.astype(dtype, copy=False)

    params = model.parameters()
    saved_grads = [(p, p.grad.copy(), p._fresh) for p in params]
    saved_buffers = [(layer, {k: v.copy() for k, v in layer.buffers().items()}) for layer in model.layers]
    saved_rngs = [(layer, copy.deepcopy(layer.rng.bit_generator.state)) for layer in model.random_layers()]
    try:
        for p in params:
            p.zero_grad()
        inputs, outputs = [], []
        for layer in model.layers:
            inputs.append(x)
            x, mask = forward_masked(layer, x, training, mask)  # a padding mask travels as in forward
            outputs.append(x)
        value = loss.forward(x, y)
        penalty = model.penalty()
        grad = loss.backward()
        grads_out: list[np.ndarray] = [None] * len(model.layers)  # type: ignore[list-item]
        grads_in: list[np.ndarray] = [None] * len(model.layers)  # type: ignore[list-item]
        param_grads: list[dict[str, np.ndarray]] = [{} for _ in model.layers]
        for i in reversed(range(len(model.layers))):
            layer = model.layers[i]
            grads_out[i] = grad
            grad = layer.backward(grad)
            grads_in[i] = grad
            param_grads[i] = {k: p.grad.copy() for k, p in layer.named_parameters().items()}
    finally:
        for p, g, fresh in saved_grads:
            np.copyto(p.grad, g)
            p._fresh = fresh
        for layer, buffers in saved_buffers:
            for k, v in buffers.items():
                layer.set_buffer(k, v)
        for layer, state in saved_rngs:
            layer.rng.bit_generator.state = state
    records = [TraceRecord(layer.name, layer, inputs[i], outputs[i], grads_out[i], grads_in[i], param_grads[i])
               for i, layer in enumerate(model.layers)]
    return Trace(records, float(value), float(penalty))


__all__ = ["SIGMOID_SATURATION", "TANH_SATURATION", "Trace", "TraceRecord", "trace"]
