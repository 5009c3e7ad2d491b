"""ONNX converters of the sequence layers (registered with :func:`axon.io.onnx_graph.register_converter`).

=========================  =========================================================================
layer                      ONNX
=========================  =========================================================================
Conv1D                     Conv (1-D kernel, strides, pads, dilations)
MaxPool1D, AvgPool1D       MaxPool, AveragePool
GlobalAvgPool1D            ReduceSum · 1/L (the masked mean: ReduceSum(x·m) / max(ReduceSum(m), 1))
Embedding                  Gather; with ``padding_idx`` also the mask ``ids != padding_idx``
RNN, LSTM, GRU             RNN, LSTM, GRU on time-major input (Transpose), gates reordered to ONNX's
                           (LSTM i, o, f, c; GRU z, r, h with ``linear_before_reset=1``, PyTorch's
                           GRU); a padding mask becomes ``sequence_lens``
LayerNorm                  LayerNormalization (opset 17 or later)
MultiHeadSelfAttention     MatMul, Reshape, Transpose, Where (causal and padding masks), Softmax
PositionalEncoding         Add of the constant table
Residual                   the block's nodes, then Add
=========================  =========================================================================

A padding mask reaches the recurrent layers as sequence lengths, which means the padding must be
at the end of each sequence (right padding) for onnxruntime to give axon's outputs; axon itself
accepts padding anywhere.
"""

from __future__ import annotations

import numpy as np

from axon.io.onnx_graph import OnnxGraph, convert_layers, register_converter
from axon.layers.positional import sinusoids


def _ints(g: OnnxGraph, name: str, values: list[int]) -> str:
    return g.const(name, np.array(values, dtype=np.int64))


@register_converter("Conv1D")
def _conv1d(layer, g: OnnxGraph, x: str, in_shape) -> str:
    inputs = [x, g.const(f"{layer.name}.weight", layer.weight.data)]
    if layer.bias is not None:
        inputs.append(g.const(f"{layer.name}.bias", layer.bias.data))
    g.mask = None
    return g.node("Conv", inputs, layer.name, kernel_shape=[layer.kernel_size], strides=[layer.stride],
                  pads=[layer.padding, layer.padding], dilations=[layer.dilation])


def _pool1d(op: str):
    def convert(layer, g: OnnxGraph, x: str, in_shape) -> str:
        g.mask = None
        return g.node(op, [x], layer.name, kernel_shape=[layer.kernel_size], strides=[layer.stride])
    return convert


register_converter("MaxPool1D")(_pool1d("MaxPool"))
register_converter("AvgPool1D")(_pool1d("AveragePool"))


@register_converter("GlobalAvgPool1D")
def _global_avg_pool1d(layer, g: OnnxGraph, x: str, in_shape) -> str:
    axis = 1 if layer.channels_last else 2
    if layer.channels_last and g.mask is not None:
        m = g.mask
        weighted = g.node("Mul", [x, g.node("Unsqueeze", [m, _ints(g, "axes", [2])], layer.name)], layer.name)
        total = g.node("ReduceSum", [weighted, _ints(g, "axes", [1])], layer.name, keepdims=0)
        count = g.node("ReduceSum", [m, _ints(g, "axes", [1])], layer.name, keepdims=1)
        count = g.node("Max", [count, g.const("one", np.ones(1, np.float32))], layer.name)
        return g.node("Div", [total, count], layer.name)
    total = g.node("ReduceSum", [x, _ints(g, "axes", [axis])], layer.name, keepdims=0)
    return g.node("Mul", [total, g.const("inv_steps", np.array(1.0 / in_shape[axis - 1], np.float32))],
                  layer.name)


@register_converter("Embedding")
def _embedding(layer, g: OnnxGraph, x: str, in_shape) -> str:
    y = g.node("Gather", [g.const(f"{layer.name}.weight", layer.weight.data), x], layer.name, axis=0)
    if layer.padding_idx is None:
        return y
    pad = g.const("padding_idx", np.array(layer.padding_idx, dtype=np.int64))
    real = g.node("Not", [g.node("Equal", [x, pad], layer.name)], layer.name)
    g.mask = g.node("Cast", [real], layer.name, to=1)               # float (N, T): 1 real, 0 padding
    g.mask_steps = int(in_shape[0])
    return g.node("Mul", [y, g.node("Unsqueeze", [g.mask, _ints(g, "axes", [2])], layer.name)], layer.name)


#: axon's gate blocks (PyTorch's order) in the order ONNX's operators expect them.
_ONNX_GATES = {"RNN": [0], "LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2]}   # LSTM i,f,g,o → i,o,f,c; GRU r,z,n → z,r,h


def _gate_rows(w: np.ndarray, order: list[int], H: int) -> np.ndarray:
    """(…, G·H) columns in axon's gate order → ONNX's (G·H, …) rows, reordered (one transpose)."""
    blocks = [w[..., k * H:(k + 1) * H] for k in order]
    return np.concatenate(blocks, axis=-1).T


@register_converter("RNN", "LSTM", "GRU")
def _recurrent(layer, g: OnnxGraph, x: str, in_shape) -> str:
    kind = next(c.__name__ for c in type(layer).__mro__ if c.__name__ in _ONNX_GATES)
    H, order = layer.hidden_size, _ONNX_GATES[kind]
    W = _gate_rows(layer.weight_ih.data, order, H)[None]          # (1, G·H, D)
    R = _gate_rows(layer.weight_hh.data, order, H)[None]          # (1, G·H, H)
    B = np.concatenate([_gate_rows(layer.bias_ih.data, order, H), _gate_rows(layer.bias_hh.data, order, H)])[None]
    lengths = ""
    if g.mask is not None:
        total = g.node("ReduceSum", [g.mask, _ints(g, "axes", [1])], layer.name, keepdims=0)
        lengths = g.node("Cast", [total], layer.name, to=6)        # int32 sequence lengths
    xt = g.node("Transpose", [x], layer.name, perm=[1, 0, 2])       # (T, N, D): ONNX's default layout
    inputs = [xt, g.const(f"{layer.name}.W", W), g.const(f"{layer.name}.R", R), g.const(f"{layer.name}.B", B), lengths]
    attrs = {"hidden_size": H}
    if kind == "GRU":
        attrs["linear_before_reset"] = 1                           # r ⊙ (h·W_hn + b_hn), as PyTorch
    outs = g.nodes_out(kind, inputs, layer.name, 3 if kind == "LSTM" else 2, **attrs)
    if layer.return_sequences:
        y = g.node("Squeeze", [outs[0], _ints(g, "axes", [1])], layer.name)     # (T, N, H)
        return g.node("Transpose", [y], layer.name, perm=[1, 0, 2])
    return g.node("Squeeze", [outs[1], _ints(g, "axes", [0])], layer.name)      # (N, H)


@register_converter("LayerNorm")
def _layer_norm(layer, g: OnnxGraph, x: str, in_shape) -> str:
    if g.opset < 17:
        raise ValueError(f"export_onnx: {layer.name} (LayerNorm) needs opset 17 or later (LayerNormalization); "
                         f"pass opset=17")
    return g.node("LayerNormalization", [x, g.const(f"{layer.name}.weight", layer.weight.data),
                                         g.const(f"{layer.name}.bias", layer.bias.data)],
                  layer.name, axis=-1, epsilon=float(layer.eps))


@register_converter("MultiHeadSelfAttention")
def _self_attention(layer, g: OnnxGraph, x: str, in_shape) -> str:
    from axon.layers.attention import MASKED_SCORE

    d, h = layer.d_model, layer.num_heads
    steps = int(in_shape[0])
    base = layer.name
    qkv = g.node("Add", [g.node("MatMul", [x, g.const(f"{base}.in_proj_weight", layer.in_proj_weight.data)], base),
                         g.const(f"{base}.in_proj_bias", layer.in_proj_bias.data)], base)
    qkv = g.node("Reshape", [qkv, _ints(g, "shape", [0, 0, 3, h, d // h])], base)
    qkv = g.node("Transpose", [qkv], base, perm=[2, 0, 3, 1, 4])     # (3, N, heads, T, d/h)
    q, k, v = (g.node("Gather", [qkv, g.const(f"{base}.{i}", np.array(i, np.int64))], base, axis=0)
               for i in range(3))
    scores = g.node("MatMul", [q, g.node("Transpose", [k], base, perm=[0, 1, 3, 2])], base)
    scores = g.node("Mul", [scores, g.const("scale", np.array(1.0 / np.sqrt(d // h), np.float32))], base)
    allowed = None
    if layer.causal:
        allowed = g.const(f"{base}.causal", np.tril(np.ones((steps, steps), dtype=bool)))
    if g.mask is not None:
        keys = g.node("Cast", [g.node("Reshape", [g.mask, _ints(g, "shape", [0, 1, 1, steps])], base)], base, to=9)
        allowed = keys if allowed is None else g.node("And", [keys, allowed], base)
    if allowed is not None:
        scores = g.node("Where", [allowed, scores, g.const("masked", np.array(MASKED_SCORE, np.float32))], base)
    weights = g.node("Softmax", [scores], base, axis=-1)
    heads = g.node("Transpose", [g.node("MatMul", [weights, v], base)], base, perm=[0, 2, 1, 3])
    heads = g.node("Reshape", [heads, _ints(g, "shape", [0, 0, d])], base)
    y = g.node("MatMul", [heads, g.const(f"{base}.out_proj_weight", layer.out_proj_weight.data)], base)
    return g.node("Add", [y, g.const(f"{base}.out_proj_bias", layer.out_proj_bias.data)], base)


@register_converter("PositionalEncoding")
def _positional(layer, g: OnnxGraph, x: str, in_shape) -> str:
    table = sinusoids(int(in_shape[0]), layer.dim)
    return g.node("Add", [x, g.const(f"{layer.name}.table", table)], layer.name)


@register_converter("Residual")
def _residual(layer, g: OnnxGraph, x: str, in_shape) -> str:
    mask, steps = g.mask, g.mask_steps
    fx, _ = convert_layers(layer.layers, g, x, tuple(in_shape))
    g.mask, g.mask_steps = mask, steps          # the skip path keeps the input's mask
    return g.node("Add", [x, fx], layer.name)
