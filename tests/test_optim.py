"""Optimizers: trajectories equal PyTorch's, clipping, weight decay, freezing, state, dtypes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import axon as ax
from axon.optim import OPTIMIZERS, SGD, AdaGrad, Adam, AdamW, Optimizer, RMSProp, get_optimizer

SHAPES = [(4, 3), (3,), (2, 2, 2)]

# (axon class, torch class name, keyword arguments shared by both)
CASES = [
    (SGD, "SGD", {"lr": 0.1}),
    (SGD, "SGD", {"lr": 0.1, "weight_decay": 0.05}),
    (SGD, "SGD", {"lr": 0.05, "momentum": 0.9}),
    (SGD, "SGD", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01}),
    (SGD, "SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True}),
    (SGD, "SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.02}),
    (Adam, "Adam", {"lr": 0.01}),
    (Adam, "Adam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1}),
    (AdamW, "AdamW", {"lr": 0.01}),
    (AdamW, "AdamW", {"lr": 0.02, "betas": (0.85, 0.95), "weight_decay": 0.3}),
    (RMSProp, "RMSprop", {"lr": 0.01}),
    (RMSProp, "RMSprop", {"lr": 0.01, "alpha": 0.9, "weight_decay": 0.05}),
    (RMSProp, "RMSprop", {"lr": 0.01, "momentum": 0.9}),
    (RMSProp, "RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.01}),
    (AdaGrad, "Adagrad", {"lr": 0.1}),
    (AdaGrad, "Adagrad", {"lr": 0.1, "weight_decay": 0.05, "lr_decay": 0.01,
                          "initial_accumulator_value": 0.1}),
]


def make_params(seed=0, dtype=np.float64, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    return [ax.Parameter(rng.standard_normal(s).astype(dtype), f"p{i}") for i, s in enumerate(shapes)]


def gradient(p: np.ndarray, step: int, i: int) -> np.ndarray:
    """A gradient that depends on the parameter (a quadratic bowl) plus seeded noise."""
    noise = np.random.default_rng(1000 * step + i).standard_normal(p.shape)
    return 0.5 * p + noise


def train(opt, params, steps):
    """One optimizer step per step number, on :func:`gradient`'s gradients."""
    for step in steps:
        for i, p in enumerate(params):
            p.zero_grad()
            p.accumulate(gradient(p.data, step, i))
        opt.step()


def run_both(cls, torch_name, kw, steps=20, clip=None, frozen=(), before_step=None):
    """Both optimizers on the same gradients; ``before_step(step, opt, topt)`` may change them."""
    torch = pytest.importorskip("torch")
    params = make_params()
    for i in frozen:
        params[i].trainable = False
    tparams = [torch.tensor(p.data.copy(), requires_grad=i not in frozen) for i, p in enumerate(params)]
    opt = cls(params, clip_norm=clip, **kw)
    topt = getattr(torch.optim, torch_name)([t for t in tparams if t.requires_grad], **kw)
    for step in range(steps):
        for i, (p, t) in enumerate(zip(params, tparams)):
            g = gradient(p.data, step, i)
            p.zero_grad()
            p.accumulate(g)
            t.grad = torch.tensor(g.copy())
        if clip is not None:
            torch.nn.utils.clip_grad_norm_([t for t in tparams if t.requires_grad], clip)
        if before_step is not None:
            before_step(step, opt, topt)
        opt.step()
        topt.step()
    return params, tparams


@pytest.mark.parametrize(("cls", "torch_name", "kw"), CASES,
                         ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CASES)])
def test_trajectory_equals_pytorch(cls, torch_name, kw):
    params, tparams = run_both(cls, torch_name, kw)
    start = make_params()
    for p, t, p0 in zip(params, tparams, start):
        assert not np.allclose(p.data, p0.data)  # it moved
        np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(("cls", "torch_name", "kw"), [CASES[2], CASES[6], CASES[9], CASES[12]],
                         ids=["sgd", "adam", "adamw", "rmsprop"])
def test_clipped_trajectory_equals_pytorch(cls, torch_name, kw):
    params, tparams = run_both(cls, torch_name, kw, clip=1.0)
    for p, t in zip(params, tparams):
        np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-6, atol=1e-6)


def test_frozen_parameter_matches_pytorch_without_it():
    params, tparams = run_both(Adam, "Adam", {"lr": 0.01}, clip=2.0, frozen=(1,))
    np.testing.assert_array_equal(params[1].data, make_params()[1].data)
    for i in (0, 2):
        np.testing.assert_allclose(params[i].data, tparams[i].detach().numpy(), rtol=1e-6, atol=1e-6)


def test_adam_sums_are_pytorch_moments_and_follow_a_change_of_betas():
    opts = []

    def change_betas(step, opt, topt):
        opts[:] = [opt, topt]
        if step == 10:
            opt.betas = topt.param_groups[0]["betas"] = (0.5, 0.9)

    params, tparams = run_both(Adam, "Adam", {"lr": 0.01}, before_step=change_betas)
    opt, topt = opts
    for p, t, s in zip(params, tparams, opt.state):
        np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-6, atol=1e-6)
        ts = topt.state[t]
        np.testing.assert_allclose((1 - 0.5) * s["grad_sum"], ts["exp_avg"].numpy(), rtol=1e-9)
        np.testing.assert_allclose((1 - 0.9) * s["grad_sq_sum"], ts["exp_avg_sq"].numpy(), rtol=1e-9)


def test_adam_with_zero_lr_moves_the_moments_not_the_weights():
    params = make_params()
    opt = Adam(params, lr=0.0)
    for p in params:
        p.accumulate(np.full(p.shape, 2.0))
    opt.step()
    for p, p0, s in zip(params, make_params(), opt.state):
        np.testing.assert_array_equal(p.data, p0.data)
        np.testing.assert_array_equal(s["grad_sum"], 2.0)


@pytest.mark.parametrize("betas, lr", [((0.9, 0.999), 1e-2), ((0.5, 0.9), 0.3)])
def test_adam_update_is_the_paper_formula_of_adam_step(betas, lr):
    """The fast update (decaying sums, step folded into the denominator) against the formula as written."""
    from axon.optim.adam import adam_step

    params = make_params()
    opt = Adam(params, lr=lr, betas=betas)
    ref = [(p.data.copy(), np.zeros_like(p.data), np.zeros_like(p.data)) for p in params]
    for step in range(30):
        for i, p in enumerate(params):
            p.zero_grad()
            p.accumulate(gradient(p.data, step, i))
        grads = [p.grad.copy() for p in params]
        opt.step()
        ref = [adam_step(theta, g, m, v, step + 1, lr=lr, betas=betas) for (theta, m, v), g in zip(ref, grads)]
        for p, (theta, m, v), state in zip(params, ref, opt.state):
            np.testing.assert_allclose(p.data, theta, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose((1 - betas[0]) * state["grad_sum"], m, rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose((1 - betas[1]) * state["grad_sq_sum"], v, rtol=1e-12, atol=1e-14)


def test_clip_norm_equals_clip_grad_norm():
    torch = pytest.importorskip("torch")
    params = make_params()
    grads = [np.random.default_rng(i).standard_normal(p.shape) * 3 for i, p in enumerate(params)]
    for p, g in zip(params, grads):
        p.accumulate(g)
    tgrads = [torch.tensor(g.copy()) for g in grads]
    tparams = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for t, g in zip(tparams, tgrads):
        t.grad = g
    total = torch.nn.utils.clip_grad_norm_(tparams, 1.5)
    opt = SGD(params, lr=1.0, clip_norm=1.5)
    assert opt.grad_norm() == pytest.approx(float(total), rel=1e-12)
    opt._clip()
    for p, t in zip(params, tparams):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-12)
    assert opt.grad_norm() == pytest.approx(1.5, rel=1e-5)


def test_clip_norm_leaves_small_gradients_alone():
    params = make_params()
    for p in params:
        p.accumulate(np.full(p.shape, 1e-3))
    before = [p.grad.copy() for p in params]
    SGD(params, lr=0.1, clip_norm=10.0)._clip()
    for p, g in zip(params, before):
        np.testing.assert_array_equal(p.grad, g)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(name, dtype):
    params = make_params(dtype=dtype)
    kw = {"weight_decay": 0.1, "clip_norm": 0.5}
    if name in ("sgd", "rmsprop"):
        kw["momentum"] = 0.9
    opt = get_optimizer(name, lr=0.01, **kw)
    opt.bind(params)
    for step in range(3):
        for i, p in enumerate(params):
            p.zero_grad()
            p.accumulate(gradient(p.data, step, i).astype(dtype))
        opt.step()
    for p, s in zip(params, opt.state):
        assert p.data.dtype == dtype and p.grad.dtype == dtype
        assert all(v.dtype == dtype for v in s.values() if isinstance(v, np.ndarray))


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_state_dict_round_trip_continues_identically(name):
    kw = {"momentum": 0.9} if name in ("sgd", "rmsprop") else {}
    a, b = make_params(), make_params()
    opt_a = get_optimizer(name, lr=0.01, weight_decay=0.01, **kw)
    opt_a.bind(a)

    train(opt_a, a, range(10))
    saved = opt_a.state_dict()
    json.dumps(saved["config"])  # hyperparameters are plain data
    assert saved["iterations"] == 10
    assert all(not k.startswith("_") for s in saved["state"] for k in s)
    for pa, pb in zip(a, b):
        pb.data[...] = pa.data
    opt_b = get_optimizer(name, lr=0.5)  # a different lr: load_state_dict restores 0.01
    opt_b.bind(b)
    opt_b.load_state_dict(saved)
    assert opt_b.lr == 0.01
    saved["state"][0][next(k for k in saved["state"][0] if k != "step")] += 1.0  # a copy was loaded
    train(opt_a, a, range(10, 20))
    train(opt_b, b, range(10, 20))
    for pa, pb in zip(a, b):
        np.testing.assert_array_equal(pa.data, pb.data)
    assert opt_b.iterations == 20


def test_load_state_dict_rejects_mismatches():
    opt = Adam(make_params(), lr=0.01)
    for p in opt.params:
        p.accumulate(np.ones(p.shape))
    opt.step()
    saved = opt.state_dict()
    with pytest.raises(ValueError, match="Adam"):
        SGD(make_params()).load_state_dict(saved)
    with pytest.raises(ValueError, match="parameters"):
        Adam(make_params()[:2]).load_state_dict(saved)
    with pytest.raises(ValueError, match="shape"):
        Adam(make_params(shapes=[(3, 4), (3,), (2, 2, 2)])).load_state_dict(saved)


def test_frozen_parameters_are_skipped():
    params = make_params()
    params[0].trainable = False
    before = params[0].data.copy()
    opt = SGD(params, lr=0.1, momentum=0.9)
    for p in params:
        p.accumulate(np.ones(p.shape))
    opt.step()
    np.testing.assert_array_equal(params[0].data, before)
    assert opt.state[0] == {}
    assert opt.state[1]["step"] == 1
    np.testing.assert_allclose(params[1].data, make_params()[1].data - 0.1)


def test_adamw_decay_is_decoupled():
    # With a zero gradient, Adam's L2 decay is normalised by √v̂ (a full lr-sized step), AdamW's is θ·ηλ.
    pa, pw = make_params(), make_params()
    Adam(pa, lr=0.1, weight_decay=0.01, eps=1e-14).step()
    AdamW(pw, lr=0.1, weight_decay=0.01).step()
    p0 = make_params()[0].data
    np.testing.assert_allclose(pw[0].data, p0 * (1 - 0.1 * 0.01))
    np.testing.assert_allclose(pa[0].data, p0 - 0.1 * np.sign(p0), rtol=1e-6)


def test_unbound_optimizer_binds_later_and_explains_missing_params():
    opt = Adam(lr=1e-3)
    with pytest.raises(RuntimeError, match="compile"):
        opt.step()
    model = ax.Sequential(ax.Dense(3, 2), ax.ReLU(), ax.Dense(2, 1))
    opt.bind(model.parameters())
    assert len(opt.state) == 4


def test_explicit_loop_learns():
    ax.set_seed(0)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 3)).astype(np.float32)
    y = (X @ np.array([1.0, -2.0, 0.5], dtype=np.float32))[:, None]
    model = ax.Sequential(ax.Dense(3, 1))
    loss = ax.losses.MSE()
    opt = AdamW(model.parameters(), lr=0.05, weight_decay=0.0)
    first = None
    for _ in range(200):
        value = loss.forward(model.forward(X, training=True), y)
        first = value if first is None else first
        model.zero_grad()
        model.backward(loss.backward())
        opt.step()
    assert value < 1e-3 * first
    assert model.parameters()[0].data.dtype == np.float32


@pytest.mark.parametrize(("kw", "match"), [
    ({"lr": -0.1}, "lr"), ({"lr": float("nan")}, "lr"), ({"lr": "0.1"}, "lr"),
    ({"weight_decay": -1}, "weight_decay"), ({"clip_norm": 0}, "clip_norm"),
    ({"momentum": 1.0}, "momentum"), ({"nesterov": True}, "nesterov"),
])
def test_sgd_rejects_bad_arguments(kw, match):
    with pytest.raises(ValueError, match=match):
        SGD(**kw)


@pytest.mark.parametrize(("cls", "kw", "match"), [
    (Adam, {"betas": (0.9, 1.0)}, "betas"), (Adam, {"betas": 0.9}, "betas"), (Adam, {"eps": 0}, "eps"),
    (RMSProp, {"alpha": 1.5}, "alpha"), (AdaGrad, {"lr_decay": -1}, "lr_decay"),
])
def test_adaptive_optimizers_reject_bad_arguments(cls, kw, match):
    with pytest.raises(ValueError, match=match):
        cls(**kw)


def test_lr_is_a_python_float_and_may_reach_zero():
    opt = SGD(lr=np.float32(0.5))
    assert type(opt.lr) is float
    opt.lr = 0  # a schedule may end at 0
    assert opt.lr == 0.0


def test_get_optimizer():
    assert isinstance(get_optimizer("Adam", lr=0.1), Adam)
    assert isinstance(get_optimizer("adam_w"), AdamW)
    assert get_optimizer("rmsprop").alpha == 0.99
    assert get_optimizer("adagrad").eps == 1e-10
    assert get_optimizer("adamw").weight_decay == 0.01
    sgd = SGD(lr=0.3)
    assert get_optimizer(sgd) is sgd
    with pytest.raises(ValueError, match="sgd, adam"):
        get_optimizer("lion")
    with pytest.raises(TypeError, match="adam"):
        get_optimizer("adam", momentum=0.9)
    assert set(OPTIMIZERS) == {"sgd", "adam", "adamw", "rmsprop", "adagrad"}
    assert all(issubclass(c, Optimizer) for c in OPTIMIZERS.values())


@settings(max_examples=25, deadline=None)
@given(lr=st.floats(1e-4, 0.5), b1=st.floats(0.0, 0.99), b2=st.floats(0.5, 0.9999),
       wd=st.floats(0.0, 0.5), decoupled=st.booleans())
def test_adam_matches_pytorch_for_any_hyperparameters(lr, b1, b2, wd, decoupled):
    cls, name = (AdamW, "AdamW") if decoupled else (Adam, "Adam")
    params, tparams = run_both(cls, name, {"lr": lr, "betas": (b1, b2), "weight_decay": wd}, steps=8)
    for p, t in zip(params, tparams):
        np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("make", [lambda ps: ax.optim.SGD(ps, lr=0.05, momentum=0.9),
                                  lambda ps: ax.optim.SGD(ps, lr=0.05, momentum=0.8, weight_decay=1e-3),
                                  lambda ps: ax.optim.Adam(ps, lr=1e-3),
                                  lambda ps: ax.optim.Adam(ps, lr=1e-2, betas=(0.8, 0.99), weight_decay=1e-2),
                                  lambda ps: ax.optim.AdamW(ps, lr=1e-3)],
                         ids=["sgd-momentum", "sgd-decay", "adam", "adam-decay", "adamw"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_pass_updates_give_the_same_bits_as_the_numpy_code(monkeypatch, make, dtype):
    # The compiled loops do the NumPy code's float operations in its order: equal weights.
    pytest.importorskip("numba")
    from axon import fast
    runs = []
    for on in (True, False):
        monkeypatch.setattr(fast, "_enabled", on)
        rng = np.random.default_rng(0)
        params = [ax.Parameter(rng.standard_normal((37, 11)).astype(dtype)), ax.Parameter(rng.standard_normal(5).astype(dtype))]
        opt = make(params)
        for _ in range(6):
            for p in params:
                p.grad[...] = rng.standard_normal(p.data.shape)
            opt.step()
        runs.append([p.data.copy() for p in params] + [a for s in opt.state for k, a in s.items()
                                                        if isinstance(a, np.ndarray) and not k.startswith("_")])
    assert len(runs[0]) == len(runs[1]) and all(np.array_equal(a, b) for a, b in zip(*runs))
    assert runs[0][0].dtype == dtype
