"""The loader against hostile files: only ModelFileError, never another exception, nothing executed.

Random bytes, truncations at every point class, bit flips of a valid file, headers that lie about
shapes, dtypes and offsets, a header length of 2**60, unknown layer types, class paths and a
pickle payload.
"""

from __future__ import annotations

import json
import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import axon as ax
from axon.io import ModelFileError
from axon.preprocessing import Standardizer


def valid_model() -> ax.Sequential:
    ax.set_seed(0)
    model = ax.Sequential(ax.Dense(4, 5, l2=0.01), ax.ReLU(), ax.Dropout(0.2), ax.Dense(5, 3))
    model.preprocessor = Standardizer().fit(np.arange(20.0).reshape(5, 4) ** 1.5)
    model.loss = ax.losses.SoftmaxCrossEntropy()
    model.metrics = ["accuracy"]
    return model


@pytest.fixture(scope="module")
def good_bytes(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("fuzz") / "good.axon"
    ax.save(valid_model(), path)
    return path.read_bytes()


def _ckpt_data():
    (X, y), _ = ax.datasets.load_digits()
    return X[:60, :4] * 0.1, y[:60] % 3


def _ckpt_model() -> ax.Sequential:
    model = valid_model()
    model.compile("cross_entropy", ax.optim.Adam(lr=0.01), metrics=["accuracy"])
    return model


def _ckpt_callbacks(path: Path) -> list:
    from axon.callbacks import EarlyStopping, GradientStats, ModelCheckpoint
    return [EarlyStopping(patience=5), GradientStats(), ModelCheckpoint(path, every_n_batches=3)]


@pytest.fixture(scope="module")
def good_ckpt_bytes(tmp_path_factory) -> bytes:
    """A checkpoint written by fit mid-epoch: optimizer arrays, generator states, callbacks' arrays."""
    class Crash(ax.callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            if self.loop.global_step == 10:  # 6 batches per epoch: the last write was at step 9
                raise RuntimeError("crash")

    path = tmp_path_factory.mktemp("fuzz") / "good.ckpt"
    with pytest.raises(RuntimeError):
        _ckpt_model().fit(*_ckpt_data(), epochs=2, batch_size=8, validation_split=0.2, seed=0, verbose=0,
                          callbacks=[*_ckpt_callbacks(path), Crash()])
    assert (ax.load_checkpoint(path).epoch, ax.load_checkpoint(path).batch) == (1, 3)
    return path.read_bytes()


def split(data: bytes) -> tuple[dict, bytes]:
    n = struct.unpack("<Q", data[:8])[0]
    return json.loads(data[8:8 + n]), data[8 + n:]


def join(header: dict, body: bytes) -> bytes:
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + body


def with_meta(data: bytes, change) -> bytes:
    """Rewrite the axon description inside a valid file's header."""
    header, body = split(data)
    meta = json.loads(header["__metadata__"]["axon"])
    change(meta)
    header["__metadata__"]["axon"] = json.dumps(meta)
    return join(header, body)


def expect_model_file_error(folder: Path, data: bytes, loader=ax.load) -> None:
    """Loading ``data`` raises ModelFileError (no other exception) and creates no file."""
    path = folder / "bad.axon"
    path.write_bytes(data)
    before = set(os.listdir(folder))
    with pytest.raises(ModelFileError) as info:
        loader(path)
    assert str(path) in str(info.value)
    assert set(os.listdir(folder)) == before


def load_or_model_file_error(path: Path, data: bytes, loader=ax.load):
    path.write_bytes(data)
    try:
        return loader(path)
    except ModelFileError:
        return None


# -- random and truncated files -----------------------------------------------------------
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300))
def test_random_bytes(tmp_path, data):
    expect_model_file_error(tmp_path, data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(0, 2**64 - 1), rest=st.binary(max_size=64))
def test_random_header_lengths(tmp_path, n, rest):
    expect_model_file_error(tmp_path, struct.pack("<Q", n) + rest)


def test_truncation_at_every_point_class(tmp_path, good_bytes):
    n = struct.unpack("<Q", good_bytes[:8])[0]
    cuts = list(range(0, 9))                                   # inside the length prefix
    cuts += sorted({9, 8 + n // 3, 8 + n // 2, 8 + n - 1})      # inside the JSON header
    cuts += sorted({8 + n, 8 + n + 1, (len(good_bytes) + 8 + n) // 2, len(good_bytes) - 1})  # data
    for cut in cuts:
        expect_model_file_error(tmp_path, good_bytes[:cut])


def test_every_truncation_of_the_data_section(tmp_path, good_bytes):
    n = struct.unpack("<Q", good_bytes[:8])[0]
    for cut in range(8 + n, len(good_bytes), 7):
        expect_model_file_error(tmp_path, good_bytes[:cut])


def test_trailing_garbage(tmp_path, good_bytes):
    expect_model_file_error(tmp_path, good_bytes + b"\x00" * 8)


def test_header_length_of_2_to_the_60(tmp_path, good_bytes):
    data = struct.pack("<Q", 2**60) + good_bytes[8:]
    expect_model_file_error(tmp_path, data)


@pytest.mark.parametrize("loader", [ax.load, ax.load_checkpoint], ids=["load", "load_checkpoint"])
def test_bit_flips_of_a_valid_file(tmp_path, good_ckpt_bytes, loader):
    # Every flip either still loads (a flipped weight is still a weight) or is a ModelFileError.
    rng = np.random.default_rng(0)
    path = tmp_path / "flipped.axon"
    n = struct.unpack("<Q", good_ckpt_bytes[:8])[0]
    # Half the flips in the header (where structure lives), half anywhere.
    positions = np.concatenate([rng.integers(0, 8 + n, 200), rng.integers(0, len(good_ckpt_bytes), 100)])
    loaded = rejected = 0
    for pos in positions:
        data = bytearray(good_ckpt_bytes)
        data[pos] ^= 1 << int(rng.integers(0, 8))
        result = load_or_model_file_error(path, bytes(data), loader)
        loaded += result is not None
        rejected += result is None
    assert rejected > 0 and loaded + rejected == len(positions)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pos=st.integers(0, 10**9), byte=st.integers(0, 255))
def test_random_byte_overwrites(tmp_path, good_bytes, pos, byte):
    data = bytearray(good_bytes)
    data[pos % len(data)] = byte
    load_or_model_file_error(tmp_path / "x.axon", bytes(data))


# -- headers that lie ----------------------------------------------------------------------
def lie(good: bytes, change) -> bytes:
    header, body = split(good)
    change(header)
    return join(header, body)


LIES = {
    "bigger_shape": lambda h: h["dense_1.weight"].update(shape=[40, 50]),
    "shape_for_other_bytes": lambda h: h["dense_1.weight"].update(shape=[5, 4]),
    "huge_shape": lambda h: h["dense_1.weight"].update(shape=[2**40, 2**40]),
    "negative_shape": lambda h: h["dense_1.weight"].update(shape=[-4, -5]),
    "float_shape": lambda h: h["dense_1.weight"].update(shape=[4.0, 5.0]),
    "offsets_past_end": lambda h: h["dense_1.weight"].update(data_offsets=[0, 10**12]),
    "offsets_reversed": lambda h: h["dense_1.weight"].update(
        data_offsets=h["dense_1.weight"]["data_offsets"][::-1]),
    "offsets_overlap": lambda h: h["dense_1.bias"].update(data_offsets=h["dense_2.bias"]["data_offsets"]),
    "dtype_f16": lambda h: h["dense_1.bias"].update(dtype="F16"),
    "dtype_object": lambda h: h["dense_1.bias"].update(dtype="O"),
    "dtype_f64": lambda h: h["dense_1.bias"].update(dtype="F64"),
    "extra_field": lambda h: h["dense_1.bias"].update(evil=1),
    "entry_not_dict": lambda h: h.update({"dense_1.bias": [1, 2, 3]}),
    "missing_tensor": lambda h: h.pop("dense_2.bias"),
    "no_metadata": lambda h: h.pop("__metadata__"),
    "metadata_not_str": lambda h: h["__metadata__"].update(axon={"a": 1}),
    "metadata_not_json": lambda h: h["__metadata__"].update(axon="{not json"),
    "header_is_list": lambda h: (h.clear()),
}


@pytest.mark.parametrize("name", sorted(LIES))
def test_header_lies(tmp_path, good_bytes, name):
    expect_model_file_error(tmp_path, lie(good_bytes, LIES[name]))


def test_header_that_is_not_an_object(tmp_path):
    for header in (b"[1, 2]", b"null", b"\"x\"", b"{\"a\": " * 5000, b"\xff\xfe{}"):
        expect_model_file_error(tmp_path, struct.pack("<Q", len(header)) + header)


def test_swapped_tensors_of_the_same_size_are_caught(tmp_path):
    # dense_1.weight (4x5) relabelled 5x4 with the same bytes: the shape no longer fits the layer.
    model = ax.Sequential(ax.Dense(4, 5), ax.Dense(5, 4))
    ax.save(model, tmp_path / "m.axon")
    good = (tmp_path / "m.axon").read_bytes()
    expect_model_file_error(tmp_path, lie(good, lambda h: h["dense_1.weight"].update(shape=[5, 4])))


def test_unexpected_extra_tensor(tmp_path, good_bytes):
    header, body = split(good_bytes)
    header["sneaky"] = {"dtype": "F32", "shape": [1], "data_offsets": [len(body), len(body) + 4]}
    expect_model_file_error(tmp_path, join(header, body + b"\x00" * 4))


# -- descriptions that lie -----------------------------------------------------------------
def set_layer(i, **fields):
    def change(meta):
        meta["architecture"]["layers"][i].update(fields)
    return change


def set_config(i, **config):
    def change(meta):
        meta["architecture"]["layers"][i]["config"].update(config)
    return change


META_LIES = {
    "unknown_layer_type": set_layer(1, type="Teleport"),
    "class_path": set_layer(1, type="os.system"),
    "dunder_type": set_layer(1, type="__class__"),
    "builtin_type": set_layer(1, type="eval"),
    "type_not_str": set_layer(1, type=["ReLU"]),
    "duplicate_names": set_layer(3, name="dense_1"),
    "renamed_layer": set_layer(0, name="other"),
    "empty_name": set_layer(0, name=""),
    "config_not_dict": set_layer(0, config=[1, 2]),
    "unknown_argument": set_config(0, exec="import os"),
    "rng_argument": set_config(2, rng=1),
    "seed_argument": set_config(2, seed=1),
    "name_argument": set_config(2, name="x"),
    "wrong_size": set_config(0, in_features=7),
    "huge_size": set_config(0, in_features=10**9, out_features=10**9),
    "negative_size": set_config(0, in_features=-4),
    "zero_size": set_config(0, in_features=0),
    "string_size": set_config(0, in_features="4"),
    "float_size": set_config(0, in_features=4.5),
    "bool_size": set_config(0, in_features=True),
    "nan_l2": set_config(0, l2=float("nan")),
    "inf_l2": set_config(0, l2=float("inf")),
    "negative_l2": set_config(0, l2=-1.0),
    "dropout_p_one": set_config(2, p=1.0),
    "dropout_p_str": set_config(2, p="0.5"),
    "nested_config": set_config(0, l1={"a": [[[[[[[[[1]]]]]]]]]}),
    "long_string": set_config(2, p="x" * 10000),
    "bias_dropped": set_config(3, bias=False),
    "format_version_new": lambda m: m.update(format_version=99),
    "format_version_zero": lambda m: m.update(format_version=0),
    "format_version_str": lambda m: m.update(format_version="1"),
    "format_version_missing": lambda m: m.pop("format_version"),
    "kind_unknown": lambda m: m.update(kind="virus"),
    "dtype_float16": lambda m: m.update(dtype="float16"),
    "dtype_object": lambda m: m.update(dtype="object"),
    "dtype_float64_lie": lambda m: m.update(dtype="float64"),
    "no_architecture": lambda m: m.pop("architecture"),
    "layers_not_list": lambda m: m["architecture"].update(layers={"a": 1}),
    "input_shape_negative": lambda m: m["architecture"].update(input_shape=[-1]),
    "input_shape_str": lambda m: m["architecture"].update(input_shape="4"),
    "frozen_unknown": lambda m: m.update(frozen=["os.system"]),
    "loss_unknown": lambda m: m["compile"]["loss"].update(type="subprocess.Popen"),
    "loss_bad_arg": lambda m: m["compile"]["loss"]["config"].update(cmd="rm -rf /"),
    "metrics_not_list": lambda m: m["compile"].update(metrics="accuracy"),
    "optimizer_unknown": lambda m: m["compile"].update(optimizer={"type": "os.system", "config": {}}),
    "optimizer_bad_lr": lambda m: m["compile"].update(optimizer={"type": "SGD", "config": {"lr": -1}}),
    "preprocessor_unknown": lambda m: m["preprocessor"].update(type="builtins.eval"),
    "preprocessor_config": lambda m: m["preprocessor"]["config"].update(x=1),
    "description_is_list": lambda m: m.clear(),
}


@pytest.mark.parametrize("name", sorted(META_LIES))
def test_description_lies(tmp_path, good_bytes, name):
    expect_model_file_error(tmp_path, with_meta(good_bytes, META_LIES[name]))


def test_preprocessor_with_bad_arrays(tmp_path, good_bytes):
    header, body = split(good_bytes)
    start, end = header["preprocessor.scale"]["data_offsets"]
    zeros = body[:start] + b"\x00" * (end - start) + body[end:]  # scale 0 would divide by zero
    expect_model_file_error(tmp_path, join(header, zeros))
    nans = body[:start] + np.full((end - start) // 8, np.nan).tobytes() + body[end:]
    expect_model_file_error(tmp_path, join(header, nans))


def test_other_safetensors_file_is_not_a_model(tmp_path):
    from safetensors.numpy import save_file

    save_file({"w": np.ones((2, 2), np.float32)}, tmp_path / "other.safetensors")
    expect_model_file_error(tmp_path, (tmp_path / "other.safetensors").read_bytes())


def test_model_file_is_not_a_checkpoint(tmp_path, good_bytes):
    expect_model_file_error(tmp_path, good_bytes, loader=ax.load_checkpoint)


# -- code execution attempts --------------------------------------------------------------
class _CreatesFile:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        # Unpickling this would call open(path, "w") and so create the file.
        return (open, (self.path, "w"))


@pytest.mark.parametrize("loader", [ax.load, ax.load_checkpoint], ids=["load", "load_checkpoint"])
def test_pickle_payload_is_never_unpickled(tmp_path, loader):
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_CreatesFile(str(marker)))
    assert not marker.exists()
    expect_model_file_error(tmp_path, payload, loader)
    # Also as a "tensor" and as the metadata of an otherwise well-formed file.
    header = {"__metadata__": {"axon": payload.decode("latin-1")},
              "w": {"dtype": "F32", "shape": [len(payload) // 4], "data_offsets": [0, len(payload) // 4 * 4]}}
    expect_model_file_error(tmp_path, join(header, payload[: len(payload) // 4 * 4]), loader)
    assert not marker.exists()


def test_checkpoint_lies(tmp_path, good_ckpt_bytes):
    def ck(change):
        return with_meta(good_ckpt_bytes, lambda m: change(m["checkpoint"]))

    bad = [
        ck(lambda c: c.update(epoch=-1)),
        ck(lambda c: c.update(epoch="3")),
        ck(lambda c: c.update(batch=1.5)),
        ck(lambda c: c.update(history={"loss": ["x"]})),
        ck(lambda c: c.update(history=[1, 2])),
        ck(lambda c: c.update(extra=[1])),
        ck(lambda c: c.update(rng_state=[1])),
        ck(lambda c: c.update(rng_state={"k": {"__ndarray__": [1], "dtype": "object"}})),
        ck(lambda c: c.update(rng_state={"bit_generator": "os.system", "state": {}})),
        ck(lambda c: c.update(rng_state={"bit_generator": "PCG64", "state": {"state": "12", "inc": 1}})),
        ck(lambda c: c["optimizer"]["state"][0].update(grad_sum={"__tensor__": "checkpoint.nothere"})),
        ck(lambda c: c["optimizer"]["state"][0].update(grad_sum={"__tensor__": "dense_1.weight"})),
        ck(lambda c: c["optimizer"]["state"][0].update(grad_sum={"__tensor__": 3})),
        ck(lambda c: c["optimizer"]["state"][0].update(grad_sum={"__tensor__": "x", "also": 1})),
        ck(lambda c: c["optimizer"]["state"][0].pop("grad_sum")),  # its tensor is then left over
        ck(lambda c: c["extra"]["layer_rngs"].update(dropout_1={"__ndarray__": [1], "dtype": "float16"})),
        ck(lambda c: c["extra"].update(deep=[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]])),
        ck(lambda c: c.pop("epoch")),
        ck(lambda c: c.clear()),
    ]
    for data in bad:
        expect_model_file_error(tmp_path, data, ax.load_checkpoint)
    expect_model_file_error(tmp_path, with_meta(good_ckpt_bytes, lambda m: m.pop("checkpoint_format")),
                            ax.load_checkpoint)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pos=st.integers(0, 10**9), byte=st.integers(0, 255))
def test_random_byte_overwrites_of_a_checkpoint(tmp_path, good_ckpt_bytes, pos, byte):
    data = bytearray(good_ckpt_bytes)
    data[pos % len(data)] = byte
    load_or_model_file_error(tmp_path / "x.ckpt", bytes(data), ax.load_checkpoint)


def _resume(tmp_path: Path, data: bytes):
    """Resume fit from ``data``: returns the model (resumed) or raises; checks no weight changed on error."""
    path = tmp_path / "hostile.ckpt"
    path.write_bytes(data)
    model = _ckpt_model()
    before = model.state_dict()
    try:
        model.fit(*_ckpt_data(), epochs=2, batch_size=8, validation_split=0.2, seed=0, verbose=0,
                  callbacks=_ckpt_callbacks(tmp_path / "out.ckpt"), resume_from=path)
    except ModelFileError:
        after = model.state_dict()
        assert all(np.array_equal(before[k], after[k]) for k in before), "a failed resume changed weights"
        raise
    return model


def _state(change):
    return lambda m: change(m["checkpoint"]["extra"])


def _callback_state(kind, change):
    def edit(extra):
        (entry,) = [c for c in extra["callbacks"] if c["type"] == kind]
        change(entry["state"])
    return _state(edit)


RESUME_LIES = {
    "batch_past_the_epoch": _state(lambda s: s.update(batch=99)),
    "other_batch_size": _state(lambda s: s.update(batch_size=7)),
    "layer_rng_of_another_layer": _state(lambda s: s.update(layer_rngs={"dense_1": s["layer_rngs"]["dropout_1"]})),
    "layer_rng_not_a_state": _state(lambda s: s["layer_rngs"].update(dropout_1={"bit_generator": "PCG64"})),
    "rng_state_not_a_state": _state(lambda s: s.update(rng_state={"bit_generator": "PCG64", "state": 1})),
    "missing_key": _state(lambda s: s.pop("global_step")),
    "partial_sums_short": _state(lambda s: s["partial"].update(metric_sums=[])),
    "elapsed_text": _state(lambda s: s.update(elapsed="soon")),
    "best_weights_one_value": _callback_state("EarlyStopping", lambda s: s.update(
        best_weights=[s["best_weights"][0]] * len(s["best_weights"]))),
    "best_weights_not_a_list": _callback_state("EarlyStopping", lambda s: s.update(best_weights=3)),
    "best_not_a_number": _callback_state("EarlyStopping", lambda s: s.update(best="low")),
    "wait_negative": _callback_state("EarlyStopping", lambda s: s.update(wait=-1)),
    "gradient_count_text": _callback_state("GradientStats", lambda s: s.update(count="x")),
    "optimizer_iterations_text": lambda m: m["checkpoint"]["optimizer"].update(iterations="x"),
    "optimizer_of_another_type": lambda m: m["checkpoint"]["optimizer"].update(type="SGD"),
}


@pytest.mark.parametrize("name", sorted(RESUME_LIES))
def test_a_hostile_checkpoint_fails_the_resume_and_changes_no_weight(tmp_path, good_ckpt_bytes, name):
    data = with_meta(good_ckpt_bytes, RESUME_LIES[name])
    with pytest.raises(ModelFileError):
        _resume(tmp_path, data)


def test_the_untouched_checkpoint_resumes_to_the_uninterrupted_weights(tmp_path, good_ckpt_bytes):
    resumed = _resume(tmp_path, good_ckpt_bytes).state_dict()
    whole = _ckpt_model()
    whole.fit(*_ckpt_data(), epochs=2, batch_size=8, validation_split=0.2, seed=0, verbose=0,
              callbacks=_ckpt_callbacks(tmp_path / "whole.ckpt"))
    expected = whole.state_dict()
    assert resumed.keys() == expected.keys()
    assert all(np.array_equal(resumed[k], expected[k]) for k in expected)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_changed_value_of_the_training_state_resumes_or_fails_cleanly(tmp_path, good_ckpt_bytes, data):
    """Replace one leaf of the JSON state by another JSON value: resume works or is a ModelFileError."""
    header, _ = split(good_ckpt_bytes)
    meta = json.loads(header["__metadata__"]["axon"])
    leaves = []

    def walk(node, path):
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for k, v in items:
            if isinstance(v, (dict, list)) and not (isinstance(v, dict) and "__tensor__" in v):
                walk(v, (*path, k))
            else:
                leaves.append((*path, k))

    walk(meta["checkpoint"], ())
    target = data.draw(st.sampled_from(leaves))
    value = data.draw(st.one_of(st.none(), st.booleans(), st.integers(-3, 10**6), st.floats(allow_nan=True),
                                st.text(max_size=5), st.lists(st.integers(0, 3), max_size=3)))

    def change(m):
        node = m["checkpoint"]
        for k in target[:-1]:
            node = node[k]
        node[target[-1]] = value

    try:
        _resume(tmp_path, with_meta(good_ckpt_bytes, change))
    except (ModelFileError, ax.training.TrainingDivergedError):
        pass  # a valid checkpoint may still diverge (a learning rate of 5e18): fit says so cleanly
