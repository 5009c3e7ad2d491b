"""Residual connections: ``y = x + block(x)``, so a transformer encoder block is a Sequential."""

from __future__ import annotations

from typing import Any

import numpy as np

from axon.layers.base import Layer, forward_layers, register_layer
from axon.parameter import Parameter


@register_layer
class Residual(Layer):
    """A skip connection around a block of layers: ``y = x + block(x)`` (He et al., 2016).

    ``block`` is one layer or a :class:`~axon.Sequential`; its output must have the input's shape.
    Backward adds the two paths: ∂C/∂x = ∂C/∂y + block.backward(∂C/∂y), so the gradient reaches
    the layers below undiminished however deep the stack (what lets transformers and ResNets
    train). A pre-norm transformer encoder block is two of them::

        Sequential(Residual(Sequential(LayerNorm(d), MultiHeadSelfAttention(d, heads))),
                   Residual(Sequential(LayerNorm(d), Dense(d, 4 * d), ReLU(), Dense(4 * d, d))))

    The block's layers are named inside the wrapper, ``residual_1.layernorm_1`` and so on, so their
    parameters (``residual_1.layernorm_1.weight``) keep unique names in model files. A padding mask
    reaching the wrapper is handed to the block (see :mod:`axon.layers.base`).
    """

    supports_mask = True

    def __init__(self, block: Any, name: str | None = None) -> None:
        from axon.model import Sequential

        super().__init__(name)
        if isinstance(block, Sequential):
            layers = list(block.layers)
        elif isinstance(block, Layer):
            layers = [block]
            if block.name == type(block).__name__.lower():
                block.name = f"{block.name}_1"
        else:
            raise TypeError(f"Residual takes a layer or a Sequential, got {type(block).__name__}")
        if not layers:
            raise ValueError("Residual needs a block with at least one layer")
        self.block = block
        self.layers: list[Layer] = layers
        self._inner_names = [layer.name for layer in layers]
        self.name = self._name

    @Layer.name.setter  # type: ignore[attr-defined]
    def name(self, value: str) -> None:
        self._name = value
        for layer, inner in zip(self.layers, self._inner_names):
            layer.name = f"{value}.{inner}"

    # -- what the block holds ---------------------------------------------------------------------
    def sublayers(self) -> list[tuple[str, Layer]]:
        """``[(name inside the block, layer), ...]``: what model files store for the block (its
        Dropout layers are among the model's ``random_layers``)."""
        return list(zip(self._inner_names, self.layers))

    def parameters(self) -> list[Parameter]:
        return [p for layer in self.layers for p in layer.parameters()]

    def named_parameters(self) -> dict[str, Parameter]:
        """``{"layernorm_1.weight": Parameter, ...}``: the block's parameters, by inner name."""
        return {f"{inner}.{attr}": p for layer, inner in zip(self.layers, self._inner_names)
                for attr, p in layer.named_parameters().items()}

    def buffers(self) -> dict[str, np.ndarray]:
        return {f"{inner}.{key}": value for layer, inner in zip(self.layers, self._inner_names)
                for key, value in layer.buffers().items()}

    def set_buffer(self, key: str, value: np.ndarray) -> None:
        inner, _, rest = key.rpartition(".")
        for layer, name in zip(self.layers, self._inner_names):
            if name == inner:
                layer.set_buffer(rest, value)
                return
        super().set_buffer(key, value)  # raises KeyError

    def zero_grad(self) -> None:
        for layer in self.layers:
            layer.zero_grad()

    def to_dtype(self, dtype: np.dtype) -> None:
        for layer in self.layers:
            layer.to_dtype(dtype)

    def penalty(self) -> float:
        return float(sum(layer.penalty() for layer in self.layers))

    # -- computation ------------------------------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = False, mask: np.ndarray | None = None) -> np.ndarray:
        fx = forward_layers(self.layers, x, training, mask)
        if fx.shape != x.shape:
            raise ValueError(f"{self.name}: the block maps {x.shape} to {fx.shape}; a residual block "
                             f"must keep the shape (y = x + block(x))")
        return x + fx

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        g = grad_y
        for layer in reversed(self.layers):
            g = layer.backward(g)
        return grad_y + g                                  # the skip path adds ∂C/∂y itself

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        shape = tuple(input_shape)
        for layer in self.layers:
            shape = layer.output_shape(shape)
        if tuple(shape) != tuple(input_shape):
            raise ValueError(f"{self.name}: the block maps samples of shape {tuple(input_shape)} to "
                             f"{tuple(shape)}; a residual block must keep the shape")
        return tuple(input_shape)

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Residual([{inner}])"
