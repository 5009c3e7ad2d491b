"""Conv2D and the im2col helpers: against PyTorch, gradient checks, dtypes, shapes, errors."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import axon as ax
from axon import fast
from axon.layers.im2col import col2im, conv_output_size, im2col

# (N, C, F, H, W, kernel, stride, padding): stride 1 and 2, padding 0 and 1, odd sizes, several channels.
CASES = [
    (2, 1, 1, 5, 5, 3, 1, 0),
    (3, 1, 4, 7, 7, 3, 1, 1),
    (2, 3, 5, 8, 6, 3, 2, 0),
    (2, 3, 2, 9, 7, 3, 2, 1),
    (1, 2, 3, 6, 5, (3, 2), (2, 1), (1, 0)),
    (4, 4, 6, 5, 5, 1, 1, 0),
    (2, 2, 3, 11, 11, 5, 2, 2),
    (2, 5, 2, 4, 4, 4, 1, 1),
]


def torch_conv(x, W, b, stride, padding, grad_y):
    """PyTorch's output and gradients (dx, dW, db) for the same convolution, float64."""
    torch = pytest.importorskip("torch")
    xt = torch.tensor(x, requires_grad=True)
    Wt = torch.tensor(W, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    yt = torch.nn.functional.conv2d(xt, Wt, bt, stride=stride, padding=padding)
    yt.backward(torch.tensor(grad_y))
    return yt.detach().numpy(), xt.grad.numpy(), Wt.grad.numpy(), bt.grad.numpy()


def assert_matches_torch(conv, x, y, grad_y, dx, stride, padding):
    """The layer's last output, ∂C/∂x, ∂C/∂W and ∂C/∂b equal PyTorch's to 1e-10."""
    ty, tdx, tdW, tdb = torch_conv(x, conv.weight.data, conv.bias.data, stride, padding, grad_y)
    np.testing.assert_allclose(y, ty, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dx, tdx, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(conv.weight.grad, tdW, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(conv.bias.grad, tdb, rtol=1e-10, atol=1e-10)


def check_against_torch(N, C, F, H, W, k, s, p, seed=0):
    rng = np.random.default_rng(seed)
    conv = ax.Conv2D(C, F, k, stride=s, padding=p, dtype="float64", seed=rng)
    conv.bias.data[:] = rng.standard_normal(F)
    x = rng.standard_normal((N, C, H, W))
    y = conv.forward(x, training=True)
    grad_y = rng.standard_normal(y.shape)
    conv.zero_grad()
    dx = conv.backward(grad_y)
    assert_matches_torch(conv, x, y, grad_y, dx, s, p)
    assert conv.output_shape((C, H, W)) == y.shape[1:]


def use_layout(monkeypatch, name):
    """Make Conv2D choose ``name`` wherever it can: "per-sample" and "batch-last" (im2col and NumPy),
    "direct" (the compiled loops, axon.fast; stride 1 and small kernels only, the other
    convolutions then take "per-sample")."""
    if name == "direct":
        pytest.importorskip("numba")
    monkeypatch.setattr(ax.Conv2D, "BATCH_LAST_BELOW", 10**9 if name == "batch-last" else 0)
    monkeypatch.setattr(fast, "_enabled", name == "direct")


@pytest.fixture(params=["per-sample", "batch-last", "direct"])
def layout(request, monkeypatch):
    """Every way Conv2D computes (chosen by the output's size, the stride and whether Numba is there)."""
    use_layout(monkeypatch, request.param)
    return request.param


@pytest.mark.parametrize("case", CASES)
def test_conv_matches_torch(case, layout):
    check_against_torch(*case)


def test_all_layouts_give_the_same_numbers_in_float32(monkeypatch):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 3, 12, 12)).astype(np.float32)
    results = []
    names = ["per-sample", "batch-last"] + (["direct"] if importlib.util.find_spec("numba") else [])
    for name in names:
        use_layout(monkeypatch, name)
        conv = ax.Conv2D(3, 4, 3, padding=1, seed=0, l2=0.01)
        y = conv.forward(x, training=True)
        g = np.cos(y)
        conv.zero_grad()
        dx = conv.backward(g)
        assert conv._layout == name.replace("-", "_") and y.dtype == dx.dtype == np.float32
        results.append((y, dx, conv.weight.grad.copy(), conv.bias.grad.copy()))
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@settings(max_examples=25, deadline=None)
@given(N=st.integers(1, 3), C=st.integers(1, 4), F=st.integers(1, 4), H=st.integers(3, 9),
       W=st.integers(3, 9), k=st.integers(1, 3), s=st.integers(1, 3), p=st.integers(0, 2),
       seed=st.integers(0, 1000))
def test_conv_matches_torch_hypothesis(N, C, F, H, W, k, s, p, seed):
    pytest.importorskip("torch")
    check_against_torch(N, C, F, H, W, k, s, p, seed)


def test_im2col_col2im_are_adjoint():
    # <im2col(x), c> == <x, col2im(c)>: col2im is exactly the transpose of im2col (batch-last).
    rng = np.random.default_rng(1)
    for k, s in [(3, 1), (2, 2), (3, 2), (1, 3)]:
        x = rng.standard_normal((2, 3, 9, 8))
        Ho, Wo = conv_output_size(9, k, s), conv_output_size(8, k, s)
        cols = im2col(x, k, k, s, s, Ho, Wo)
        c = rng.standard_normal(cols.shape)
        dx = col2im(np.moveaxis(c, 0, -1), 9, 8, s, s)  # (C, Hp, Wp, N)
        assert dx.shape == (3, 9, 8, 2)
        assert np.vdot(cols, c) == pytest.approx(np.vdot(x, np.moveaxis(dx, -1, 0)), rel=1e-12)


def test_gradcheck_small_cnn():
    rng = np.random.default_rng(0)
    model = ax.Sequential(ax.Conv2D(2, 3, 3, padding=1, seed=rng, l2=0.01), ax.Tanh(),
                          ax.Conv2D(3, 2, 3, stride=2, seed=rng, l1=0.01), ax.Tanh(),
                          ax.Flatten(), ax.Dense(8, 3, seed=rng))
    X = rng.standard_normal((4, 2, 5, 5))
    y = np.array([0, 2, 1, 0])
    report = ax.gradcheck(model, ax.losses.SoftmaxCrossEntropy(), X, y)
    assert report.ok, str(report)
    assert {r.name for r in report.rows} >= {"conv2d_1.weight", "conv2d_1.bias", "conv2d_2.weight"}


def test_float32_in_float32_out_and_float64_works():
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6))
    conv32 = ax.Conv2D(3, 4, 3, padding=1)
    y = conv32.forward(x.astype(np.float32), training=True)
    assert y.dtype == np.float32
    assert conv32.backward(np.ones_like(y)).dtype == np.float32
    assert conv32.weight.grad.dtype == np.float32
    conv64 = ax.Conv2D(3, 4, 3, padding=1, dtype="float64")
    y64 = conv64.forward(x)
    assert y64.dtype == np.float64 and conv64.backward(np.ones_like(y64)).dtype == np.float64
    # float64 data into a float32 layer is converted to the layer's dtype, not upcast.
    assert conv32.forward(x).dtype == np.float32


def test_reused_buffers_do_not_leak_between_calls():
    rng = np.random.default_rng(0)
    conv = ax.Conv2D(2, 3, 3, padding=1, dtype="float64", seed=rng)
    a, b = rng.standard_normal((4, 2, 5, 5)), rng.standard_normal((4, 2, 5, 5))
    ya = conv.forward(a)
    ya_copy = ya.copy()
    conv.forward(b)
    np.testing.assert_array_equal(ya, ya_copy)                 # outputs are fresh arrays
    small = conv.forward(a[:3])                                # a new batch size
    np.testing.assert_allclose(small, ya_copy[:3], rtol=1e-12)
    np.testing.assert_allclose(conv.forward(a), ya_copy, rtol=1e-12)


def test_to_dtype_and_deepcopy_keep_results():
    import copy
    rng = np.random.default_rng(0)
    conv = ax.Conv2D(2, 3, 3, padding=1, seed=rng)
    x = rng.standard_normal((2, 2, 5, 5)).astype(np.float32)
    y32 = conv.forward(x)
    clone = copy.deepcopy(conv)
    np.testing.assert_array_equal(clone.forward(x), y32)
    conv.to_dtype(np.float64)
    y64 = conv.forward(x)
    assert y64.dtype == np.float64
    np.testing.assert_allclose(y64, y32, rtol=1e-5, atol=1e-5)


def test_config_rebuilds_the_layer_and_registry_knows_it():
    conv = ax.Conv2D(3, 8, (3, 5), stride=2, padding=(1, 2), bias=False, l2=1e-4)
    config = conv.get_config()
    assert config == {"in_channels": 3, "out_channels": 8, "kernel_size": [3, 5], "stride": [2, 2],
                      "padding": [1, 2], "bias": False, "l1": 0.0, "l2": 1e-4, "init": "he"}
    rebuilt = ax.layers.LAYER_REGISTRY["Conv2D"](**config)
    assert rebuilt.weight.shape == (8, 3, 3, 5) and rebuilt.bias is None
    assert rebuilt.output_shape((3, 9, 9)) == (8, 5, 5)


def test_he_init_variance_uses_receptive_field():
    conv = ax.Conv2D(16, 64, 3, seed=np.random.default_rng(0))
    assert conv.weight.data.std() == pytest.approx(np.sqrt(2 / (16 * 9)), rel=0.05)


def test_penalty_matches_formula():
    conv = ax.Conv2D(2, 3, 3, l1=0.1, l2=0.2, seed=np.random.default_rng(0), dtype="float64")
    W = conv.weight.data
    assert conv.penalty() == pytest.approx(0.1 * np.abs(W).sum() + 0.1 * (W ** 2).sum())


@pytest.mark.parametrize("kwargs, word", [
    ({"in_channels": 0, "out_channels": 3, "kernel_size": 3}, "in_channels"),
    ({"in_channels": 1, "out_channels": 3, "kernel_size": 0}, "kernel_size"),
    ({"in_channels": 1, "out_channels": 3, "kernel_size": 3, "stride": 0}, "stride"),
    ({"in_channels": 1, "out_channels": 3, "kernel_size": 3, "padding": -1}, "padding"),
    ({"in_channels": 1, "out_channels": 3, "kernel_size": 3, "l2": -1.0}, "l2"),
])
def test_bad_arguments_name_the_argument(kwargs, word):
    with pytest.raises(ValueError, match=word):
        ax.Conv2D(**kwargs)


def test_bad_input_shapes_raise_clear_errors():
    conv = ax.Conv2D(3, 4, 5)
    with pytest.raises(ValueError, match="expects input of shape"):
        conv.forward(np.zeros((2, 1, 8, 8), np.float32))
    with pytest.raises(ValueError, match="smaller than the kernel"):
        conv.forward(np.zeros((2, 3, 4, 4), np.float32))


def test_summary_shows_conv_shapes():
    model = ax.Sequential(ax.Conv2D(1, 8, 3, padding=1), ax.ReLU(), ax.MaxPool2D(2), ax.Flatten(),
                          ax.Dense(8 * 4 * 4, 10))
    text = model.summary(input_shape=(1, 8, 8))
    assert "(n, 8, 8, 8)" in text and "(n, 8, 4, 4)" in text and "(n, 128)" in text
    assert "Total params: 1,370" in text


def test_backward_params_matches_backward_and_model_skips_input_grad(layout):
    rng = np.random.default_rng(0)
    conv = ax.Conv2D(2, 3, 3, padding=1, dtype="float64", seed=rng, l2=0.1)
    x = rng.standard_normal((3, 2, 6, 6))
    g = rng.standard_normal((3, 3, 6, 6))
    conv.forward(x, training=True)
    conv.zero_grad()
    conv.backward(g)
    full = conv.weight.grad.copy(), conv.bias.grad.copy()
    conv.zero_grad()
    assert conv.backward_params(g) is None
    np.testing.assert_allclose(conv.weight.grad, full[0], rtol=1e-12)
    np.testing.assert_allclose(conv.bias.grad, full[1], rtol=1e-12)
    model = ax.Sequential(conv, ax.ReLU(), ax.Flatten(), ax.Dense(108, 2, dtype="float64", seed=rng))
    out = model.forward(x, training=True)
    model.zero_grad()
    assert model.backward(np.ones_like(out), input_grad=False) is None
    assert np.abs(conv.weight.grad).sum() > 0


@pytest.mark.parametrize("stride, padding", [(1, 0), (1, 2), (2, 1)])
def test_second_pass_through_reused_buffers_matches_torch(stride, padding, layout):
    # The work arrays (padded input, columns, wide δ) are reused: stale values must not leak.
    rng = np.random.default_rng(5)
    conv = ax.Conv2D(2, 3, 3, stride=stride, padding=padding, dtype="float64", seed=rng)
    for _ in range(2):
        x = rng.standard_normal((3, 2, 7, 6))
        y = conv.forward(x, training=True)
        g = rng.standard_normal(y.shape)
        conv.zero_grad()
        dx = conv.backward(g)
    assert_matches_torch(conv, x, y, g, dx, stride, padding)


@pytest.mark.parametrize("threads", [1, 2])
def test_training_is_bit_identical_between_runs_with_the_same_seed_and_thread_count(threads):
    from threadpoolctl import threadpool_limits
    rng = np.random.default_rng(0)
    X = rng.random((96, 1, 20, 20), dtype=np.float32)  # 400 output pixels: per-sample products,
    y = rng.integers(0, 3, 96)                          # then 100 and 36: batch-last

    def train():
        ax.set_seed(1)
        model = ax.Sequential(ax.Conv2D(1, 4, 3, padding=1), ax.ReLU(), ax.MaxPool2D(2),
                              ax.Conv2D(4, 6, 3, padding=1), ax.ReLU(), ax.MaxPool2D(2), ax.Flatten(),
                              ax.Dense(150, 3))
        model.compile(loss=ax.losses.SoftmaxCrossEntropy(), optimizer=ax.optim.SGD(lr=0.05, momentum=0.9))
        with threadpool_limits(limits=threads, user_api="blas"):
            model.fit(X, y, epochs=2, batch_size=32, seed=0, verbose=0)
        return [p.data.copy() for p in model.parameters()]

    first, second = train(), train()
    assert all(a.dtype == np.float32 and np.array_equal(a, b) for a, b in zip(first, second))


@pytest.mark.parametrize("k, padding, channels", [(5, 2, 1), (3, 1, 3), (4, 0, 2), (2, 1, 1)])
def test_direct_layout_is_taken_and_does_not_depend_on_the_thread_count(monkeypatch, k, padding, channels):
    # The compiled loops split the batch over the BLAS thread count; each sample is computed alone
    # and ∂C/∂W is summed in sample order, so 1 and 2 threads give the same bits.
    from threadpoolctl import threadpool_limits
    use_layout(monkeypatch, "direct")
    rng = np.random.default_rng(7)
    x = rng.standard_normal((7, channels, 17, 16)).astype(np.float32)
    runs = []
    for threads in (1, 2):
        conv = ax.Conv2D(channels, 3, k, padding=padding, seed=0)
        with threadpool_limits(limits=threads, user_api="blas"):
            y = conv.forward(x, training=True)
            assert conv._layout == "direct"
            conv.zero_grad()
            dx = conv.backward(np.sin(y))
        runs.append((y, dx, conv.weight.grad.copy(), conv.bias.grad.copy()))
    assert all(np.array_equal(a, b) for a, b in zip(*runs))


def test_direct_layout_is_gradient_checked(monkeypatch):
    use_layout(monkeypatch, "direct")
    rng = np.random.default_rng(2)
    model = ax.Sequential(ax.Conv2D(2, 3, 5, padding=2, seed=rng, l2=0.01), ax.Tanh(),
                          ax.Conv2D(3, 2, 3, seed=rng), ax.Tanh(), ax.Flatten(), ax.Dense(2 * 18 * 18, 3, seed=rng))
    X = rng.standard_normal((3, 2, 20, 20))
    model.forward(X)
    assert [layer._layout for layer in model.layers[:3:2]] == ["direct", "direct"]
    report = ax.gradcheck(model, ax.losses.SoftmaxCrossEntropy(), X, np.array([0, 2, 1]))
    assert report.ok, str(report)


def test_without_numba_the_numpy_path_serves(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "numba", None)   # "import numba" now raises ImportError
    monkeypatch.delitem(sys.modules, "axon.layers.compiled_loops", raising=False)
    monkeypatch.delattr(sys.modules["axon.layers"], "compiled_loops", raising=False)
    monkeypatch.setattr(fast, "_modules", {})
    monkeypatch.setattr(fast, "_enabled", True)
    monkeypatch.setattr(ax.Conv2D, "BATCH_LAST_BELOW", 0)
    conv = ax.Conv2D(1, 2, 5, padding=2, dtype="float64", seed=0)
    x = np.random.default_rng(0).standard_normal((2, 1, 16, 16))
    y = conv.forward(x)
    assert conv._layout == "per_sample" and fast.loops("axon.layers.compiled_loops") is None
    assert y.shape == (2, 2, 16, 16)



def test_a_cnn_on_the_compiled_loops_resumes_bit_for_bit(monkeypatch, tmp_path):
    # The direct convolution, the 2x2 pooling and the one-pass optimizer step are deterministic:
    # a run cut mid-epoch and resumed from its checkpoint ends on the uninterrupted run's weights.
    from axon.callbacks import Callback, ModelCheckpoint
    use_layout(monkeypatch, "direct")
    rng = np.random.default_rng(0)
    X, y = rng.random((64, 1, 28, 28), dtype=np.float32), rng.integers(0, 4, 64)

    def model(seed=1):
        ax.set_seed(seed)
        m = ax.Sequential(ax.Conv2D(1, 4, 5, padding=2), ax.ReLU(), ax.MaxPool2D(2), ax.Flatten(),
                          ax.Dense(4 * 14 * 14, 4))
        m.compile(loss=ax.losses.SoftmaxCrossEntropy(), optimizer=ax.optim.SGD(lr=0.05, momentum=0.9))
        return m

    class Crash(Callback):
        def on_batch_end(self, batch, logs=None):
            if self.loop.global_step == 6:
                raise RuntimeError("simulated crash")

    def fit(m, callbacks, **kw):
        return m.fit(X, y, epochs=3, batch_size=16, seed=2, verbose=0, callbacks=callbacks, **kw)

    reference = model()
    fit(reference, [ModelCheckpoint(tmp_path / "ref.ckpt", every_n_batches=2)])
    assert reference.layers[0]._layout == "direct" and hasattr(reference.layers[2], "_arg")
    with pytest.raises(RuntimeError, match="simulated crash"):
        fit(model(), [ModelCheckpoint(tmp_path / "run.ckpt", every_n_batches=2), Crash()])
    resumed = model(seed=7)
    fit(resumed, [ModelCheckpoint(tmp_path / "run.ckpt", every_n_batches=2)], resume_from=tmp_path / "run.ckpt")
    assert all(np.array_equal(a.data, b.data) for a, b in zip(reference.parameters(), resumed.parameters()))
