"""Model files: save/load round trips (bit-identical), what is restored, atomic writes, save errors."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import axon as ax
from axon.io import ModelFileError
from axon.io.atomic import atomic_write_bytes
from axon.preprocessing import Standardizer

ACTIVATIONS = {"relu": ax.ReLU, "sigmoid": ax.Sigmoid, "tanh": ax.Tanh, "identity": ax.Identity,
               "softmax": ax.Softmax, "leaky": lambda: ax.LeakyReLU(0.2)}
LOSSES = [None, ax.losses.MSE(), ax.losses.SoftmaxCrossEntropy(),
          ax.losses.BinaryCrossEntropy(from_logits=False), ax.losses.QuadraticCost()]

layer_token = st.one_of(
    st.tuples(st.just("dense"), st.integers(1, 7), st.booleans(),
              st.sampled_from([0.0, 1e-4, 0.3]), st.sampled_from([0.0, 1e-3, 2.5])),
    st.sampled_from(sorted(ACTIVATIONS)),
    st.tuples(st.just("dropout"), st.floats(0.0, 0.9)),
)


def build(tokens, d_in: int, d_out: int, dtype: str, seed: int) -> ax.Sequential:
    ax.set_seed(seed)
    layers, d = [], d_in
    for t in tokens:
        if isinstance(t, str):
            layers.append(ACTIVATIONS[t]())
        elif t[0] == "dense":
            _, out, bias, l1, l2 = t
            layers.append(ax.Dense(d, out, bias=bias, l1=l1, l2=l2, dtype=dtype))
            d = out
        else:
            layers.append(ax.Dropout(t[1]))
    layers.append(ax.Dense(d, d_out, dtype=dtype))
    return ax.Sequential(*layers)


def roundtrip(model: ax.Sequential) -> ax.Sequential:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.axon"
        ax.save(model, path)
        return ax.load(path)


def layer_summary(model: ax.Sequential):
    return [(type(layer).__name__, layer.name, layer.get_config()) for layer in model.layers]


@settings(max_examples=40, deadline=None)
@given(tokens=st.lists(layer_token, max_size=6), d_in=st.integers(1, 6), d_out=st.integers(1, 4),
       dtype=st.sampled_from(["float32", "float64"]), with_pre=st.booleans(),
       loss_i=st.integers(0, len(LOSSES) - 1), seed=st.integers(0, 2**16))
def test_random_architectures_round_trip_bit_identically(tokens, d_in, d_out, dtype, with_pre, loss_i, seed):
    model = build(tokens, d_in, d_out, dtype, seed)
    rng = np.random.default_rng(seed)
    X = (rng.normal(size=(9, d_in)) * 3 + 1).astype(dtype)
    if with_pre:
        model.preprocessor = Standardizer().fit(X)
    if LOSSES[loss_i] is not None:
        model.loss = LOSSES[loss_i]
        model.metrics = ["accuracy"] if loss_i % 2 else []
    loaded = roundtrip(model)

    assert loaded.dtype == np.dtype(dtype)
    assert layer_summary(loaded) == layer_summary(model)
    assert loaded.input_shape == (d_in,)
    assert list(loaded.named_parameters()) == list(model.named_parameters())
    for (name, p), q in zip(model.named_parameters().items(), loaded.parameters()):
        assert q.data.dtype == p.data.dtype and np.array_equal(q.data, p.data), name
        assert q.grad.shape == p.data.shape and not q.grad.any()
    Xin = model.preprocessor.transform(X) if with_pre else X
    Xin2 = loaded.preprocessor.transform(X) if with_pre else X
    out, out2 = model.forward(Xin), loaded.forward(Xin2)
    assert out.dtype == out2.dtype == np.dtype(dtype)
    assert np.array_equal(out, out2)  # bit-identical, NaN-free
    if with_pre:
        assert np.array_equal(loaded.preprocessor.mean_, model.preprocessor.mean_)
        assert np.array_equal(loaded.preprocessor.scale_, model.preprocessor.scale_)
    else:
        assert loaded.preprocessor is None
    if LOSSES[loss_i] is None:
        assert loaded.loss is None
    else:
        assert type(loaded.loss) is type(model.loss)
        assert loaded.loss.get_config() == model.loss.get_config()
        assert loaded.metrics == model.metrics


def test_restores_regularisation_dropout_names_and_penalty(tmp_path):
    ax.set_seed(1)
    model = ax.Sequential(ax.Dense(5, 4, l1=0.01, l2=0.2, name="hidden"), ax.Tanh(),
                          ax.Dropout(0.35), ax.Dense(4, 2, bias=False))
    ax.save(model, tmp_path / "m.axon")
    loaded = ax.load(tmp_path / "m.axon")
    assert [layer.name for layer in loaded] == [layer.name for layer in model]
    assert loaded[0].name == "hidden" and loaded[0].weight.name == "hidden.weight"
    assert loaded[0].l1 == 0.01 and loaded[0].l2 == 0.2
    assert loaded[2].p == 0.35
    assert loaded[3].bias is None
    assert loaded.penalty() == model.penalty() > 0


def test_cnn_with_batchnorm_buffers_round_trips(tmp_path):
    ax.set_seed(2)
    model = ax.Sequential(ax.Conv2D(1, 3, 3, padding=1), ax.BatchNorm2d(3), ax.ReLU(), ax.MaxPool2D(2),
                          ax.Flatten(), ax.Dense(48, 5), ax.BatchNorm1d(5), input_shape=(1, 8, 8))
    X = np.random.default_rng(0).normal(size=(6, 1, 8, 8)).astype(np.float32)
    for _ in range(3):  # move the running statistics away from their initial values
        model.forward(X, training=True)
    ax.save(model, tmp_path / "cnn.axon")
    loaded = ax.load(tmp_path / "cnn.axon")
    for layer, other in zip(model.layers, loaded.layers):
        for key, value in layer.buffers().items():
            assert np.array_equal(other.buffers()[key], value), (layer.name, key)
    assert not np.allclose(model[1].buffers()["running_mean"], 0)
    assert np.array_equal(model.forward(X), loaded.forward(X))
    assert loaded.input_shape == (1, 8, 8)
    assert "(n, 5)" in loaded.summary()


def test_file_is_plain_safetensors_with_named_tensors_and_json_metadata(tmp_path):
    from safetensors import safe_open

    model = ax.Sequential(ax.Dense(3, 2), ax.ReLU(), ax.Dense(2, 1))
    model.preprocessor = Standardizer().fit(np.arange(12.0).reshape(4, 3))
    ax.save(model, tmp_path / "m.axon")
    with safe_open(tmp_path / "m.axon", framework="numpy") as f:
        names = set(f.keys())
        meta = json.loads(f.metadata()["axon"])
    assert names == {"dense_1.weight", "dense_1.bias", "dense_2.weight", "dense_2.bias",
                     "preprocessor.mean", "preprocessor.scale"}
    assert meta["format_version"] == 1 and meta["kind"] == "model" and meta["dtype"] == "float32"
    assert [entry["type"] for entry in meta["architecture"]["layers"]] == ["Dense", "ReLU", "Dense"]
    assert meta["preprocessor"]["type"] == "Standardizer"


def test_frozen_parameters_and_optimizer_are_restored(tmp_path):
    model = ax.Sequential(ax.Dense(3, 4), ax.ReLU(), ax.Dense(4, 2))
    model[0].weight.trainable = False
    model.loss = ax.losses.SoftmaxCrossEntropy()
    model.optimizer = ax.optim.Adam(model.parameters(), lr=0.005, betas=(0.8, 0.99))
    ax.save(model, tmp_path / "m.axon")
    loaded = ax.load(tmp_path / "m.axon")
    assert [p.trainable for p in loaded.parameters()] == [False, True, True, True]
    assert isinstance(loaded.optimizer, ax.optim.Adam)
    assert loaded.optimizer.lr == 0.005 and tuple(loaded.optimizer.betas) == (0.8, 0.99)
    assert loaded.optimizer.params[0] is loaded.parameters()[0]


def test_loading_does_not_advance_axons_generator(tmp_path):
    ax.save(ax.Sequential(ax.Dense(20, 30), ax.Dense(30, 2)), tmp_path / "m.axon")
    ax.set_seed(7)
    expected = ax.get_rng().random(3)
    ax.set_seed(7)
    ax.load(tmp_path / "m.axon")
    assert np.array_equal(ax.get_rng().random(3), expected)


def test_float64_model_stays_float64(tmp_path):
    ax.set_default_dtype("float64")
    model = ax.Sequential(ax.Dense(2, 3), ax.Sigmoid(), ax.Dense(3, 1))
    ax.set_default_dtype("float32")
    ax.save(model, tmp_path / "m.axon")
    loaded = ax.load(tmp_path / "m.axon")
    assert loaded.dtype == np.float64
    assert all(p.data.dtype == np.float64 for p in loaded.parameters())


def test_model_without_parameters_round_trips(tmp_path):
    model = ax.Sequential(ax.ReLU(), ax.Sigmoid())
    ax.save(model, tmp_path / "m.axon")
    loaded = ax.load(tmp_path / "m.axon")
    assert layer_summary(loaded) == layer_summary(model)


def test_top_level_names_are_the_io_functions():
    from axon import io
    assert ax.save is io.save and ax.load is io.load
    assert ax.save_checkpoint is io.save_checkpoint and ax.load_checkpoint is io.load_checkpoint
    assert issubclass(ModelFileError, ValueError)


def test_missing_file_is_a_model_file_error_and_file_not_found(tmp_path):
    with pytest.raises(ModelFileError, match="no such model file") as info:
        ax.load(tmp_path / "nope.axon")
    assert isinstance(info.value, FileNotFoundError)
    with pytest.raises(ModelFileError, match="folder"):
        ax.load(tmp_path)


# -- what cannot be saved -----------------------------------------------------------------
def test_unregistered_layer_cannot_be_saved(tmp_path):
    class Scale(ax.Layer):
        def forward(self, x, training=False):
            return x

    with pytest.raises(ValueError, match="register_layer"):
        ax.save(ax.Sequential(Scale(), ax.Dense(2, 1)), tmp_path / "m.axon")
    assert not (tmp_path / "m.axon").exists()


def test_duplicate_layer_names_cannot_be_saved(tmp_path):
    model = ax.Sequential(ax.Dense(2, 2, name="a"), ax.Dense(2, 2, name="a"))
    with pytest.raises(ValueError, match="unique names"):
        ax.save(model, tmp_path / "m.axon")


def test_mixed_dtypes_cannot_be_saved(tmp_path):
    model = ax.Sequential(ax.Dense(2, 2), ax.Dense(2, 2, dtype="float64"))
    with pytest.raises(ValueError, match="to_dtype"):
        ax.save(model, tmp_path / "m.axon")


def test_saving_into_a_missing_folder_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ax.save(ax.Sequential(ax.Dense(2, 2)), tmp_path / "no" / "m.axon")


# -- atomic writes ------------------------------------------------------------------------
@pytest.mark.parametrize("failing", ["fsync", "replace", "write"])
def test_failure_mid_write_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch, failing):
    path = tmp_path / "m.axon"
    old = ax.Sequential(ax.Dense(3, 2))
    ax.save(old, path)
    before = path.read_bytes()

    import axon.io.atomic as atomic

    def boom(*args, **kwargs):
        raise OSError("disk full")

    if failing == "write":
        real_fdopen = os.fdopen

        class HalfWriter:
            def __init__(self, f):
                self.f = f

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.f.close()

            def write(self, data):
                self.f.write(data[: len(data) // 2])
                raise OSError("disk full")

        monkeypatch.setattr(atomic.os, "fdopen", lambda fd, mode: HalfWriter(real_fdopen(fd, mode)))
    else:
        monkeypatch.setattr(atomic.os, failing, boom)
    with pytest.raises(OSError, match="disk full"):
        ax.save(ax.Sequential(ax.Dense(30, 20)), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.axon"]
    assert np.array_equal(ax.load(path)[0].weight.data, old[0].weight.data)


def test_atomic_write_replaces_content_and_keeps_mode(tmp_path):
    path = tmp_path / "f.bin"
    atomic_write_bytes(path, b"one")
    os.chmod(path, 0o640)
    atomic_write_bytes(path, b"two")
    assert path.read_bytes() == b"two"
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_named_pipe_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe.axon")
    with pytest.raises(ModelFileError, match="regular file"):
        ax.load(tmp_path / "pipe.axon")
