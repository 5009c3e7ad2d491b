"""ONNX export: onnxruntime gives axon's outputs (max abs difference <= 1e-5 in float32) for MLPs
with a preprocessor, CNNs, every supported layer and each loss link; the graphs pass the checker."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import axon as ax  # noqa: E402
from axon.io.onnx_export import export_onnx  # noqa: E402
from axon.io.onnx_graph import ONNX_CONVERTERS, register_converter  # noqa: E402
from axon.preprocessing import Standardizer  # noqa: E402

ATOL = 1e-5


def _run(path, X):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["output"], {"input": np.ascontiguousarray(X, dtype=np.float32)})[0]


def _expected(model, X, link=True):
    """What model.predict computes: forward in inference mode (the preprocessor first), loss link."""
    out = model.forward(X)
    return model.loss.link(out) if link and model.loss is not None else out


@pytest.fixture(scope="module")
def digits():
    (X, y), _ = ax.datasets.load_digits()
    return X[:100] * 16.0, y[:100]      # raw pixel scale 0..16, so the Standardizer matters


def _mlp(seed=0):
    rng = np.random.default_rng(seed)
    model = ax.Sequential(ax.Dense(64, 32, seed=rng), ax.ReLU(), ax.Dropout(0.3, seed=rng),
                          ax.Dense(32, 16, seed=rng), ax.Tanh(), ax.Dense(16, 10, seed=rng))
    for p in model.parameters():            # non-zero biases, so a missing Add would show
        p.data[...] = p.data + 0.1 * rng.standard_normal(p.shape).astype(p.dtype)
    return model


def _cnn(seed=0):
    rng = np.random.default_rng(seed)
    model = ax.Sequential(
        ax.Conv2D(1, 4, 3, padding=1, seed=rng), ax.BatchNorm2d(4), ax.ReLU(), ax.MaxPool2D(2),
        ax.Conv2D(4, 6, 3, stride=1, padding=1, seed=rng), ax.LeakyReLU(0.1), ax.AvgPool2D(2, stride=1),
        ax.Conv2D(6, 8, (2, 3), stride=(1, 2), seed=rng), ax.Flatten(), ax.Dense(8 * 2 * 1, 16, seed=rng),
        ax.BatchNorm1d(16), ax.Sigmoid(), ax.Dense(16, 10, seed=rng))
    for layer in model:                      # trained-looking BatchNorm statistics and affine terms
        if isinstance(layer, (ax.BatchNorm1d, ax.BatchNorm2d)):
            n = layer.num_features
            layer.running_mean[:] = rng.normal(size=n)
            layer.running_var[:] = rng.uniform(0.5, 2.0, n)
            layer.weight.data[:] = rng.uniform(0.5, 1.5, n)
            layer.bias.data[:] = rng.normal(size=n)
        elif isinstance(layer, ax.Conv2D):
            layer.bias.data[:] = rng.normal(size=layer.out_channels) * 0.1
    return model


def test_mlp_with_preprocessor_matches_onnxruntime(digits, tmp_path):
    X, y = digits
    model = _mlp()
    model.loss = ax.losses.SoftmaxCrossEntropy()
    model.preprocessor = Standardizer().fit(X)
    proto = export_onnx(model, tmp_path / "mlp.onnx")
    onnx.checker.check_model(onnx.load(tmp_path / "mlp.onnx"), full_check=True)
    assert [o.version for o in proto.opset_import] == [17]
    ops = [n.op_type for n in proto.graph.node]
    assert ops[:2] == ["Sub", "Div"] and ops[-1] == "Softmax"
    got = _run(tmp_path / "mlp.onnx", X)
    assert got.dtype == np.float32 and got.shape == (100, 10)
    expected = _expected(model, X)
    assert np.abs(got - expected).max() <= ATOL
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-5)     # probabilities, as predict gives
    # and without the preprocessor in the graph the output would differ a lot
    assert np.abs(_expected(_mlp(), X) - _expected(model, X)).max() > 1e-2


def test_cnn_matches_onnxruntime(digits, tmp_path):
    X, _ = digits
    Xi = X.reshape(-1, 1, 8, 8) / 16.0
    model = _cnn()
    model.loss = ax.losses.SoftmaxCrossEntropy()
    proto = export_onnx(model, tmp_path / "cnn.onnx", input_shape=(1, 8, 8))
    ops = {n.op_type for n in proto.graph.node}
    assert {"Conv", "BatchNormalization", "MaxPool", "AveragePool", "Flatten", "LeakyRelu", "Gemm"} <= ops
    got = _run(tmp_path / "cnn.onnx", Xi)
    assert np.abs(got - _expected(model, Xi)).max() <= ATOL
    logits = export_onnx(model, tmp_path / "logits.onnx", input_shape=(1, 8, 8), include_link=False)
    assert logits.graph.node[-1].op_type == "Gemm"
    assert np.abs(_run(tmp_path / "logits.onnx", Xi) - model.forward(Xi)).max() <= ATOL


def test_cnn_on_flat_rows_reshapes_in_the_graph(digits, tmp_path):
    """build_model's CNN for flat 64-pixel rows starts with Reshape((1, 8, 8)); ONNX does the same."""
    from axon.architectures import build_model

    X, _ = digits
    ax.set_seed(0)
    model = build_model("conv4x3,maxpool2,16", (64,), 10, kind="cnn")
    model.loss = ax.losses.SoftmaxCrossEntropy()
    proto = export_onnx(model, tmp_path / "flat.onnx")
    assert proto.graph.node[0].op_type == "Reshape"
    Xf = X / 16.0
    assert np.abs(_run(tmp_path / "flat.onnx", Xf) - _expected(model, Xf)).max() <= ATOL


def test_cnn_with_an_image_preprocessor(digits, tmp_path):
    X, _ = digits
    Xi = X.reshape(-1, 1, 8, 8)
    model = _cnn(1)
    model.preprocessor = Standardizer().fit(Xi)
    model.input_shape = (1, 8, 8)            # taken from the model when input_shape is not given
    export_onnx(model, tmp_path / "cnn.onnx")
    assert np.abs(_run(tmp_path / "cnn.onnx", Xi) - _expected(model, Xi)).max() <= ATOL


@pytest.mark.parametrize("layer", [
    ax.Sigmoid(), ax.Tanh(), ax.ReLU(), ax.LeakyReLU(0.2), ax.Softmax(), ax.Identity(), ax.Dropout(0.5),
    ax.BatchNorm1d(8), ax.Dense(8, 8, bias=False), ax.LayerNorm(8),
], ids=lambda layer: type(layer).__name__)
def test_every_layer_type(layer, tmp_path):
    rng = np.random.default_rng(0)
    if isinstance(layer, ax.BatchNorm1d):
        layer.running_mean[:] = rng.normal(size=8)
        layer.running_var[:] = rng.uniform(0.2, 3.0, 8)
    model = ax.Sequential(ax.Dense(5, 8, seed=rng), layer)
    X = rng.normal(size=(13, 5)).astype(np.float32) * 3
    export_onnx(model, tmp_path / "m.onnx")
    assert np.abs(_run(tmp_path / "m.onnx", X) - model.forward(X)).max() <= ATOL


@pytest.mark.parametrize(("loss", "op"), [
    (ax.losses.SoftmaxCrossEntropy(), "Softmax"), (ax.losses.BinaryCrossEntropy(), "Sigmoid"),
    (ax.losses.BinaryCrossEntropy(from_logits=False), "Gemm"), (ax.losses.MSE(), "Gemm"), (None, "Gemm"),
])
def test_the_loss_link_is_appended(loss, op, tmp_path):
    rng = np.random.default_rng(1)
    model = ax.Sequential(ax.Dense(4, 3, seed=rng))
    model.loss = loss
    proto = export_onnx(model, tmp_path / "m.onnx")
    assert proto.graph.node[-1].op_type == op
    X = rng.normal(size=(6, 4)).astype(np.float32) * 4
    assert np.abs(_run(tmp_path / "m.onnx", X) - _expected(model, X)).max() <= ATOL


def test_matches_model_predict(digits, tmp_path):
    pytest.importorskip("axon.training")
    X, _ = digits
    model = _mlp(2)
    model.loss = ax.losses.SoftmaxCrossEntropy()
    model.preprocessor = Standardizer().fit(X)
    ax.export_onnx(model, tmp_path / "m.onnx")
    assert np.abs(_run(tmp_path / "m.onnx", X) - model.predict(X)).max() <= ATOL


def test_batch_axis(tmp_path):
    model = ax.Sequential(ax.Dense(3, 2))
    X = np.ones((7, 3), np.float32)
    export_onnx(model, tmp_path / "dyn.onnx")
    assert _run(tmp_path / "dyn.onnx", X).shape == (7, 2)
    assert _run(tmp_path / "dyn.onnx", X[:1]).shape == (1, 2)
    proto = export_onnx(model, tmp_path / "fixed.onnx", dynamic_batch=False)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 1
    assert _run(tmp_path / "fixed.onnx", X[:1]).shape == (1, 2)
    with pytest.raises(Exception, match="(?i)dimension|shape"):
        _run(tmp_path / "fixed.onnx", X)


def test_float64_model_exports_float32_graph(tmp_path):
    ax.set_default_dtype("float64")
    model = ax.Sequential(ax.Dense(6, 5), ax.Sigmoid(), ax.Dense(5, 2))
    proto = export_onnx(model, tmp_path / "m.onnx")
    assert all(t.data_type == onnx.TensorProto.FLOAT for t in proto.graph.initializer)
    X = np.random.default_rng(0).normal(size=(4, 6))
    assert np.abs(_run(tmp_path / "m.onnx", X) - model.forward(X)).max() <= ATOL
    assert model.dtype == np.float64                          # the model itself is untouched


def test_sklearn_model_exports(digits, tmp_path):
    pytest.importorskip("sklearn")
    from axon.sklearn import AxonClassifier

    X, y = digits
    clf = AxonClassifier(hidden_layer_sizes=(16,), epochs=2, random_state=0).fit(X, y)
    export_onnx(clf.model_, tmp_path / "clf.onnx")
    np.testing.assert_allclose(_run(tmp_path / "clf.onnx", X), clf.predict_proba(X), atol=ATOL)


def test_unknown_layer_is_named(tmp_path):
    class Scale(ax.Layer):
        def forward(self, x, training=False):
            return 2 * x

    model = ax.Sequential(ax.Dense(2, 2), Scale())
    with pytest.raises(ValueError, match="scale_1.*Scale.*register_converter"):
        export_onnx(model, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_register_a_converter_for_your_own_layer(tmp_path):
    class Double(ax.Layer):
        def forward(self, x, training=False):
            return 2 * x

    @register_converter("Double")
    def _double(layer, g, x, in_shape):
        return g.node("Mul", [x, g.const(f"{layer.name}.two", np.array(2.0))], layer.name)

    try:
        model = ax.Sequential(ax.Dense(3, 2), Double())
        export_onnx(model, tmp_path / "m.onnx")
        X = np.arange(6, dtype=np.float32).reshape(2, 3)
        assert np.abs(_run(tmp_path / "m.onnx", X) - model.forward(X)).max() <= ATOL
    finally:
        del ONNX_CONVERTERS["Double"]


def test_errors_name_the_argument(tmp_path):
    conv = ax.Sequential(ax.Conv2D(1, 2, 3), ax.Flatten())
    with pytest.raises(ValueError, match="input_shape"):
        export_onnx(conv, tmp_path / "m.onnx")
    with pytest.raises(ValueError, match="opset"):
        export_onnx(ax.Sequential(ax.Dense(2, 2)), tmp_path / "m.onnx", opset=9)
    with pytest.raises(TypeError, match="Sequential"):
        export_onnx([ax.Dense(2, 2)], tmp_path / "m.onnx")
    model = ax.Sequential(ax.Dense(3, 2))
    model.preprocessor = Standardizer().fit(np.ones((4, 5)))
    with pytest.raises(ValueError, match="preprocessor"):
        export_onnx(model, tmp_path / "m.onnx")


def test_lazy_top_level_name():
    assert ax.export_onnx is not None
    assert ax.io.export_onnx.__doc__ and "onnx" in ax.io.export_onnx.__doc__.lower()


def test_loaded_model_file_exports_like_predict(digits, tmp_path):
    """What `axon export MODEL --onnx OUT` does: load a model file (loss, preprocessor and input
    shape come with it) and export it; onnxruntime on raw images equals model.predict."""
    pytest.importorskip("axon.training")
    X, _ = digits
    Xi = X.reshape(-1, 1, 8, 8)
    model = _cnn(3)
    model.input_shape = (1, 8, 8)
    model.compile("cross_entropy", "adam")
    model.preprocessor = Standardizer().fit(Xi)
    ax.save(model, tmp_path / "cnn.axon")
    loaded = ax.load(tmp_path / "cnn.axon")
    ax.export_onnx(loaded, tmp_path / "cnn.onnx")
    assert np.abs(_run(tmp_path / "cnn.onnx", Xi) - model.predict(Xi)).max() <= ATOL


_ACTS = [ax.Sigmoid, ax.Tanh, ax.ReLU, lambda: ax.LeakyReLU(0.05), ax.Identity, lambda: ax.Dropout(0.4)]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(widths=st.lists(st.integers(1, 12), min_size=1, max_size=4),
       acts=st.lists(st.integers(0, len(_ACTS) - 1), min_size=4, max_size=4),
       n=st.integers(1, 9), seed=st.integers(0, 2**16), link=st.booleans())
def test_random_mlps_match_onnxruntime(tmp_path, widths, acts, n, seed, link):
    rng = np.random.default_rng(seed)
    layers = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers += [ax.Dense(a, b, seed=rng), _ACTS[acts[i]]()]
    model = ax.Sequential(*layers, ax.Dense(widths[-1], 3, seed=rng))
    model.loss = ax.losses.SoftmaxCrossEntropy()
    X = (rng.normal(size=(n, widths[0])) * 3).astype(np.float32)
    path = tmp_path / f"m{seed}.onnx"
    export_onnx(model, path, include_link=link)
    assert np.abs(_run(path, X) - _expected(model, X, link=link)).max() <= ATOL


@pytest.mark.parametrize("opset", [13, 15, 17, 21])
def test_other_opsets(opset, tmp_path):
    model = _cnn(4)
    model.loss = ax.losses.SoftmaxCrossEntropy()
    proto = export_onnx(model, tmp_path / "m.onnx", opset=opset, input_shape=(1, 8, 8))
    assert proto.opset_import[0].version == opset
    Xi = np.random.default_rng(opset).normal(size=(5, 1, 8, 8)).astype(np.float32)
    assert np.abs(_run(tmp_path / "m.onnx", Xi) - _expected(model, Xi)).max() <= ATOL
