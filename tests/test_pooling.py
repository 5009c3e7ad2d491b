"""MaxPool2D, AvgPool2D and Flatten: against PyTorch, ties, gradient checks, dtypes, config."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import axon as ax
from axon import fast


@pytest.fixture(autouse=True, params=["numpy", "compiled"])
def pooling_path(request, monkeypatch):
    """Every test runs on the NumPy path and on the compiled loops (2×2 max pooling, axon.fast)."""
    if request.param == "compiled":
        pytest.importorskip("numba")
    monkeypatch.setattr(fast, "_enabled", request.param == "compiled")
    return request.param

# (N, C, H, W, kernel, stride): tiled (stride == kernel) with and without leftover rows, overlapping
# windows, strides larger than the kernel, rectangular windows.
CASES = [
    (2, 3, 8, 8, 2, None),
    (2, 2, 7, 9, 2, None),
    (1, 3, 9, 9, 3, None),
    (2, 2, 7, 7, 3, 2),
    (2, 1, 6, 6, 2, 1),
    (2, 2, 9, 8, 2, 3),
    (1, 2, 7, 8, (2, 3), (1, 2)),
]


def torch_pool(kind, x, k, s, grad_y):
    torch = pytest.importorskip("torch")
    xt = torch.tensor(x, requires_grad=True)
    fn = torch.nn.functional.max_pool2d if kind == "max" else torch.nn.functional.avg_pool2d
    yt = fn(xt, k, stride=s)
    yt.backward(torch.tensor(grad_y))
    return yt.detach().numpy(), xt.grad.numpy()


def check_pool(kind, N, C, H, W, k, s, x=None, seed=0):
    rng = np.random.default_rng(seed)
    layer = ax.MaxPool2D(k, s) if kind == "max" else ax.AvgPool2D(k, s)
    x = rng.standard_normal((N, C, H, W)) if x is None else x
    y = layer.forward(x, training=True)
    grad_y = rng.standard_normal(y.shape)
    dx = layer.backward(grad_y)
    ty, tdx = torch_pool(kind, x, k, s, grad_y)
    np.testing.assert_allclose(y, ty, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, tdx, rtol=1e-12, atol=1e-12)
    assert layer.output_shape((C, H, W)) == y.shape[1:]


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("case", CASES)
def test_pool_matches_torch(kind, case):
    check_pool(kind, *case)


@settings(max_examples=25, deadline=None)
@given(kind=st.sampled_from(["max", "avg"]), N=st.integers(1, 3), C=st.integers(1, 3),
       H=st.integers(3, 9), W=st.integers(3, 9), k=st.integers(1, 3), s=st.integers(1, 3),
       seed=st.integers(0, 1000))
def test_pool_matches_torch_hypothesis(kind, N, C, H, W, k, s, seed):
    pytest.importorskip("torch")
    check_pool(kind, N, C, H, W, k, s, seed=seed)


@pytest.mark.parametrize("k, s", [(2, None), (3, 1), (2, 1)])
def test_maxpool_ties_route_the_gradient_once(k, s):
    # After a ReLU whole windows are 0: the gradient must go to one position (the first), not all.
    x = np.maximum(np.random.default_rng(3).standard_normal((2, 2, 6, 6)), 0.0)
    x[:, :, :2, :2] = 0.0
    check_pool("max", 2, 2, 6, 6, k, s, x=x)


def test_gradcheck_pools_in_a_model():
    rng = np.random.default_rng(0)
    model = ax.Sequential(ax.Conv2D(1, 2, 3, padding=1, seed=rng), ax.MaxPool2D(2),
                          ax.AvgPool2D(2, 1), ax.Flatten(), ax.Dense(2 * 2 * 2, 3, seed=rng))
    X = rng.standard_normal((3, 1, 6, 6))
    report = ax.gradcheck(model, ax.losses.SoftmaxCrossEntropy(), X, np.array([0, 1, 2]))
    assert report.ok, str(report)


@pytest.mark.parametrize("layer", [ax.MaxPool2D(2), ax.AvgPool2D(2), ax.MaxPool2D(3, 1), ax.AvgPool2D(3, 2)])
def test_pool_dtypes(layer):
    for dt in (np.float32, np.float64):
        x = np.random.default_rng(0).standard_normal((2, 2, 7, 7)).astype(dt)
        y = layer.forward(x, training=True)
        assert y.dtype == dt and layer.backward(np.ones_like(y)).dtype == dt


def test_pool_config_and_errors():
    assert ax.MaxPool2D(2).get_config() == {"kernel_size": [2, 2], "stride": [2, 2]}
    rebuilt = ax.layers.LAYER_REGISTRY["AvgPool2D"](**ax.AvgPool2D(3, 1).get_config())
    assert rebuilt.kernel_size == (3, 3) and rebuilt.stride == (1, 1)
    with pytest.raises(ValueError, match="kernel_size"):
        ax.MaxPool2D(0)
    with pytest.raises(ValueError, match="stride"):
        ax.AvgPool2D(2, stride=-1)
    with pytest.raises(ValueError, match="smaller than the pooling window"):
        ax.MaxPool2D(4).forward(np.zeros((1, 1, 3, 3)))
    with pytest.raises(ValueError, match="height, width"):
        ax.MaxPool2D(2).forward(np.zeros((1, 9)))


def test_flatten_matches_torch_order_and_backward():
    torch = pytest.importorskip("torch")
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5)
    flat = ax.Flatten()
    y = flat.forward(x)
    np.testing.assert_array_equal(y, torch.nn.Flatten()(torch.tensor(x)).numpy())
    assert flat.output_shape((3, 4, 5)) == (60,)
    g = np.random.default_rng(0).standard_normal(y.shape)
    np.testing.assert_array_equal(flat.backward(g), g.reshape(x.shape))
    assert flat.get_config() == {}


def test_compiled_max_pool_is_taken_keeps_nan_and_ignores_the_thread_count(pooling_path):
    from threadpoolctl import threadpool_limits
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 3, 9, 8)).astype(np.float32)
    x[0, 0, 1, 1] = np.nan            # in the second column and row of window (0, 0)
    x[1, 2, :2, :2] = 0.5             # a tie: the first position takes the gradient
    runs = []
    for threads in (1, 2):
        layer = ax.MaxPool2D(2)
        with threadpool_limits(limits=threads, user_api="blas"):
            y = layer.forward(x, training=True)
            dx = layer.backward(np.ones_like(y))
        assert hasattr(layer, "_arg") == (pooling_path == "compiled")
        runs.append((y, dx))
    assert np.isnan(runs[0][0][0, 0, 0, 0]) and np.isfinite(np.delete(runs[0][0].ravel(), 0)).all()
    assert runs[0][1][1, 2, 0, 0] == 1 and runs[0][1][1, 2, :2, :2].sum() == 1
    assert (runs[0][1][:, :, 8, :] == 0).all()   # the last odd row is in no window
    assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(*runs))
