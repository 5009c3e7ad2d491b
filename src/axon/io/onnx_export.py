"""Export a :class:`~axon.Sequential` to ONNX, to run it in onnxruntime and other engines.

Each layer type has a converter that appends its ONNX nodes to the graph; the registry
:data:`axon.io.onnx_graph.ONNX_CONVERTERS` maps layer type names to converters, and
:func:`axon.io.onnx_graph.register_converter` adds one for a layer you wrote::

    from axon.io.onnx_graph import register_converter

    @register_converter("Scale")
    def _scale(layer, g, x, in_shape):            # g: OnnxGraph, x: name of the input tensor
        return g.node("Mul", [x, g.const(layer.name + ".s", layer.s.data)], layer.name)

The graph computes, in float32, with input ``"input"`` of shape (N, *input_shape) and output
``"output"``:

1. the model's preprocessor, when set (a Standardizer: ``(x − mean_) / scale_`` as Sub, Div);
2. every layer in inference mode (Dropout is Identity, BatchNorm uses its running statistics);
3. by default, the link of the model's loss, so the ONNX output equals ``model.predict``:
   Softmax(axis=-1) for SoftmaxCrossEntropy, Sigmoid for BinaryCrossEntropy(from_logits=True),
   nothing for MSE and QuadraticCost. ``include_link=False`` exports the raw network output
   (the logits), as ``model.forward`` gives.

Supported layers: Dense (Gemm, or MatMul without bias), Sigmoid, Tanh, ReLU, LeakyReLU, Softmax,
Identity, Dropout, Conv2D, MaxPool2D, AvgPool2D, BatchNorm1d, BatchNorm2d, Flatten, Reshape, and
the sequence layers of :mod:`axon.io.onnx_sequence` (Conv1D, the 1-D pools, Embedding, RNN,
LSTM, GRU, LayerNorm, MultiHeadSelfAttention, PositionalEncoding, Residual). A model that starts
with an Embedding takes int64 token ids as ``"input"``.

Needs the ``onnx`` package (``pip install "axon-nn[onnx]"``), imported only when exporting.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from axon.io.atomic import atomic_write_bytes
from axon.io.onnx_graph import Converter, OnnxGraph, convert_layers, register_converter
from axon.model import Sequential
from axon.validation import check_int

#: The lowest opset accepted: Softmax over the last axis alone needs opset 13 or later.
MIN_OPSET = 13


# -- converters ------------------------------------------------------------------------------
@register_converter("Dense")
def _dense(layer, g: OnnxGraph, x: str, in_shape) -> str:
    # y = x @ W + b: Gemm with W as stored (in, out), no transpose; MatMul and Add on (N, T, in).
    w = g.const(f"{layer.name}.weight", layer.weight.data)
    if layer.bias is None:
        return g.node("MatMul", [x, w], layer.name)
    b = g.const(f"{layer.name}.bias", layer.bias.data)
    if len(in_shape) > 1:
        return g.node("Add", [g.node("MatMul", [x, w], layer.name), b], layer.name)
    return g.node("Gemm", [x, w, b], layer.name)


def _elementwise(op: str) -> Converter:
    def convert(layer, g: OnnxGraph, x: str, in_shape) -> str:
        return g.node(op, [x], layer.name)
    return convert


register_converter("Sigmoid")(_elementwise("Sigmoid"))
register_converter("Tanh")(_elementwise("Tanh"))
register_converter("ReLU")(_elementwise("Relu"))
# Dropout is the identity at inference (inverted dropout scales during training only).
register_converter("Identity", "Dropout")(_elementwise("Identity"))


@register_converter("LeakyReLU")
def _leaky_relu(layer, g: OnnxGraph, x: str, in_shape) -> str:
    return g.node("LeakyRelu", [x], layer.name, alpha=float(layer.alpha))


@register_converter("Softmax")
def _softmax(layer, g: OnnxGraph, x: str, in_shape) -> str:
    return g.node("Softmax", [x], layer.name, axis=-1)


@register_converter("Flatten")
def _flatten(layer, g: OnnxGraph, x: str, in_shape) -> str:
    # Flatten(axis=1) keeps the batch axis and joins the rest in C order, as axon's Flatten.
    return g.node("Flatten", [x], layer.name, axis=1)


@register_converter("Reshape")
def _reshape(layer, g: OnnxGraph, x: str, in_shape) -> str:
    # Shape (0, *shape): 0 copies the batch size from the input, so the batch stays dynamic.
    shape = g.const(f"{layer.name}.shape", np.array([0, *layer.shape], dtype=np.int64))
    return g.node("Reshape", [x, shape], layer.name)


@register_converter("Conv2D")
def _conv2d(layer, g: OnnxGraph, x: str, in_shape) -> str:
    (kh, kw), (sh, sw), (ph, pw) = layer.kernel_size, layer.stride, layer.padding
    inputs = [x, g.const(f"{layer.name}.weight", layer.weight.data)]
    if layer.bias is not None:
        inputs.append(g.const(f"{layer.name}.bias", layer.bias.data))
    return g.node("Conv", inputs, layer.name, kernel_shape=[kh, kw], strides=[sh, sw],
                  pads=[ph, pw, ph, pw])


def _pool(op: str) -> Converter:
    def convert(layer, g: OnnxGraph, x: str, in_shape) -> str:
        # No padding and the floor rule for the output size: ONNX's defaults, as axon's pools.
        return g.node(op, [x], layer.name, kernel_shape=list(layer.kernel_size), strides=list(layer.stride))
    return convert


register_converter("MaxPool2D")(_pool("MaxPool"))
register_converter("AvgPool2D")(_pool("AveragePool"))


@register_converter("BatchNorm1d", "BatchNorm2d")
def _batchnorm(layer, g: OnnxGraph, x: str, in_shape) -> str:
    # Inference: y = (x − running_mean) / √(running_var + eps) · weight + bias, per channel (axis 1).
    inputs = [x, g.const(f"{layer.name}.weight", layer.weight.data),
              g.const(f"{layer.name}.bias", layer.bias.data),
              g.const(f"{layer.name}.running_mean", layer.running_mean),
              g.const(f"{layer.name}.running_var", layer.running_var)]
    return g.node("BatchNormalization", inputs, layer.name, epsilon=float(layer.eps))


# -- the loss's link ---------------------------------------------------------------------------
def _link_op(loss: Any) -> str | None:
    """The ONNX op applying ``loss.link`` (None when the link is the identity)."""
    from axon.losses import BinaryCrossEntropy, Loss, SoftmaxCrossEntropy

    if loss is None or type(loss).link is Loss.link:
        return None
    if isinstance(loss, SoftmaxCrossEntropy):
        return "Softmax"
    if isinstance(loss, BinaryCrossEntropy):
        return "Sigmoid" if loss.from_logits else None
    raise ValueError(f"export_onnx: the link of loss {type(loss).__name__} has no ONNX form; "
                     "pass include_link=False to export the raw network output")


# -- the model ---------------------------------------------------------------------------------
def _input_shape(model: Sequential, input_shape) -> tuple[int, ...]:
    shape = tuple(int(d) for d in input_shape) if input_shape is not None else model.infer_input_shape()
    pre = model.preprocessor
    if shape is None and pre is not None and pre.mean_ is not None:
        shape = tuple(pre.mean_.shape)
    if shape is None:
        raise ValueError("export_onnx: cannot infer the input shape of this model; pass input_shape, "
                         "one sample's shape, e.g. input_shape=(1, 28, 28)")
    if not shape or any(d < 1 for d in shape):
        raise ValueError(f"export_onnx: input_shape must be one sample's shape of positive sizes, got {shape}")
    return shape


def _preprocess(pre: Any, g: OnnxGraph, x: str, shape: tuple[int, ...]) -> str:
    mean, scale = getattr(pre, "mean_", None), getattr(pre, "scale_", None)
    if mean is None or scale is None:
        raise ValueError(f"export_onnx: model.preprocessor ({type(pre).__name__}) must be a fitted "
                         "Standardizer with mean_ and scale_; fit it or set model.preprocessor = None")
    mean, scale = np.asarray(mean), np.asarray(scale)
    if mean.size != int(np.prod(shape)) or scale.size != mean.size:
        raise ValueError(f"export_onnx: the preprocessor was fitted on samples of shape {mean.shape}, "
                         f"but the model input has shape {shape}")
    # Shapes (*input_shape) broadcast against (N, *input_shape).
    x = g.node("Sub", [x, g.const("preprocessor.mean", mean.reshape(shape))], "preprocessor")
    return g.node("Div", [x, g.const("preprocessor.scale", scale.reshape(shape))], "preprocessor")


def export_onnx(model: Sequential, path: str | os.PathLike, *, opset: int = 17,
                input_shape: tuple[int, ...] | None = None, dynamic_batch: bool = True,
                include_link: bool = True) -> Any:
    """Write ``model`` as an ONNX file that onnxruntime runs with the same outputs.

    The graph takes ``"input"``, float32 of shape (N, *input_shape) with N free
    (``dynamic_batch=True``) or 1, and gives ``"output"``: the preprocessor (if any), the layers
    in inference mode, then (``include_link=True``, the default) the loss's link, so the output
    equals ``model.predict(X)``: probabilities for the cross-entropies, raw values for MSE.
    Weights are stored in float32 (a float64 model is converted). The graph passes
    ``onnx.checker.check_model`` before it is written; the file is written atomically.

    Parameters
    ----------
    model : the model to export.
    path : the .onnx file to write (its folder must exist).
    opset : ONNX opset version (default 17; 13 or later).
    input_shape : one sample's shape, e.g. (64,) or (1, 8, 8); default ``model.input_shape``,
        or ``(in_features,)`` of a first Dense layer. Needed for a model that starts with Conv2D.
    dynamic_batch : a free batch axis (default) or a batch of exactly 1.
    include_link : append the loss's link (default), or export the raw output (logits).

    Returns
    -------
    The ``onnx.ModelProto`` written.
    """
    try:
        import onnx
        from onnx import TensorProto, helper
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("export_onnx needs the onnx package: pip install 'axon[onnx]'") from err

    if not isinstance(model, Sequential):
        raise TypeError(f"export_onnx: model must be an axon Sequential, got {type(model).__name__}")
    max_opset = onnx.defs.onnx_opset_version()
    opset = check_int(opset, "export_onnx: opset", minimum=MIN_OPSET, maximum=max_opset)
    shape = _input_shape(model, input_shape)
    link = _link_op(model.loss) if include_link else None

    g = OnnxGraph(int(opset))
    x = "input"
    if model.preprocessor is not None:
        x = _preprocess(model.preprocessor, g, x, shape)
    x, sample = convert_layers(model.layers, g, x, shape)
    if link is not None:
        x = g.node(link, [x], "link", **({"axis": -1} if link == "Softmax" else {}))
    if g.nodes and g.nodes[-1].output[0] == x:
        g.nodes[-1].output[0] = "output"     # name the final tensor "output" without an extra node
    else:
        g.node("Identity", [x], "output")
        g.nodes[-1].output[0] = "output"

    batch = "N" if dynamic_batch else 1
    ids = bool(model.layers) and model.layers[0].integer_input  # an Embedding reads int64 token ids
    graph = helper.make_graph(
        g.nodes, "axon_model",
        [helper.make_tensor_value_info("input", TensorProto.INT64 if ids else TensorProto.FLOAT,
                                       [batch, *shape])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [batch, *sample])],
        initializer=g.initializers)
    opset_ids = [helper.make_opsetid("", int(opset))]
    proto = helper.make_model(graph, opset_imports=opset_ids, producer_name="axon",
                              ir_version=helper.find_min_ir_version_for(opset_ids))
    proto.doc_string = "Exported by axon.export_onnx" + (f"; output = {link}(network)" if link else "")
    onnx.checker.check_model(proto, full_check=True)
    atomic_write_bytes(path, proto.SerializeToString())
    return proto


# The sequence layers' converters register themselves on import.
from axon.io import onnx_sequence  # noqa: E402,F401
