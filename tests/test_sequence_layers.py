"""The sequence layers: gradient checks in float64 (input, every parameter, padding masks), PyTorch
agreement (forward and gradients, float64), the layer contract (dtype in = dtype out, backward
never mutates its gradient), states, truncated BPTT and padding masks."""

from __future__ import annotations

import numpy as np
import pytest

import axon as ax
from axon.layers.attention import attention, attention_backward

N, T, D, H = 3, 5, 4, 3


def ids(rng, n=N, steps=T, vocab=7, pad_tail=True):
    """Token ids in [1, vocab) with right padding (id 0) of different lengths per row."""
    x = rng.integers(1, vocab, size=(n, steps))
    if pad_tail:
        for i, length in enumerate([steps, 2, 4, 1, 3][:n]):
            x[i, length:] = 0
    return x


# -- one table: name -> builder(rng) returning (layer, input) -------------------------------------
# Every layer type of this chapter appears here; test_every_new_layer_is_in_the_table says so.
TABLE = {
    "conv1d": lambda r: (ax.Conv1D(3, 4, 3, stride=2, padding=2, dilation=2, l2=0.1, seed=r), r.normal(size=(N, 3, 9))),
    "conv1d_plain": lambda r: (ax.Conv1D(2, 3, 1, seed=r), r.normal(size=(N, 2, 6))),
    "maxpool1d": lambda r: (ax.MaxPool1D(2), r.normal(size=(N, 3, 9))),
    "maxpool1d_overlap": lambda r: (ax.MaxPool1D(3, stride=2), r.normal(size=(N, 3, 9))),
    "avgpool1d": lambda r: (ax.AvgPool1D(3, stride=2), r.normal(size=(N, 3, 8))),
    "gap": lambda r: (ax.GlobalAvgPool1D(), r.normal(size=(N, 3, 7))),
    "gap_last": lambda r: (ax.GlobalAvgPool1D(channels_last=True), r.normal(size=(N, T, D))),
    "dense_steps": lambda r: (ax.Dense(D, 2, l1=0.01, seed=r), r.normal(size=(N, T, D))),
    "rnn": lambda r: (ax.RNN(D, H, seed=r), r.normal(size=(N, T, D))),
    "rnn_seq": lambda r: (ax.RNN(D, H, return_sequences=True, seed=r), r.normal(size=(N, T, D))),
    "lstm": lambda r: (ax.LSTM(D, H, seed=r), r.normal(size=(N, T, D))),
    "lstm_seq": lambda r: (ax.LSTM(D, H, return_sequences=True, seed=r), r.normal(size=(N, T, D))),
    "gru": lambda r: (ax.GRU(D, H, seed=r), r.normal(size=(N, T, D))),
    "gru_seq": lambda r: (ax.GRU(D, H, return_sequences=True, init="xavier", seed=r), r.normal(size=(N, T, D))),
    "layernorm": lambda r: (ax.LayerNorm(D), r.normal(size=(N, T, D))),
    "attention": lambda r: (ax.MultiHeadSelfAttention(D, 2, seed=r), r.normal(size=(N, T, D))),
    "attention_causal": lambda r: (ax.MultiHeadSelfAttention(D, 1, causal=True, seed=r), r.normal(size=(N, T, D))),
    "positional": lambda r: (ax.PositionalEncoding(D), r.normal(size=(N, T, D))),
    "residual": lambda r: (ax.Residual(ax.Sequential(ax.LayerNorm(D), ax.Dense(D, D, seed=r), ax.Tanh())),
                           r.normal(size=(N, T, D))),
    "residual_layer": lambda r: (ax.Residual(ax.MultiHeadSelfAttention(D, 2, seed=r)), r.normal(size=(N, T, D))),
    "embedding": lambda r: (ax.Embedding(7, D, seed=r), ids(r, pad_tail=False)),
    "embedding_pad": lambda r: (ax.Embedding(7, D, padding_idx=0, seed=r), ids(r)),
}


def _randomise(model, rng):
    """Non-trivial biases and norm weights, so that a missing term shows in the comparison."""
    for p in model.parameters():
        if p.name.endswith(("bias", "bias_ih", "bias_hh", "in_proj_bias", "out_proj_bias")) or \
                ".layernorm" in p.name or p.name.startswith("layernorm"):
            p.data[...] = p.data + 0.3 * rng.standard_normal(p.shape).astype(p.dtype)


@pytest.mark.parametrize("kind", sorted(TABLE))
def test_gradcheck_every_layer(kind):
    rng = np.random.default_rng(0)
    ax.set_seed(0)
    layer, x = TABLE[kind](rng)
    model = ax.Sequential(layer)
    _randomise(model, rng)
    out = model.forward(x)
    report = ax.gradcheck(model, ax.losses.MSE(), x, rng.normal(size=out.shape), max_entries=60)
    assert report.max_rel_error <= 1e-6, str(report)


# Padding masks made by an Embedding with padding_idx, reaching each layer that takes them.
MASKED = {
    "rnn": lambda r: ax.RNN(D, H, return_sequences=True, seed=r),
    "rnn_last": lambda r: ax.RNN(D, H, seed=r),
    "lstm": lambda r: ax.LSTM(D, H, return_sequences=True, seed=r),
    "lstm_last": lambda r: ax.LSTM(D, H, seed=r),
    "gru": lambda r: ax.GRU(D, H, return_sequences=True, seed=r),
    "gru_last": lambda r: ax.GRU(D, H, seed=r),
    "attention": lambda r: ax.MultiHeadSelfAttention(D, 2, seed=r),
    "attention_causal": lambda r: ax.MultiHeadSelfAttention(D, 2, causal=True, seed=r),
    "gap_last": lambda r: ax.GlobalAvgPool1D(channels_last=True),
    "residual": lambda r: ax.Residual(ax.Sequential(ax.LayerNorm(D), ax.MultiHeadSelfAttention(D, 2, seed=r))),
}


@pytest.mark.parametrize("kind", sorted(MASKED))
def test_gradcheck_with_padding_mask(kind):
    rng = np.random.default_rng(1)
    ax.set_seed(1)
    model = ax.Sequential(ax.Embedding(7, D, padding_idx=0, seed=rng), MASKED[kind](rng),
                          ax.GlobalAvgPool1D(channels_last=True) if kind.endswith(("rnn", "lstm", "gru"))
                          else ax.Identity())
    _randomise(model, rng)
    x = ids(rng)
    out = model.forward(x)
    report = ax.gradcheck(model, ax.losses.MSE(), x, rng.normal(size=out.shape), max_entries=60)
    assert report.max_rel_error <= 1e-6, str(report)


@pytest.mark.parametrize("kind", sorted(TABLE))
def test_backward_does_not_mutate_incoming_gradient(kind):
    rng = np.random.default_rng(2)
    layer, x = TABLE[kind](rng)
    y = layer.forward(x if x.dtype.kind == "i" else x.astype(np.float32), training=True)
    g = rng.normal(size=y.shape).astype(np.float32)
    before = g.copy()
    gx = layer.backward(g)
    np.testing.assert_array_equal(g, before)
    assert gx is not g and gx.shape == x.shape


@pytest.mark.parametrize("kind", sorted(TABLE))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_in_is_dtype_out(kind, dtype):
    ax.set_default_dtype(dtype)
    layer, x = TABLE[kind](np.random.default_rng(3))
    if x.dtype.kind == "f":
        x = x.astype(dtype)
    y = layer.forward(x, training=True)
    assert y.dtype == dtype
    gx = layer.backward(np.ones(y.shape, dtype=dtype))
    assert gx.dtype == dtype
    for p in layer.parameters():
        assert p.data.dtype == dtype and p.grad.dtype == dtype


@pytest.mark.parametrize("kind", sorted(TABLE))
def test_output_shape_and_config_rebuild(kind):
    rng = np.random.default_rng(4)
    layer, x = TABLE[kind](rng)
    y = layer.forward(x)
    assert layer.output_shape(x.shape[1:]) == y.shape[1:]
    if not isinstance(layer, ax.Residual):
        rebuilt = ax.layers.LAYER_REGISTRY[type(layer).__name__](**layer.get_config())
        assert [p.shape for p in rebuilt.parameters()] == [p.shape for p in layer.parameters()]


def test_every_new_layer_is_in_the_table():
    new = {"Conv1D", "MaxPool1D", "AvgPool1D", "GlobalAvgPool1D", "Embedding", "RNN", "LSTM", "GRU",
           "LayerNorm", "MultiHeadSelfAttention", "PositionalEncoding", "Residual"}
    assert new <= set(ax.layers.LAYER_REGISTRY)
    covered = {type(TABLE[k](np.random.default_rng(0))[0]).__name__ for k in TABLE}
    assert new <= covered


# -- PyTorch as the reference (float64, forward and every gradient) --------------------------------
try:
    import torch
except ImportError:  # the tests below that need it skip; the others run
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="needs PyTorch (the dev extra has it)")


def _t(a, grad=False):
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=grad)


def _close(a, b):
    np.testing.assert_allclose(a, b.detach().numpy() if hasattr(b, "detach") else b, rtol=1e-6, atol=1e-10)


def _against(ours, theirs, x, rng):
    """Forward and backward of ``ours`` (axon) and ``theirs`` (torch) on x with one random ∂C/∂y;
    asserts equal outputs and input gradients and returns nothing (parameter gradients are left in both)."""
    y = ours.forward(x)
    g = rng.normal(size=y.shape)
    dx = ours.backward(g, input_grad=True) if isinstance(ours, ax.Sequential) else ours.backward(g)
    xt = _t(x, True)
    yt = theirs(xt)
    yt.backward(_t(g))
    _close(y, yt)
    _close(dx, xt.grad)


def _torch_rnn(layer):
    cls = {"RNN": torch.nn.RNN, "LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}[type(layer).__name__]
    net = cls(layer.input_size, layer.hidden_size, batch_first=True).double()
    with torch.no_grad():  # axon's row-vector layout: one transpose
        net.weight_ih_l0.copy_(_t(layer.weight_ih.data.T))
        net.weight_hh_l0.copy_(_t(layer.weight_hh.data.T))
        net.bias_ih_l0.copy_(_t(layer.bias_ih.data))
        net.bias_hh_l0.copy_(_t(layer.bias_hh.data))
    return net


@needs_torch
@pytest.mark.parametrize("cls", [ax.RNN, ax.LSTM, ax.GRU])
@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("masked", [False, True])
def test_recurrent_matches_pytorch(cls, return_sequences, masked):
    """Same gate order, weights copied with one transpose; initial state and its gradient; a padded
    batch against PyTorch's packed sequences."""
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    rng = np.random.default_rng(5)
    n, steps, d, h = 4, 6, 3, 5
    layer = cls(d, h, return_sequences=return_sequences, dtype="float64", seed=rng)
    net = _torch_rnn(layer)
    x = rng.normal(size=(n, steps, d))
    lengths = np.array([6, 3, 1, 4]) if masked else np.full(n, steps)
    mask = np.arange(steps)[None] < lengths[:, None]
    h0, c0 = rng.normal(size=(n, h)), rng.normal(size=(n, h))
    lstm = cls is ax.LSTM
    y = layer.forward(x, mask=mask if masked else None, initial_state=(h0, c0) if lstm else h0)
    g = rng.normal(size=y.shape)
    dx = layer.backward(g)

    xt, h0t, c0t = _t(x, True), _t(h0[None], True), _t(c0[None], True)
    inp = pack_padded_sequence(xt, torch.tensor(lengths), batch_first=True, enforce_sorted=False) if masked else xt
    out, state = net(inp, (h0t, c0t) if lstm else h0t)
    if masked:
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=steps)
    yt = out if return_sequences else (state[0] if lstm else state)[0]
    yt.backward(_t(g))
    _close(y, yt)
    _close(dx, xt.grad)
    for ours, theirs in (("weight_ih", "weight_ih_l0"), ("weight_hh", "weight_hh_l0")):
        _close(getattr(layer, ours).grad, getattr(net, theirs).grad.T)
    for ours, theirs in (("bias_ih", "bias_ih_l0"), ("bias_hh", "bias_hh_l0")):
        _close(getattr(layer, ours).grad, getattr(net, theirs).grad)
    gh0 = layer.grad_initial_state[0] if lstm else layer.grad_initial_state
    _close(gh0, h0t.grad[0])
    if lstm:
        _close(layer.grad_initial_state[1], c0t.grad[0])
    final = (state[0] if lstm else state)[0]
    _close(layer.state[0] if lstm else layer.state, final)


@needs_torch
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_attention_matches_pytorch(causal, masked):
    rng = np.random.default_rng(6)
    n, steps, d, heads = 3, 5, 8, 2
    layer = ax.MultiHeadSelfAttention(d, heads, causal=causal, dtype="float64", seed=rng)
    _randomise(ax.Sequential(layer), rng)
    mha = torch.nn.MultiheadAttention(d, heads, batch_first=True).double()
    with torch.no_grad():
        mha.in_proj_weight.copy_(_t(layer.in_proj_weight.data.T))
        mha.in_proj_bias.copy_(_t(layer.in_proj_bias.data))
        mha.out_proj.weight.copy_(_t(layer.out_proj_weight.data.T))
        mha.out_proj.bias.copy_(_t(layer.out_proj_bias.data))
    x = rng.normal(size=(n, steps, d))
    mask = np.ones((n, steps), dtype=bool)
    mask[0, 3:] = mask[2, 1:] = False
    y = layer.forward(x, mask=mask if masked else None)
    g = rng.normal(size=y.shape)
    dx = layer.backward(g)
    xt = _t(x, True)
    kwargs = {}
    if causal:
        kwargs["attn_mask"] = torch.triu(torch.ones(steps, steps, dtype=torch.bool), 1)  # True = not allowed
    if masked:
        kwargs["key_padding_mask"] = torch.tensor(~mask)
    yt, weights = mha(xt, xt, xt, average_attn_weights=False, **kwargs)
    yt.backward(_t(g))
    _close(y, yt)
    _close(layer.attention_weights, weights)
    _close(dx, xt.grad)
    _close(layer.in_proj_weight.grad, mha.in_proj_weight.grad.T)
    _close(layer.in_proj_bias.grad, mha.in_proj_bias.grad)
    _close(layer.out_proj_weight.grad, mha.out_proj.weight.grad.T)
    _close(layer.out_proj_bias.grad, mha.out_proj.bias.grad)


@pytest.mark.parametrize("k, stride, padding, dilation", [(3, 1, 1, 1), (3, 2, 2, 2), (4, 3, 0, 1), (1, 1, 0, 1),
                                                          (2, 2, 1, 3)])
@needs_torch
def test_conv1d_matches_pytorch(k, stride, padding, dilation):
    rng = np.random.default_rng(7)
    conv = ax.Conv1D(3, 4, k, stride=stride, padding=padding, dilation=dilation, dtype="float64", seed=rng)
    conv.bias.data[:] = rng.normal(size=4)
    x = rng.normal(size=(2, 3, 11))
    y = conv.forward(x)
    g = rng.normal(size=y.shape)
    dx = conv.backward(g)
    xt, Wt, bt = _t(x, True), _t(conv.weight.data, True), _t(conv.bias.data, True)
    yt = torch.nn.functional.conv1d(xt, Wt, bt, stride=stride, padding=padding, dilation=dilation)
    yt.backward(_t(g))
    _close(y, yt)
    _close(dx, xt.grad)
    _close(conv.weight.grad, Wt.grad)
    _close(conv.bias.grad, bt.grad)


@pytest.mark.parametrize("layer, reference", [
    (lambda: ax.MaxPool1D(3, stride=2), lambda t: torch.nn.functional.max_pool1d(t, 3, 2)),
    (lambda: ax.AvgPool1D(2), lambda t: torch.nn.functional.avg_pool1d(t, 2)),
    (lambda: ax.GlobalAvgPool1D(), lambda t: t.mean(dim=2)),
])
@needs_torch
def test_pool1d_matches_pytorch(layer, reference):
    rng = np.random.default_rng(8)
    _against(layer(), reference, rng.normal(size=(2, 3, 9)), rng)


@needs_torch
@pytest.mark.parametrize("vocab", [6, 300])  # 300 > 256: the scatter-add backward, not the one-hot product
def test_embedding_matches_pytorch_with_repeated_ids(vocab):
    rng = np.random.default_rng(19)
    emb = ax.Embedding(vocab, 4, padding_idx=2, dtype="float64", seed=rng)
    ref = torch.nn.Embedding(vocab, 4, padding_idx=2).double()
    with torch.no_grad():
        ref.weight.copy_(_t(emb.weight.data))
    x = np.concatenate([rng.integers(0, vocab, size=(3, 5)), np.full((1, 5), vocab - 1)])  # ids repeat
    g = rng.normal(size=(4, 5, 4))
    emb.forward(x)
    emb.backward(g)
    ref(torch.tensor(x)).backward(_t(g))
    _close(emb.weight.grad, ref.weight.grad)


def test_large_vocabulary_embedding_passes_the_gradient_check():
    rng = np.random.default_rng(20)
    model = ax.Sequential(ax.Embedding(300, 3, seed=rng), ax.Flatten(),
                          ax.Dense(12, 2, seed=rng))
    x = np.concatenate([rng.integers(0, 300, size=(3, 4)), np.full((1, 4), 299)])
    report = ax.gradcheck(model, ax.losses.MSE(), x, rng.normal(size=(4, 2)), max_entries=60)
    assert report.max_rel_error <= 1e-6, str(report)


def test_positional_encoding_adds_the_sinusoids_of_the_paper():
    layer = ax.PositionalEncoding(6)
    x = np.zeros((2, 5, 6))
    y = layer.forward(x)
    t, i = np.arange(5)[:, None], np.arange(3)[None, :]
    angle = t / 10000.0 ** (2 * i / 6)
    assert np.allclose(y[1, :, 0::2], np.sin(angle)) and np.allclose(y[1, :, 1::2], np.cos(angle))
    assert np.array_equal(y[0], y[1]) and y.dtype == np.float64


@needs_torch
def test_embedding_and_layernorm_match_pytorch():
    rng = np.random.default_rng(9)
    emb = ax.Embedding(6, 4, padding_idx=2, dtype="float64", seed=rng)
    ref = torch.nn.Embedding(6, 4, padding_idx=2).double()
    with torch.no_grad():
        ref.weight.copy_(_t(emb.weight.data))
    x = rng.integers(0, 6, size=(3, 5))
    y = emb.forward(x)
    g = rng.normal(size=y.shape)
    emb.backward(g)
    yt = ref(torch.tensor(x))
    yt.backward(_t(g))
    _close(y, yt)
    _close(emb.weight.grad, ref.weight.grad)
    assert not emb.weight.data[2].any()

    ln = ax.LayerNorm(4, eps=1e-3, dtype="float64")
    ln.weight.data[:], ln.bias.data[:] = rng.normal(size=4), rng.normal(size=4)
    ref_ln = torch.nn.LayerNorm(4, eps=1e-3).double()
    with torch.no_grad():
        ref_ln.weight.copy_(_t(ln.weight.data))
        ref_ln.bias.copy_(_t(ln.bias.data))
    _against(ln, ref_ln, rng.normal(size=(3, 5, 4)) * 3 + 1, rng)
    _close(ln.weight.grad, ref_ln.weight.grad)
    _close(ln.bias.grad, ref_ln.bias.grad)


@needs_torch
def test_transformer_encoder_block_matches_pytorch():
    """A pre-norm encoder block as a Sequential of Residuals equals PyTorch's
    TransformerEncoderLayer(norm_first=True, dropout=0) with the weights copied."""
    rng = np.random.default_rng(10)
    d, heads, ff = 8, 2, 16
    block = ax.Sequential(
        ax.Residual(ax.Sequential(ax.LayerNorm(d), ax.MultiHeadSelfAttention(d, heads, seed=rng))),
        ax.Residual(ax.Sequential(ax.LayerNorm(d), ax.Dense(d, ff, seed=rng), ax.ReLU(), ax.Dense(ff, d, seed=rng))))
    block.to_dtype("float64")
    _randomise(block, rng)
    ref = torch.nn.TransformerEncoderLayer(d, heads, ff, dropout=0.0, batch_first=True, norm_first=True).double()
    attn, ffn = block[0].layers[1], block[1].layers
    with torch.no_grad():
        ref.norm1.weight.copy_(_t(block[0].layers[0].weight.data))
        ref.norm1.bias.copy_(_t(block[0].layers[0].bias.data))
        ref.self_attn.in_proj_weight.copy_(_t(attn.in_proj_weight.data.T))
        ref.self_attn.in_proj_bias.copy_(_t(attn.in_proj_bias.data))
        ref.self_attn.out_proj.weight.copy_(_t(attn.out_proj_weight.data.T))
        ref.self_attn.out_proj.bias.copy_(_t(attn.out_proj_bias.data))
        ref.norm2.weight.copy_(_t(ffn[0].weight.data))
        ref.norm2.bias.copy_(_t(ffn[0].bias.data))
        ref.linear1.weight.copy_(_t(ffn[1].weight.data.T))
        ref.linear1.bias.copy_(_t(ffn[1].bias.data))
        ref.linear2.weight.copy_(_t(ffn[3].weight.data.T))
        ref.linear2.bias.copy_(_t(ffn[3].bias.data))
    _against(block, ref, rng.normal(size=(2, 6, d)), rng)
    _close(attn.in_proj_weight.grad, ref.self_attn.in_proj_weight.grad.T)
    _close(ffn[1].weight.grad, ref.linear1.weight.grad.T)


# -- states, truncated BPTT, masks ------------------------------------------------------------------
@pytest.mark.parametrize("cls", [ax.RNN, ax.LSTM, ax.GRU])
def test_stateful_chunks_continue_the_sequence(cls):
    """Two chunks through a stateful layer give the outputs of the whole sequence at once; backward
    of the second chunk stops at its start (truncated BPTT)."""
    rng = np.random.default_rng(11)
    whole = cls(D, H, return_sequences=True, dtype="float64", seed=np.random.default_rng(0))
    chunked = cls(D, H, return_sequences=True, stateful=True, dtype="float64", seed=np.random.default_rng(0))
    x = rng.normal(size=(N, 8, D))
    y = whole.forward(x)
    first = chunked.forward(x[:, :5])
    carried = chunked.state
    second = chunked.forward(x[:, 5:])
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), y, rtol=1e-12, atol=1e-14)
    g = rng.normal(size=second.shape)
    chunked.zero_grad()
    chunked.backward(g)
    fresh = cls(D, H, return_sequences=True, dtype="float64", seed=np.random.default_rng(0))
    fresh.forward(x[:, 5:], initial_state=carried)
    fresh.backward(g)
    for a, b in zip(chunked.parameters(), fresh.parameters()):
        np.testing.assert_allclose(a.grad, b.grad, rtol=1e-12, atol=1e-14)
    chunked.reset_state()
    np.testing.assert_allclose(chunked.forward(x[:, :5]), first)
    with pytest.raises(ValueError, match="reset_state"):
        chunked.forward(x[:2, :5])


def test_reset_states_reaches_layers_inside_a_model():
    lstm = ax.LSTM(D, H, stateful=True, return_sequences=True)
    gru = ax.GRU(H, H, stateful=True)
    model = ax.Sequential(lstm, ax.Residual(ax.Dense(H, H)), gru)
    model.forward(np.ones((2, 3, D), np.float32))
    assert lstm.state is not None and gru.state is not None
    ax.layers.reset_states(model)
    assert lstm.state is None and gru.state is None


@pytest.mark.parametrize("cls", [ax.RNN, ax.LSTM, ax.GRU])
def test_gradient_into_the_final_state_from_outside(cls):
    """backward(grad_y, grad_state=...) for an encoder whose final state starts a decoder: the
    gradient of C = Σ y·g + Σ h_T·gh (+ c_T·gc) against central differences in x."""
    rng = np.random.default_rng(12)
    layer = cls(D, H, return_sequences=True, dtype="float64", seed=rng)
    x = rng.normal(size=(2, 4, D))
    g = rng.normal(size=(2, 4, H))
    gs = [rng.normal(size=(2, H)) for _ in range(2 if cls is ax.LSTM else 1)]

    def cost(x):
        y = layer.forward(x)
        state = layer.state if cls is ax.LSTM else (layer.state,)
        return float(np.sum(y * g) + sum(np.sum(s * w) for s, w in zip(state, gs)))

    cost(x)
    dx = layer.backward(g, grad_state=tuple(gs) if cls is ax.LSTM else gs[0])
    num = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = 1e-6
        num[i] = (cost(x + e) - cost(x - e)) / 2e-6
    np.testing.assert_allclose(dx, num, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru", "attention", "gap"])
def test_padding_does_not_change_the_answer(kind):
    """A sequence padded to a longer batch gives the output it gives alone."""
    rng = np.random.default_rng(13)
    ax.set_seed(0)
    head = {"rnn": ax.RNN(D, H), "lstm": ax.LSTM(D, H), "gru": ax.GRU(D, H),
            "attention": ax.Residual(ax.MultiHeadSelfAttention(D, 2)), "gap": ax.Identity()}[kind]
    model = ax.Sequential(ax.Embedding(9, D, padding_idx=0), head, *(
        [ax.GlobalAvgPool1D(channels_last=True)] if kind in ("attention", "gap") else []))
    x = rng.integers(1, 9, size=(1, 4))
    alone = model.forward(x)
    padded = np.zeros((3, 7), dtype=np.int64)
    padded[1, :4] = x[0]
    padded[0, :6] = rng.integers(1, 9, size=6)
    np.testing.assert_allclose(model.forward(padded)[1], alone[0], rtol=1e-5, atol=1e-6)


def test_explicit_mask_argument_equals_embedding_mask():
    rng = np.random.default_rng(14)
    ax.set_seed(0)
    emb = ax.Embedding(9, D, padding_idx=0)
    lstm = ax.LSTM(D, H)
    x = rng.integers(1, 9, size=(3, 6))
    x[0, 3:] = 0
    by_ids = ax.Sequential(emb, lstm).forward(x)
    vectors = emb.forward(x)
    by_arg = ax.Sequential(lstm).forward(vectors, mask=x != 0)
    np.testing.assert_array_equal(by_ids, by_arg)


def test_attention_functions_are_a_soft_dictionary():
    """With one key far more similar to the query than the others, attention returns its value."""
    keys = np.eye(4) * 50.0
    values = np.arange(8.0).reshape(4, 2)
    out, w = attention(keys[None, 2:3], keys[None], values[None])
    np.testing.assert_allclose(out[0, 0], values[2], atol=1e-6)
    assert w.shape == (1, 1, 4) and w.sum() == pytest.approx(1.0)
    allowed = np.array([[True, True, False, True]])
    out, w = attention(keys[None, 2:3], keys[None], values[None], allowed)
    assert w[0, 0, 2] == 0.0 and w[0, 0].sum() == pytest.approx(1.0)
    dq, dk, dv = attention_backward(np.ones_like(out), keys[None, 2:3], keys[None], values[None], w)
    assert dq.shape == (1, 1, 4) and dk.shape == (1, 4, 4) and dv.shape == (1, 4, 2)


def test_residual_names_its_block_and_rejects_shape_changes():
    model = ax.Sequential(ax.Residual(ax.Sequential(ax.LayerNorm(4), ax.Dense(4, 4))),
                          ax.Residual(ax.Sequential(ax.LayerNorm(4), ax.Dense(4, 4))))
    names = [p.name for p in model.parameters()]
    assert names[:2] == ["residual_1.layernorm_1.weight", "residual_1.layernorm_1.bias"]
    assert "residual_2.dense_1.weight" in names and len(set(names)) == len(names)
    assert list(model[0].named_parameters())[0] == "layernorm_1.weight"
    with pytest.raises(ValueError, match="keep the shape"):
        ax.Residual(ax.Dense(4, 3)).forward(np.ones((2, 4), np.float32))
    with pytest.raises(TypeError, match="layer or a Sequential"):
        ax.Residual("dense")


@pytest.mark.parametrize("make, x, message", [
    (lambda: ax.LSTM(3, 4), np.ones((2, 5)), r"\(n, steps, 3\)"),
    (lambda: ax.Conv1D(2, 3, 5), np.ones((1, 2, 3)), "shorter than the kernel"),
    (lambda: ax.Embedding(5, 2), np.array([[1, 7]]), r"ids must be in \[0, 5\)"),
    (lambda: ax.Embedding(5, 2), np.array([[0.5]]), "integer ids"),
    (lambda: ax.MultiHeadSelfAttention(4, 2), np.ones((1, 3, 5)), r"\(n, steps, 4\)"),
    (lambda: ax.LayerNorm(3), np.ones((2, 4)), r"\(n, ..., 3\)"),
])
def test_errors_say_what_to_pass(make, x, message):
    with pytest.raises(ValueError, match=message):
        make().forward(x)


@pytest.mark.parametrize("make, name", [
    (lambda: ax.Conv1D(2, 3, 2.5), "Conv1D kernel_size"),
    (lambda: ax.Conv1D(2, 3, 3, padding=1.0), "Conv1D padding"),
    (lambda: ax.MaxPool1D(2, stride=True), "MaxPool1D stride"),
    (lambda: ax.AvgPool1D(2.0), "AvgPool1D kernel_size"),
    (lambda: ax.PositionalEncoding(8.0), "PositionalEncoding dim"),
    (lambda: ax.LSTM(3.0, 4), "LSTM input_size"),
    (lambda: ax.GRU(3, "4"), "GRU hidden_size"),
    (lambda: ax.MultiHeadSelfAttention(4, 2.0), "MultiHeadSelfAttention num_heads"),
    (lambda: ax.LayerNorm(3.0), "LayerNorm dim"),
    (lambda: ax.Embedding(5.0, 2), "Embedding num_embeddings"),
    (lambda: ax.Embedding(5, 2, padding_idx=1.0), "Embedding padding_idx"),
])
def test_a_non_integer_size_is_a_type_error_naming_the_argument(make, name):
    # axon.validation.check_int's ArgumentTypeError: a TypeError and a ValueError.
    with pytest.raises(TypeError, match=name) as info:
        make()
    assert isinstance(info.value, ValueError)


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="multiple of"):
        ax.MultiHeadSelfAttention(6, 4)
    with pytest.raises(ValueError, match="padding_idx"):
        ax.Embedding(4, 2, padding_idx=4)
    with pytest.raises(ValueError, match="hidden_size"):
        ax.GRU(3, 0)
    with pytest.raises(ValueError, match="dilation"):
        ax.Conv1D(1, 1, 3, dilation=0)
