"""Models of the sequence layers end to end: integer ids and padding masks through fit, evaluate and
predict; model files, checkpoints and exact resume; ax.trace; summaries; ONNX in onnxruntime; the
data helpers and generated tasks."""

from __future__ import annotations

import numpy as np
import pytest

import axon as ax
from axon.callbacks import ModelCheckpoint
from axon.data.sequences import bptt_batches, bucket_batches, pad_sequences, padding_mask, sequence_lengths

V, T, D = 12, 7, 8


def transformer(seed=0, classes=3, dropout=0.0):
    """Embedding with padding → positions → one pre-norm encoder block → masked mean → classes."""
    ax.set_seed(seed)
    return ax.Sequential(
        ax.Embedding(V, D, padding_idx=0), ax.PositionalEncoding(D),
        ax.Residual(ax.Sequential(ax.LayerNorm(D), ax.MultiHeadSelfAttention(D, 2), ax.Dropout(dropout))),
        ax.Residual(ax.Sequential(ax.LayerNorm(D), ax.Dense(D, 16), ax.ReLU(), ax.Dense(16, D))),
        ax.LayerNorm(D), ax.GlobalAvgPool1D(channels_last=True), ax.Dense(D, classes), input_shape=(T,))


def recurrent(seed=0):
    ax.set_seed(seed)
    return ax.Sequential(ax.Embedding(V, D, padding_idx=0), ax.LSTM(D, 6, return_sequences=True),
                         ax.GRU(6, 5), ax.Dense(5, 3), input_shape=(T,))


def conv(seed=0):
    ax.set_seed(seed)
    return ax.Sequential(ax.Conv1D(2, 4, 3, padding=1), ax.ReLU(), ax.MaxPool1D(2),
                         ax.Conv1D(4, 4, 3, dilation=2), ax.AvgPool1D(2, stride=1), ax.GlobalAvgPool1D(),
                         ax.Dense(4, 3), input_shape=(2, 16))


def token_data(n=120, seed=0):
    """Padded id sequences; the class is the most frequent of the tokens 1, 2, 3 (ties: the smallest)."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(2, T + 1, size=n)
    X = np.where(np.arange(T)[None] < lengths[:, None], rng.integers(1, 4, size=(n, T)), 0)
    counts = np.stack([(X == k).sum(axis=1) for k in (1, 2, 3)], axis=1)
    return X.astype(np.int64), counts.argmax(axis=1)


MODELS = {"transformer": transformer, "recurrent": recurrent, "conv": conv}


def inputs(kind, n=6, seed=1):
    if kind == "conv":
        return np.random.default_rng(seed).normal(size=(n, 2, 16)).astype(np.float32)
    return token_data(n, seed)[0]


# -- training with ids and masks ----------------------------------------------------------------------
def test_fit_takes_integer_ids_with_padding_and_learns():
    X, y = token_data(300)
    model = transformer()
    model.compile("cross_entropy", ax.optim.Adam(lr=1e-2), metrics=["accuracy"])
    h = model.fit(X[:240], y[:240], epochs=15, batch_size=32, validation_data=(X[240:], y[240:]),
                  verbose=0, seed=0)
    assert h.history["loss"][-1] < 0.5 * h.history["loss"][0]
    assert h.history["val_accuracy"][-1] >= 0.8
    proba = model.predict(X[240:])
    assert proba.shape == (60, 3) and np.allclose(proba.sum(axis=1), 1, atol=1e-5)
    assert model.evaluate(X[240:], y[240:])["accuracy"] == pytest.approx(h.history["val_accuracy"][-1])


def test_first_layer_ids_are_not_cast_to_float():
    model = recurrent()
    seen = {}
    embedding = model[0]
    original = embedding.forward

    def spy(x, training=False):
        seen["dtype"] = x.dtype
        return original(x, training)

    embedding.forward = spy
    model.forward(token_data(4)[0])
    assert seen["dtype"].kind == "i"
    assert conv().forward(np.ones((2, 2, 16), dtype=np.int64)).dtype == np.float32  # other models still cast


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_gradcheck_whole_models(kind):
    model = MODELS[kind]()
    X = inputs(kind, n=3)
    y = np.random.default_rng(2).integers(0, 3, size=3)
    report = ax.gradcheck(model, ax.losses.SoftmaxCrossEntropy(), X, y, max_entries=25)
    assert report.ok, str(report)


# -- files, checkpoints, resume ---------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(MODELS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_save_and_load_give_the_same_predictions(kind, dtype, tmp_path):
    model = MODELS[kind]().to_dtype(dtype)
    for p in model.parameters():           # not the initial values, so that nothing is rebuilt by chance
        p.data[...] = p.data + 0.05
    X = inputs(kind)
    path = tmp_path / "m.axon"
    ax.save(model, path)
    loaded = ax.load(path)
    assert [p.name for p in loaded.parameters()] == [p.name for p in model.parameters()]
    assert [type(layer).__name__ for layer in loaded] == [type(layer).__name__ for layer in model]
    np.testing.assert_array_equal(loaded.forward(X), model.forward(X))
    assert loaded.summary() == model.summary()


def test_residual_around_a_single_layer_and_batchnorm_buffers_round_trip(tmp_path):
    ax.set_seed(0)
    model = ax.Sequential(ax.Conv1D(2, 3, 3, padding=1),
                          ax.Residual(ax.BatchNorm1d(3)), ax.Residual(ax.Sequential(ax.Conv1D(3, 3, 1), ax.ReLU())),
                          ax.GlobalAvgPool1D(), ax.Dense(3, 2))
    x = np.random.default_rng(0).normal(size=(5, 2, 6)).astype(np.float32)
    model.forward(x, training=True)        # running statistics move
    ax.save(model, tmp_path / "r.axon")
    loaded = ax.load(tmp_path / "r.axon")
    assert isinstance(loaded[1].block, ax.BatchNorm1d) and isinstance(loaded[2].block, ax.Sequential)
    np.testing.assert_array_equal(loaded[1].layers[0].running_mean, model[1].layers[0].running_mean)
    np.testing.assert_array_equal(loaded.forward(x), model.forward(x))


def _tampered(tmp_path, edit):
    import json

    from axon.io.model_file import read_file, write_file
    model = ax.Sequential(ax.Residual(ax.Dense(2, 2)), ax.Dense(2, 1))
    ax.save(model, tmp_path / "ok.axon")
    meta, tensors = read_file(tmp_path / "ok.axon")
    meta = json.loads(json.dumps(meta))
    edit(meta["architecture"]["layers"])
    meta.pop("format_version")
    write_file(tmp_path / "bad.axon", tensors, meta)
    return tmp_path / "bad.axon"


@pytest.mark.parametrize("edit, message", [
    (lambda layers: layers[0]["block"][0].update(type="os.system"), "unknown type"),
    (lambda layers: layers[0].pop("block"), "no valid 'block'"),
    (lambda layers: layers[1].update(block=[]), "holds no block"),
    (lambda layers: layers[0]["config"].update(block={"type": "Dense"}), "unknown argument 'block'"),
])
def test_crafted_blocks_are_refused(tmp_path, edit, message):
    with pytest.raises(ax.io.ModelFileError, match=message):
        ax.load(_tampered(tmp_path, edit))


def test_checkpoint_resume_is_exact_with_recurrent_layers_and_dropout_inside_a_residual(tmp_path):
    X, y = token_data(96)

    def build():
        model = ax.Sequential(ax.Embedding(V, D, padding_idx=0),
                              ax.Residual(ax.Sequential(ax.LSTM(D, D, return_sequences=True), ax.Dropout(0.3))),
                              ax.GRU(D, 4), ax.Dense(4, 3))
        model.compile("cross_entropy", ax.optim.Adam(lr=3e-3))
        return model

    ax.set_seed(0)
    straight = build()
    straight.fit(X, y, epochs=3, batch_size=16, seed=5, verbose=0)
    ax.set_seed(0)
    first = build()
    first.fit(X, y, epochs=2, batch_size=16, seed=5, verbose=0, callbacks=[ModelCheckpoint(tmp_path / "c.ckpt")])
    ax.set_seed(1)                          # other initial weights: all must come from the checkpoint
    resumed = build()
    resumed.fit(X, y, epochs=3, batch_size=16, seed=5, verbose=0, resume_from=tmp_path / "c.ckpt")
    for a, b in zip(straight.parameters(), resumed.parameters()):
        np.testing.assert_array_equal(a.data, b.data)


# -- looking inside -------------------------------------------------------------------------------
def test_trace_records_every_layer_with_the_mask_applied():
    model = transformer()
    X, y = token_data(5)
    before = [p.data.copy() for p in model.parameters()]
    t = ax.trace(model, "cross_entropy", X, y)
    assert [r.name for r in t] == [layer.name for layer in model]
    assert t[0].input.dtype.kind == "i" and t[0].output.shape == (5, T, D)
    attention = model[2].layers[1]
    pads = X == 0
    weights = attention.attention_weights                     # (N, heads, T, T)
    assert np.all(weights[np.broadcast_to(pads[:, None, None, :], weights.shape)] == 0)
    assert t["residual_1"].param_grads                          # the block's gradients, by inner name
    assert all(np.array_equal(a, p.data) for a, p in zip(before, model.parameters()))
    assert "residual_1 (Residual)" in str(t)


def test_summary_shows_the_shapes_of_sequence_layers():
    text = transformer().summary()
    assert "(n, 7, 8)" in text and "(n, 3)" in text and "embedding_1 (Embedding)" in text
    text = recurrent().summary()
    assert "(n, 7, 6)" in text and "(n, 5)" in text
    assert "(n, 4, 8)" in conv().summary()


# -- ONNX -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(MODELS))
def test_onnx_export_matches_onnxruntime(kind, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    model = MODELS[kind]()
    model.loss = ax.losses.SoftmaxCrossEntropy()
    X = inputs(kind, n=9)
    ax.export_onnx(model, tmp_path / "m.onnx")
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    got = session.run(["output"], {"input": X})[0]
    np.testing.assert_allclose(got, model.predict(X), atol=1e-5)


@pytest.mark.parametrize("layer", [
    lambda: ax.RNN(D, 5, return_sequences=True), lambda: ax.LSTM(D, 5), lambda: ax.GRU(D, 5, return_sequences=True),
    lambda: ax.MultiHeadSelfAttention(D, 4, causal=True), lambda: ax.LayerNorm(D), lambda: ax.Dense(D, 3),
])
def test_onnx_each_sequence_layer_after_a_padded_embedding(layer, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    ax.set_seed(0)
    model = ax.Sequential(ax.Embedding(V, D, padding_idx=0), layer())
    X = token_data(6)[0]
    ax.export_onnx(model, tmp_path / "m.onnx", input_shape=(T,))
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(["output"], {"input": X})[0], model.forward(X), atol=1e-5)


def test_onnx_layernorm_needs_opset_17(tmp_path):
    pytest.importorskip("onnx")
    model = ax.Sequential(ax.Dense(3, 3), ax.LayerNorm(3))
    with pytest.raises(ValueError, match="opset 17"):
        ax.export_onnx(model, tmp_path / "m.onnx", opset=16)


# -- data helpers and generated tasks -------------------------------------------------------------------
def test_padding_helpers():
    x = pad_sequences([[5, 2, 7], [3], [1, 1]])
    np.testing.assert_array_equal(x, [[5, 2, 7], [3, 0, 0], [1, 1, 0]])
    np.testing.assert_array_equal(padding_mask([3, 1, 2]), x != 0)
    np.testing.assert_array_equal(sequence_lengths(x), [3, 1, 2])
    vectors = pad_sequences([np.ones((2, 3)), np.ones((4, 3))], length=3, dtype=np.float32)
    assert vectors.shape == (2, 3, 3) and vectors[0, 2].sum() == 0
    with pytest.raises(ValueError, match="different shapes"):
        pad_sequences([np.ones((2, 3)), np.ones((2, 4))])


def test_bucket_batches_cover_every_sequence_once_with_little_padding():
    rng = np.random.default_rng(0)
    seqs = [list(range(1, int(k) + 1)) for k in rng.integers(1, 30, size=100)]
    y = np.arange(100)
    seen, padding = [], 0
    for xb, yb in bucket_batches(seqs, y, 10, seed=1):
        seen += yb.tolist()
        np.testing.assert_array_equal(sequence_lengths(xb), [len(seqs[i]) for i in yb])
        padding += int((xb == 0).sum())
    assert sorted(seen) == list(range(100))
    assert padding < 0.1 * sum(len(s) for s in seqs)   # unsorted batches would pad about a third


def test_bucket_batches_follow_set_seed_without_a_seed():
    seqs = [[1] * k for k in (3, 1, 2, 3, 2, 1, 3, 2)]
    y = np.arange(len(seqs))

    def order():
        return [yb.tolist() for _, yb in bucket_batches(seqs, y, 2)]

    ax.set_seed(3)
    first = order()
    ax.set_seed(3)
    assert order() == first
    ax.set_seed(4)
    assert any(order() != first for _ in range(5))  # the order does come from axon's generator


@pytest.mark.parametrize("call, name", [
    (lambda: next(bucket_batches([[1]], batch_size=2.5)), "bucket_batches batch_size"),
    (lambda: next(bptt_batches(np.arange(50.0), batch_size=2, steps=2.5)), "bptt_batches steps"),
    (lambda: next(bptt_batches(np.arange(50.0), batch_size=True, steps=5)), "bptt_batches batch_size"),
])
def test_batching_integer_arguments_are_checked_as_everywhere(call, name):
    with pytest.raises(TypeError, match=f"{name} must be a positive integer.*; e.g. {name}="):
        call()


def test_bptt_batches_continue_each_row():
    series = np.arange(41.0)
    batches = list(bptt_batches(series, batch_size=2, steps=5))
    assert len(batches) == 4 and batches[0][0].shape == (2, 5, 1)
    x0, y0 = batches[0]
    x1, _ = batches[1]
    np.testing.assert_array_equal(x0[:, :, 0], [[0, 1, 2, 3, 4], [20, 21, 22, 23, 24]])
    np.testing.assert_array_equal(y0[:, :, 0], x0[:, :, 0] + 1)
    np.testing.assert_array_equal(x1[:, 0, 0], x0[:, -1, 0] + 1)  # row i goes on where it stopped


def test_generated_tasks_are_right_and_reproducible():
    add = ax.datasets.make_addition(200, seed=3)
    assert all(int(a) == eval(q) for q, a in zip(add.questions, add.answers))  # noqa: S307 (digits and +)
    assert add.vocab.decode(add.X) == add.questions
    assert add.vocab.decode(add.Y) == ["_" + a.ljust(4) for a in add.answers]
    assert np.array_equal(ax.datasets.make_addition(200, seed=3).X, add.X)
    rev = ax.datasets.make_addition(200, reverse=True, seed=3)
    assert rev.questions == [q[::-1] for q in add.questions]

    import datetime
    dates = ax.datasets.make_dates(300, seed=0)
    assert dates.X.shape == (300, 29) and dates.Y.shape == (300, 11)
    for q, a in zip(dates.questions, dates.answers):
        d = datetime.date.fromisoformat(a)
        assert str(d.day) in q and (str(d.year) in q or f"/{d.year % 100:02d}" in q)
        if "," in q and q.split(",")[0].isalpha():
            assert q.split(",")[0].lower() == d.strftime("%A").lower()

    X, y = ax.datasets.make_parity(50, 8, min_length=3, seed=0)
    np.testing.assert_array_equal(y, (X == 2).sum(axis=1) % 2)
    assert (sequence_lengths(X) >= 3).all()

    noisy, clean = ax.datasets.make_noisy_sine(500, noise=0.1, seed=0)
    assert noisy.dtype == np.float32 and np.std(noisy - clean) == pytest.approx(0.1, rel=0.15)


# -- axon train --layers tokens -------------------------------------------------------------------------
def test_layer_tokens_build_sequence_models_over_image_rows():
    from axon.architectures import build_model
    model = build_model("lstm32,attn4,gap,64", (1, 8, 8), 10)
    assert [type(layer).__name__ for layer in model][:5] == ["Reshape", "LSTM", "Residual", "Residual",
                                                             "GlobalAvgPool1D"]
    assert model[1].return_sequences and "(n, 8, 32)" in model.summary()
    last = build_model("gru16", (1, 8, 8), 10)
    assert not last[1].return_sequences and "(n, 16)" in last.summary()
    rnn = build_model("rnn8,ln", (1, 28, 28), 10)
    assert type(rnn[-2]).__name__ == "LayerNorm"
    assert build_model("lstm8", (1, 8, 8), 10).forward(np.zeros((2, 1, 8, 8), np.float32)).shape == (2, 10)


@pytest.mark.parametrize("spec, message", [("attn3", "multiple of 3 heads"), ("64,lstm8", "sequence tokens before"),
                                           ("lstmx", "not a layer token")])
def test_layer_tokens_explain_mistakes(spec, message):
    from axon.architectures import build_model
    with pytest.raises(ValueError, match=message):
        build_model(spec, (1, 8, 8), 10)
