"""Sequential: a model is a chain of layers, y = fᴸ(… f²(f¹(x)))."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from axon.layers.base import Layer, forward_layers
from axon.parameter import Parameter


class Sequential:
    """A stack of layers applied in order; backward runs them in reverse (backpropagation).

    ``model(x)`` is ``model.forward(x)``. Layers without an explicit name are named by type and
    position among layers of that type: ``dense_1``, ``relu_1``, ``dense_2``, …, so parameter names
    (``"dense_1.weight"``) are stable between runs and in model files.

    The Keras-style ``compile``/``fit``/``evaluate``/``predict`` live in :mod:`axon.training`.
    """

    def __init__(self, *layers: Layer, input_shape: tuple[int, ...] | None = None) -> None:
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"Sequential takes layers; item {i} is {type(layer).__name__}")
        self.layers: list[Layer] = list(layers)
        self.input_shape = tuple(input_shape) if input_shape is not None else None
        self.loss = None
        self.optimizer = None
        self.metrics: list[str] = []
        self.preprocessor = None  # e.g. a Standardizer applied by fit/predict and saved with the model
        self.stop_training = False
        self._dtype = None  # set by to_dtype; matters only for a model without parameters
        self._name_layers()

    def _name_layers(self) -> None:
        counts: dict[str, int] = {}
        for layer in self.layers:
            base = type(layer).__name__.lower()
            counts[base] = counts.get(base, 0) + 1
            if layer.name == base:  # not named by the user
                layer.name = f"{base}_{counts[base]}"

    # -- the textbook interface ------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = False, mask: np.ndarray | None = None) -> np.ndarray:
        """Feed a batch through every layer: aˡ = fˡ(aˡ⁻¹). Shape (n, …) in, (n, …) out.

        Input is converted to the parameters' dtype (ids for an Embedding stay ints); mask: axon.layers.base.
        """
        dtype = self.dtype
        x = np.asarray(x)
        if x.dtype != dtype or mask is not None or (self.layers and self.layers[0].integer_input):
            return self._forward_masked(x, training, mask)
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    __call__ = forward

    def backward(self, grad: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Backpropagate ∂C/∂output through the layers in reverse; returns ∂C/∂input.

        Each layer adds its parameters' gradients into ``.grad`` (call :meth:`zero_grad` first).
        ``input_grad=False`` returns None instead of ∂C/∂input, which training never needs: the
        layers before the first one with parameters are skipped and that one does not compute
        its input gradient (for an MLP on MNIST, about a fifth of the work of a step).
        """
        if input_grad:
            for layer in reversed(self.layers):
                grad = layer.backward(grad)
            return grad
        layers = self.layers
        first = next((i for i, layer in enumerate(layers) if layer.parameters()), len(layers))
        for layer in reversed(layers[first + 1:]):
            grad = layer.backward(grad)
        if first < len(layers):
            layers[first].backward_params(grad)
        return None

    def parameters(self) -> list[Parameter]:
        """Every parameter of every layer, in layer order, then insertion order."""
        return [p for layer in self.layers for p in layer.parameters()]

    def named_parameters(self) -> dict[str, Parameter]:
        """``{"dense_1.weight": Parameter, ...}`` in order."""
        return {p.name: p for p in self.parameters()}

    def zero_grad(self) -> None:
        """Reset all parameter gradients to zero."""
        for layer in self.layers:
            layer.zero_grad()

    def penalty(self) -> float:
        """Sum of the layers' regularisation terms (L1/L2), added to the reported loss."""
        return float(sum(layer.penalty() for layer in self.layers))

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the parameters (the default dtype for a model without parameters)."""
        for layer in self.layers:  # the first parameter, without listing them all (forward asks every batch)
            for p in layer.parameters():
                return p.data.dtype
        if self._dtype is not None:
            return self._dtype
        from axon._config import get_default_dtype
        return get_default_dtype()

    def to_dtype(self, dtype) -> Sequential:
        """Convert every parameter and buffer to ``dtype`` ("float32" or "float64"); returns self."""
        from axon._config import resolve_dtype
        dt = resolve_dtype(dtype)
        self._dtype = dt
        for layer in self.layers:
            layer.to_dtype(dt)
        return self

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i: int) -> Layer:
        return self.layers[i]

    # -- description -----------------------------------------------------------------
    def _infer_input_shape(self) -> tuple[int, ...] | None:
        if self.input_shape is not None:
            return self.input_shape
        for layer in self.layers:
            if hasattr(layer, "in_features"):
                return (layer.in_features,)
            if layer.parameters():
                return None
        return None

    def summary(self, input_shape: tuple[int, ...] | None = None) -> str:
        """A table of layer, output shape (per sample) and parameter count, with the total.

        ``input_shape`` is one sample's shape, e.g. ``(1, 8, 8)``; it is inferred when the first
        layer with parameters is a Dense layer.
        """
        shape = tuple(input_shape) if input_shape is not None else self._infer_input_shape()
        rows = [("Layer (type)", "Output shape", "Params")]
        total = trainable = 0
        for layer in self.layers:
            if shape is not None:
                shape = layer.output_shape(shape)
            count = sum(p.size for p in layer.parameters())
            total += count
            trainable += sum(p.size for p in layer.parameters() if p.trainable)
            out = "(n, " + ", ".join(map(str, shape)) + ")" if shape is not None else "?"
            rows.append((f"{layer.name} ({type(layer).__name__})", out, f"{count:,}"))
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        line = "-" * (sum(widths) + 6)

        def fmt(r):
            return f"{r[0]:<{widths[0]}}   {r[1]:<{widths[1]}}   {r[2]:>{widths[2]}}"

        out = [fmt(rows[0]), line, *(fmt(r) for r in rows[1:]), line,
               f"Total params: {total:,}   Trainable: {trainable:,}   dtype: {self.dtype.name}"]
        return "\n".join(out)

    def get_config(self) -> dict[str, Any]:
        """The architecture as JSON-serialisable data: layer types, names and constructor arguments."""
        return {"layers": [{"type": type(layer).__name__, "name": layer.name,
                            "config": layer.get_config()} for layer in self.layers],
                "input_shape": list(self.input_shape) if self.input_shape is not None else None}

    def __repr__(self) -> str:
        inner = ",\n".join(f"  {layer!r}" for layer in self.layers)
        return f"Sequential(\n{inner}\n)"

    # -- the Keras-style interface (implemented in axon.training) --------------------------
    def compile(self, loss, optimizer=None, metrics=None) -> None:
        """Attach a loss, an optimizer (bound to this model's parameters) and metrics; see :func:`axon.training.compile`."""
        from axon.training import compile as _compile
        _compile(self, loss, optimizer, metrics)

    def fit(self, X, y, **kwargs):
        """Train on (X, y); returns a History. See :func:`axon.training.fit` for the arguments."""
        from axon.training import fit as _fit
        return _fit(self, X, y, **kwargs)

    def evaluate(self, X, y, batch_size: int = 256) -> dict[str, float]:
        """Loss (penalties included) and metrics on (X, y); see :func:`axon.training.evaluate`."""
        from axon.training import evaluate as _evaluate
        return _evaluate(self, X, y, batch_size=batch_size)

    def predict(self, X, batch_size: int = 256) -> np.ndarray:
        """The output with the loss's link applied (probabilities for cross-entropies); see :func:`axon.training.predict`."""
        from axon.training import predict as _predict
        return _predict(self, X, batch_size=batch_size)

    def _forward_masked(self, x: np.ndarray, training: bool, mask: np.ndarray | None) -> np.ndarray:
        """:meth:`forward` for input that is not in the model's dtype or comes with a padding mask.

        Integer ids stay integers for a first layer that reads them (Embedding); other input is
        converted to the parameters' dtype. ``mask`` (n, T), True at the real steps of padded
        sequences, travels with the data from layer to layer, as does the mask an Embedding with
        ``padding_idx`` makes (see :mod:`axon.layers.base`).
        """
        if not (x.dtype.kind in "iu" and self.layers and self.layers[0].integer_input):
            x = x.astype(self.dtype)
        return forward_layers(self.layers, x, training, mask)
