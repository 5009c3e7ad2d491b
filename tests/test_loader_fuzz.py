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


@pytest.fixture(scope="module")
def good_ckpt_bytes(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("fuzz") / "good.ckpt"
    model = valid_model()
    opt = ax.optim.Adam(model.parameters(), lr=0.01)
    X = np.ones((3, 4), np.float32)
    model.loss.forward(model.forward(X, training=True), np.array([0, 1, 2]))
    model.backward(model.loss.backward())
    opt.step()
    ax.save_checkpoint(path, model, opt, epoch=2, rng=np.random.default_rng(1), history={"loss": [1.0]})
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
        ck(lambda c: c["rng_state"]["state"].update(state="12")),
        ck(lambda c: c["rng_state"]["state"].pop("inc")),
        ck(lambda c: c["optimizer"]["state"][0].update(arrays=["nothere"])),
        ck(lambda c: c["optimizer"]["state"].pop()),
        ck(lambda c: c["optimizer"].update(state="x")),
        ck(lambda c: c["optimizer"].update(iterations=-2)),
        ck(lambda c: c.pop("epoch")),
        ck(lambda c: c.clear()),
    ]
    for data in bad:
        expect_model_file_error(tmp_path, data, ax.load_checkpoint)
