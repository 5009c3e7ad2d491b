"""The ONNX graph being built and the registry of layer converters (used by :mod:`axon.io.onnx_export`).

A converter ``converter(layer, graph, x, in_shape) -> output tensor name`` appends a layer's nodes;
:func:`register_converter` adds one for a layer type (the 2-D layers' are in
:mod:`axon.io.onnx_export`, the sequence layers' in :mod:`axon.io.onnx_sequence`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from axon import backend
from axon.layers.base import Layer


class OnnxGraph:
    """The graph being built: nodes, constant tensors (initializers) and unique names.

    Converters call :meth:`const` for weights and :meth:`node` for operators; both return the
    name of the tensor they create, to be used as the input of the next node.
    """

    def __init__(self, opset: int) -> None:
        self.opset = opset
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._names: set[str] = {"input", "output"}
        #: The padding mask that goes with the current tensor: a float (N, T) of 1 at real steps and
        #: 0 at padding, made by an Embedding converter (see :mod:`axon.io.onnx_sequence`), or None.
        self.mask: str | None = None
        self.mask_steps = 0

    def _unique(self, base: str) -> str:
        name, i = base, 1
        while name in self._names:
            i += 1
            name = f"{base}_{i}"
        self._names.add(name)
        return name

    def const(self, name: str, array: np.ndarray) -> str:
        """Add ``array`` (cast to float32 unless it is an integer array) as an initializer."""
        from onnx import numpy_helper

        array = np.asarray(backend.to_host(array))
        if array.dtype.kind == "f":
            array = array.astype(np.float32)
        name = self._unique(name)
        self.initializers.append(numpy_helper.from_array(np.require(array, requirements='C'), name))  # 0-d stays
        return name

    def node(self, op: str, inputs: list[str], base: str, **attrs: Any) -> str:
        """Append the operator ``op`` on ``inputs``; returns the name of its (single) output."""
        return self.nodes_out(op, inputs, base, 1, **attrs)[0]

    def nodes_out(self, op: str, inputs: list[str], base: str, n_outputs: int, **attrs: Any) -> list[str]:
        """Append ``op`` with ``n_outputs`` outputs (an LSTM gives Y, Y_h, Y_c); returns their names.

        An input named "" is an optional input left out.
        """
        from onnx import helper

        outs = [self._unique(f"{base}/{op}" + (f":{i}" if i else "")) for i in range(n_outputs)]
        self.nodes.append(helper.make_node(op, inputs, outs, name=outs[0], **attrs))
        return outs


#: ``converter(layer, graph, x, in_shape) -> output tensor name``; ``in_shape`` is one sample's
#: input shape (no batch axis).
Converter = Callable[[Layer, OnnxGraph, str, tuple[int, ...]], str]

#: Converters by layer type name (the class name, as in model files).
ONNX_CONVERTERS: dict[str, Converter] = {}


def register_converter(*type_names: str) -> Callable[[Converter], Converter]:
    """Decorator: use the function as the ONNX converter of the named layer types."""
    def decorate(fn: Converter) -> Converter:
        for t in type_names:
            ONNX_CONVERTERS[t] = fn
        return fn
    return decorate


def _converter_for(layer: Layer) -> Converter:
    # Walk the class hierarchy, so a subclass of a supported layer exports as its parent.
    for cls in type(layer).__mro__:
        if cls.__name__ in ONNX_CONVERTERS:
            return ONNX_CONVERTERS[cls.__name__]
    raise ValueError(f"export_onnx: layer {layer.name!r} of type {type(layer).__name__} has no ONNX "
                     f"converter; supported types: {', '.join(sorted(ONNX_CONVERTERS))}. Register one "
                     "with axon.io.onnx_graph.register_converter")


def convert_layers(layers: list[Layer], g: OnnxGraph, x: str, sample: tuple[int, ...]) -> tuple[str, tuple[int, ...]]:
    """Append every layer's nodes in order; returns the last tensor and one sample's shape.

    The padding mask ``g.mask`` stays while the samples keep their (T, ...) layout, as
    :func:`axon.layers.base.forward_layers` keeps it.
    """
    for layer in layers:
        x = _converter_for(layer)(layer, g, x, sample)
        sample = tuple(layer.output_shape(sample))
        if g.mask is not None and (len(sample) < 2 or sample[0] != g.mask_steps):
            g.mask = None
    return x, sample
