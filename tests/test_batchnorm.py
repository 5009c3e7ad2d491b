"""BatchNorm1d and BatchNorm2d: against PyTorch in training and inference, running statistics,
gradient checks in both modes, buffers, dtypes and errors."""

from __future__ import annotations

import numpy as np
import pytest

import axon as ax

SHAPES = {"1d": [(8, 5), (6, 3, 4)], "2d": [(4, 3, 5, 5), (2, 2, 3, 7)]}


def make(kind, n, **kw):
    return (ax.BatchNorm1d if kind == "1d" else ax.BatchNorm2d)(n, dtype="float64", **kw)


def torch_bn(kind, n, **kw):
    torch = pytest.importorskip("torch")
    cls = torch.nn.BatchNorm1d if kind == "1d" else torch.nn.BatchNorm2d
    return cls(n, **kw).double()


def _step_matches(bn, ref, x, g, training):
    """One forward and backward of axon's layer and PyTorch's: outputs and gradients agree."""
    torch = pytest.importorskip("torch")
    bn.zero_grad()
    y = bn.forward(x, training=training)
    dx = bn.backward(g)
    xt = torch.tensor(x, requires_grad=True)
    ref.zero_grad()
    yt = ref(xt)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(bn.weight.grad, ref.weight.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(bn.bias.grad, ref.bias.grad.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("kind, shape", [(k, s) for k, shapes in SHAPES.items() for s in shapes])
@pytest.mark.parametrize("momentum", [0.1, 0.3])
def test_training_steps_match_torch(kind, shape, momentum):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    n = shape[1]
    bn = make(kind, n, momentum=momentum)
    ref = torch_bn(kind, n, momentum=momentum)
    gamma, beta = rng.uniform(0.5, 1.5, n), rng.standard_normal(n)
    bn.weight.data[:] = gamma
    bn.bias.data[:] = beta
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(gamma))
        ref.bias.copy_(torch.tensor(beta))
    ref.train()
    for step in range(4):                    # several steps: the running statistics accumulate
        _step_matches(bn, ref, rng.standard_normal(shape) * (step + 1) + step, rng.standard_normal(shape),
                      training=True)
        np.testing.assert_allclose(bn.running_mean, ref.running_mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(bn.running_var, ref.running_var.numpy(), rtol=1e-12)
    # Inference uses the running statistics, as PyTorch's eval mode.
    ref.eval()
    _step_matches(bn, ref, rng.standard_normal(shape), rng.standard_normal(shape), training=False)


def test_inference_does_not_touch_running_stats_and_is_per_sample():
    bn = make("2d", 3)
    rng = np.random.default_rng(1)
    bn.forward(rng.standard_normal((8, 3, 4, 4)) + 2.0, training=True)
    mean, var = bn.running_mean.copy(), bn.running_var.copy()
    x = rng.standard_normal((5, 3, 4, 4))
    y = bn.forward(x)
    np.testing.assert_array_equal(bn.running_mean, mean)
    np.testing.assert_array_equal(bn.running_var, var)
    np.testing.assert_allclose(bn.forward(x[:1]), y[:1])   # one sample alone gives the same output


@pytest.mark.parametrize("kind, shape", [("1d", (6, 4)), ("2d", (3, 2, 3, 3))])
@pytest.mark.parametrize("training", [True, False])
def test_gradcheck_batchnorm(kind, shape, training):
    rng = np.random.default_rng(0)
    n = shape[1]
    bn = make(kind, n)
    bn.weight.data[:] = rng.uniform(0.5, 1.5, n)
    bn.bias.data[:] = rng.standard_normal(n)
    bn.running_mean[:] = rng.standard_normal(n)
    bn.running_var[:] = rng.uniform(0.5, 2.0, n)
    flat = int(np.prod(shape[1:]))
    model = ax.Sequential(bn, ax.Tanh(), ax.Flatten(), ax.Dense(flat, 3, seed=rng, dtype="float64"))
    X = rng.standard_normal(shape)
    y = rng.integers(0, 3, shape[0])
    report = ax.gradcheck(model, ax.losses.SoftmaxCrossEntropy(), X, y, training=training)
    assert report.ok, str(report)


def test_gradcheck_cnn_with_batchnorm_in_training_mode():
    # A bias right before BatchNorm has exactly zero gradient (the mean is subtracted), so the usual
    # bias=False; a relative error of two zero vectors would be meaningless.
    rng = np.random.default_rng(0)
    model = ax.Sequential(ax.Conv2D(1, 3, 3, padding=1, bias=False, seed=rng), ax.BatchNorm2d(3), ax.Tanh(),
                          ax.MaxPool2D(2), ax.Flatten(), ax.Dense(12, 4, bias=False, seed=rng), ax.BatchNorm1d(4),
                          ax.Tanh(), ax.Dense(4, 2, seed=rng))
    X = rng.standard_normal((5, 1, 4, 4))
    report = ax.gradcheck(model, ax.losses.SoftmaxCrossEntropy(), X, np.array([0, 1, 1, 0, 1]),
                          training=True)
    assert report.ok, str(report)


def test_buffers_set_buffer_and_dtype():
    bn = ax.BatchNorm2d(4)
    assert bn.weight.data.dtype == np.float32 and set(bn.buffers()) == {"running_mean", "running_var"}
    np.testing.assert_array_equal(bn.buffers()["running_var"], np.ones(4))
    bn.set_buffer("running_mean", np.arange(4.0))
    assert bn.running_mean.dtype == np.float32 and bn.running_mean[3] == 3
    with pytest.raises(ValueError, match="shape"):
        bn.set_buffer("running_var", np.ones(3))
    with pytest.raises(KeyError):
        bn.set_buffer("nope", np.ones(4))
    x = np.random.default_rng(0).standard_normal((4, 4, 3, 3)).astype(np.float32)
    y = bn.forward(x, training=True)
    assert y.dtype == np.float32 and bn.backward(np.ones_like(y)).dtype == np.float32
    assert bn.running_var.dtype == np.float32
    bn.to_dtype(np.float64)
    assert bn.running_mean.dtype == np.float64 and bn.weight.data.dtype == np.float64
    assert bn.forward(x).dtype == np.float64


def test_config_rebuild_and_summary():
    bn = ax.BatchNorm1d(7, eps=1e-3, momentum=0.2)
    assert bn.get_config() == {"num_features": 7, "eps": 1e-3, "momentum": 0.2}
    rebuilt = ax.layers.LAYER_REGISTRY["BatchNorm1d"](**bn.get_config())
    assert rebuilt.eps == 1e-3 and rebuilt.momentum == 0.2
    model = ax.Sequential(ax.Conv2D(1, 4, 3), ax.BatchNorm2d(4))
    assert "(n, 4, 6, 6)" in model.summary(input_shape=(1, 8, 8))
    assert [p.name for p in model.parameters()][2:] == ["batchnorm2d_1.weight", "batchnorm2d_1.bias"]


def test_errors():
    with pytest.raises(ValueError, match="num_features"):
        ax.BatchNorm2d(0)
    with pytest.raises(ValueError, match="momentum"):
        ax.BatchNorm1d(3, momentum=1.5)
    with pytest.raises(ValueError, match="expects input"):
        ax.BatchNorm2d(3).forward(np.zeros((2, 4, 3, 3)))
    with pytest.raises(ValueError, match="batch of 2"):
        ax.BatchNorm1d(3).forward(np.zeros((1, 3)), training=True)
