"""CNN models end to end: build_model's --layers tokens, model files, the examples, and the digits
CNN reaching its accuracy on the bundled 8×8 digits."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import axon as ax
from axon.architectures import build_model, default_cnn_spec

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load_example(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def layer_types(model) -> list[str]:
    return [type(layer).__name__ for layer in model]


# -- build_model and its tokens ------------------------------------------------------------------
def test_contract_spec_builds_the_documented_cnn():
    model = build_model("conv32x3,maxpool2,conv64x3,maxpool2,128", (1, 28, 28), 10, kind="cnn")
    assert layer_types(model) == ["Conv2D", "ReLU", "MaxPool2D", "Conv2D", "ReLU", "MaxPool2D",
                                  "Flatten", "Dense", "ReLU", "Dense"]
    assert model.input_shape == (1, 28, 28)
    assert model[0].padding == (1, 1) and model[0].weight.shape == (32, 1, 3, 3)
    assert model[7].in_features == 64 * 7 * 7
    text = model.summary()                  # input_shape is set, so no argument is needed
    assert "(n, 64, 7, 7)" in text and "(n, 3136)" in text and "(n, 10)" in text
    out = model.forward(np.zeros((2, 1, 28, 28), np.float32))
    assert out.shape == (2, 10) and out.dtype == np.float32


def test_stride_pool_bn_and_dense_tokens():
    model = build_model("conv8x5s2,bn,avgpool2,bn,16,bn,8", (3, 16, 16), 4, kind="cnn",
                        activation="tanh", dropout=0.1, l2=1e-3)
    assert layer_types(model) == ["Conv2D", "BatchNorm2d", "Tanh", "AvgPool2D", "BatchNorm2d",
                                  "Flatten", "Dense", "BatchNorm1d", "Tanh", "Dropout",
                                  "Dense", "Tanh", "Dropout", "Dense"]
    conv = model[0]
    assert conv.stride == (2, 2) and conv.padding == (2, 2) and conv.bias is None   # BN follows
    assert conv.l2 == 1e-3 and model[6].bias is None and model[10].bias is not None
    assert model.summary().count("(n, 8, 4, 4)") == 2       # 16 → 8 (stride 2) → 4 (pool)
    assert model.forward(np.zeros((3, 3, 16, 16)), training=True).shape == (3, 4)


def test_maxpool_with_stride_token_and_explicit_flatten():
    model = build_model("conv4x3,maxpool3s1,flatten,10", (1, 8, 8), 3, kind="cnn")
    pool = model[2]
    assert pool.kernel_size == (3, 3) and pool.stride == (1, 1)
    assert layer_types(model).count("Flatten") == 1
    assert "(n, 144)" in model.summary()


def test_mlp_kind_keeps_build_mlp_and_flattens_images():
    flat = build_model("32,16", (64,), 10)
    assert layer_types(flat) == ["Dense", "ReLU", "Dense", "ReLU", "Dense"]
    assert flat[0].in_features == 64 and flat.input_shape == (64,)
    images = build_model("32", (1, 8, 8), 10, kind="mlp")
    assert layer_types(images)[0] == "Flatten" and images.forward(np.zeros((2, 1, 8, 8))).shape == (2, 10)
    assert layer_types(build_model(None, (64,), 10))[:2] == ["Dense", "ReLU"]   # the default MLP


def test_default_cnns_fit_digits_and_mnist_shapes():
    assert default_cnn_spec((1, 8, 8)) != default_cnn_spec((1, 28, 28))
    for shape in [(1, 8, 8), (1, 28, 28)]:
        model = build_model(None, shape, 10, kind="cnn")
        assert "Conv2D" in layer_types(model)
        assert model.forward(np.zeros((2, *shape), np.float32)).shape == (2, 10)
    # Flat rows of a square length become one-channel images.
    flat = build_model(None, (64,), 10, kind="cnn")
    assert layer_types(flat)[0] == "Reshape"
    assert flat.forward(np.zeros((2, 64), np.float32)).shape == (2, 10)


@pytest.mark.parametrize("spec, input_shape, word", [
    ("conv32", (1, 8, 8), "not a layer token"),
    ("conv0x3", (1, 8, 8), "size of 0"),
    ("128,conv8x3", (1, 8, 8), "put conv and pool tokens first"),
    ("maxpool16", (1, 8, 8), "does not fit"),
    ("conv8x3", (10,), "image input"),
])
def test_bad_specs_raise_value_errors_naming_the_token(spec, input_shape, word):
    with pytest.raises(ValueError, match=word):
        build_model(spec, input_shape, 10, kind="cnn")


def test_bad_kind_and_activation():
    with pytest.raises(ValueError, match="kind"):
        build_model("8", (64,), 10, kind="rnn")
    with pytest.raises(ValueError, match="activation"):
        build_model("conv8x3", (1, 8, 8), 10, kind="cnn", activation="swish")


def test_cnn_model_file_round_trip(tmp_path):
    model = build_model("conv4x3,bn,maxpool2,8,bn", (1, 8, 8), 3, kind="cnn")
    x = np.random.default_rng(0).random((6, 1, 8, 8), dtype=np.float32)
    model.forward(x, training=True)          # moves the BatchNorm running statistics
    path = tmp_path / "cnn.axon"
    ax.save(model, path)
    loaded = ax.load(path)
    assert layer_types(loaded) == layer_types(model)
    np.testing.assert_array_equal(loaded[1].running_var, model[1].running_var)
    np.testing.assert_allclose(loaded.forward(x), model.forward(x), rtol=1e-6)


# -- the examples --------------------------------------------------------------------------------
def test_random_shifts_move_each_image_by_at_most_one_pixel():
    digits = load_example("digits_cnn")
    X = np.zeros((50, 1, 5, 5), np.float32)
    X[:, 0, 2, 2] = 1.0                      # one lit pixel in the middle
    shifted = digits.random_shifts(X, np.random.default_rng(0))
    assert shifted.shape == X.shape and shifted.dtype == X.dtype
    rows, cols = np.nonzero(shifted[:, 0].sum(axis=0))
    assert shifted.sum() == 50 and set(rows) | set(cols) <= {1, 2, 3}
    assert len(set(zip(*np.nonzero(shifted[:, 0])[1:]))) > 1      # not all the same shift


def test_mnist_example_runs_on_stand_in_data(tmp_path, monkeypatch):
    mnist = load_example("mnist_cnn")
    rng = np.random.default_rng(0)

    def fake_load_mnist(path=None, download=True, *, validation=False, flatten=True, **kw):
        split = [(rng.random((n, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, n)) for n in (64, 32, 32)]
        return tuple(split)

    monkeypatch.setattr(ax.datasets, "load_mnist", fake_load_mnist)
    out = tmp_path / "m.axon"
    mnist.main(["--epochs", "1", "--out", str(out)])
    assert out.exists() and ax.load(out).forward(np.zeros((1, 1, 28, 28), np.float32)).shape == (1, 10)


# -- the digits CNN learns ------------------------------------------------------------------------
#: The stated figures of examples/digits_cnn.py: a mean test accuracy of at least 0.98 over seeds
#: 0-4, and no seed below 0.97. Measured (AMD EPYC, 2 cores): 0.9916, 0.9889, 0.9944, 0.9777, 0.9861
#: (3, 4, 2, 8 and 5 errors of 359; mean 0.9877), so the mean has a margin of 2.8 images per seed
#: and the worst seed one of 2.8 images. The exact figures move with the CPU's rounding.
MEAN_TARGET, SEED_TARGET = 0.98, 0.97


@pytest.mark.slow
def test_digits_cnn_reaches_its_stated_accuracy():
    # 20 epochs of a 3-conv CNN with BatchNorm, 1-pixel shifts, AdamW and cosine decay
    digits = load_example("digits_cnn")
    accuracies = [digits.train(seed)[1] for seed in range(5)]
    assert np.mean(accuracies) >= MEAN_TARGET and min(accuracies) >= SEED_TARGET, accuracies
