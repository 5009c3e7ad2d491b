"""Checkpoints: model, optimizer state (SGD momentum, Adam), epoch, rng, history, extra (plain data with
arrays); exact resume."""

from __future__ import annotations

import numpy as np
import pytest

import axon as ax
from axon.io import Checkpoint, ModelFileError


def make_model(seed: int = 0) -> ax.Sequential:
    ax.set_seed(seed)
    return ax.Sequential(ax.Dense(4, 8), ax.Tanh(), ax.Dense(8, 3))


def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    return X, y


def train_steps(model, opt, loss, X, y, n: int, rng: np.random.Generator) -> None:
    for _ in range(n):
        idx = rng.permutation(len(X))[:8]
        out = model.forward(X[idx], training=True)
        loss.forward(out, y[idx])
        model.zero_grad()
        model.backward(loss.backward())
        opt.step()


OPTIMIZERS = {
    "sgd_momentum": lambda params: ax.optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True),
    "adam": lambda params: ax.optim.Adam(params, lr=0.01, betas=(0.8, 0.99)),
    "adamw": lambda params: ax.optim.AdamW(params, lr=0.01),
    "rmsprop": lambda params: ax.optim.RMSProp(params, lr=0.01, momentum=0.5, centered=True),
    "adagrad": lambda params: ax.optim.AdaGrad(params, lr=0.05),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_resume_continues_exactly(tmp_path, name):
    X, y = data()
    loss = ax.losses.SoftmaxCrossEntropy()

    # Uninterrupted: 5 steps then 5 steps.
    model = make_model()
    opt = OPTIMIZERS[name](model.parameters())
    rng = np.random.default_rng(42)
    train_steps(model, opt, loss, X, y, 5, rng)
    ax.save_checkpoint(tmp_path / "c.axon", model, opt, epoch=5, batch=1, rng=rng,
                       history={"loss": [1.5, 1.25]}, extra={"best": float("inf"), "wait": 2})
    train_steps(model, opt, loss, X, y, 5, rng)
    expected = [p.data.copy() for p in model.parameters()]

    # Interrupted: a fresh process would rebuild everything from the file.
    ck = ax.load_checkpoint(tmp_path / "c.axon")
    assert isinstance(ck, Checkpoint)
    assert (ck.epoch, ck.batch) == (5, 1)
    assert ck.history == {"loss": [1.5, 1.25]}
    assert ck.extra == {"best": float("inf"), "wait": 2}
    opt2 = OPTIMIZERS[name](ck.model.parameters())
    opt2.load_state_dict(ck.optimizer_state)
    rng2 = np.random.default_rng()
    rng2.bit_generator.state = ck.rng_state
    train_steps(ck.model, opt2, loss, X, y, 5, rng2)
    for p, q in zip(ck.model.parameters(), expected):
        assert np.array_equal(p.data, q), p.name


def test_optimizer_state_is_what_state_dict_returned(tmp_path):
    X, y = data()
    model = make_model()
    opt = ax.optim.Adam(model.parameters(), lr=0.01)
    train_steps(model, opt, ax.losses.SoftmaxCrossEntropy(), X, y, 3, np.random.default_rng(0))
    ax.save_checkpoint(tmp_path / "c.axon", model, opt, epoch=1)
    got = ax.load_checkpoint(tmp_path / "c.axon").optimizer_state
    want = opt.state_dict()
    assert {k: v for k, v in got.items() if k != "state"} == {k: v for k, v in want.items() if k != "state"}
    assert len(got["state"]) == len(want["state"])
    for g, w in zip(got["state"], want["state"]):
        assert g.keys() == w.keys()
        for k in w:
            if isinstance(w[k], np.ndarray):
                assert g[k].dtype == w[k].dtype and np.array_equal(g[k], w[k])
            else:
                assert g[k] == w[k]


def test_checkpoint_file_also_loads_as_a_model(tmp_path):
    model = make_model()
    opt = ax.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    X, y = data()
    train_steps(model, opt, ax.losses.SoftmaxCrossEntropy(), X, y, 2, np.random.default_rng(0))
    ax.save_checkpoint(tmp_path / "c.axon", model, opt, epoch=2)
    loaded = ax.load(tmp_path / "c.axon")
    assert np.array_equal(loaded.forward(X), model.forward(X))


def test_minimal_checkpoint(tmp_path):
    ax.save_checkpoint(tmp_path / "c.axon", make_model(), epoch=0)
    ck = ax.load_checkpoint(tmp_path / "c.axon")
    assert ck.optimizer_state is None and ck.rng_state is None
    assert ck.history == {} and ck.extra == {} and ck.batch == 0


def test_nan_in_history_survives(tmp_path):
    ax.save_checkpoint(tmp_path / "c.axon", make_model(), epoch=1, history={"loss": [0.5, float("nan")]})
    loss = ax.load_checkpoint(tmp_path / "c.axon").history["loss"]
    assert loss[0] == 0.5 and np.isnan(loss[1])


@pytest.mark.parametrize("bit_generator", [np.random.PCG64, np.random.MT19937, np.random.Philox,
                                           np.random.SFC64])
def test_rng_state_of_any_bit_generator(tmp_path, bit_generator):
    rng = np.random.Generator(bit_generator(3))
    rng.random(5)
    ax.save_checkpoint(tmp_path / "c.axon", make_model(), epoch=1, rng=rng)
    state = ax.load_checkpoint(tmp_path / "c.axon").rng_state
    other = np.random.Generator(bit_generator())
    other.bit_generator.state = state
    assert np.array_equal(other.random(10), rng.random(10))


def test_extra_holds_plain_data_with_arrays_as_tensors(tmp_path):
    best = [np.arange(6, dtype=np.float32).reshape(2, 3), np.arange(3, dtype=np.int64)]
    extra = {"best": 0.25, "wait": 2, "weights": best, "nested": {"flag": True, "name": "x"}}
    ax.save_checkpoint(tmp_path / "c.axon", make_model(), epoch=1, extra=extra)
    got = ax.load_checkpoint(tmp_path / "c.axon").extra
    assert got["best"] == 0.25 and got["wait"] == 2 and got["nested"] == {"flag": True, "name": "x"}
    assert [(w.dtype, w.shape) for w in got["weights"]] == [(w.dtype, w.shape) for w in best]
    assert all(np.array_equal(a, b) for a, b in zip(got["weights"], best))
    from safetensors import safe_open
    with safe_open(str(tmp_path / "c.axon"), "np") as f:  # the arrays are tensors of the one file
        assert {"checkpoint.extra.weights.0", "checkpoint.extra.weights.1"} <= set(f.keys())


def test_extra_may_hold_dropout_generator_states(tmp_path):
    model = ax.Sequential(ax.Dense(4, 4), ax.Dropout(0.5, seed=np.random.default_rng(9)), ax.Dense(4, 2))
    drop = model[1]
    drop.rng.random(3)
    ax.save_checkpoint(tmp_path / "c.axon", model, epoch=1,
                       extra={"dropout": {drop.name: drop.rng.bit_generator.state}})
    ck = ax.load_checkpoint(tmp_path / "c.axon")
    ck.model[1].rng = np.random.default_rng()
    ck.model[1].rng.bit_generator.state = ck.extra["dropout"][drop.name]
    x = np.ones((6, 4), np.float32)
    assert np.array_equal(ck.model[1].forward(x, training=True), drop.forward(x, training=True))


def test_bad_arguments_are_clear_errors(tmp_path):
    model = make_model()
    with pytest.raises(ValueError, match="epoch"):
        ax.save_checkpoint(tmp_path / "c.axon", model, epoch=-1)
    with pytest.raises(ValueError, match="batch"):
        ax.save_checkpoint(tmp_path / "c.axon", model, epoch=1, batch=1.5)
    with pytest.raises(TypeError, match="extra"):
        ax.save_checkpoint(tmp_path / "c.axon", model, epoch=1, extra={"f": object()})
    with pytest.raises(TypeError, match="extra.a.b"):
        ax.save_checkpoint(tmp_path / "c.axon", model, epoch=1, extra={"a": {"b": np.array(["text"])}})
    with pytest.raises(TypeError, match="two arrays"):
        ax.save_checkpoint(tmp_path / "c.axon", model, epoch=1,
                           extra={"a.b": np.zeros(2), "a": {"b": np.ones(2)}})
    with pytest.raises(TypeError, match="history"):
        ax.save_checkpoint(tmp_path / "c.axon", model, epoch=1, history={"loss": ["x"]})
    with pytest.raises(TypeError, match="rng"):
        ax.save_checkpoint(tmp_path / "c.axon", model, epoch=1, rng=42)
    assert not (tmp_path / "c.axon").exists()


def test_plain_model_file_is_not_a_checkpoint(tmp_path):
    ax.save(make_model(), tmp_path / "m.axon")
    with pytest.raises(ModelFileError, match="not a checkpoint"):
        ax.load_checkpoint(tmp_path / "m.axon")


def test_failed_checkpoint_save_keeps_the_previous_one(tmp_path, monkeypatch):
    model = make_model()
    ax.save_checkpoint(tmp_path / "c.axon", model, epoch=1)
    import axon.io.atomic as atomic

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "replace", boom)
    with pytest.raises(OSError):
        ax.save_checkpoint(tmp_path / "c.axon", model, epoch=2)
    monkeypatch.undo()
    assert ax.load_checkpoint(tmp_path / "c.axon").epoch == 1
    assert [p.name for p in tmp_path.iterdir()] == ["c.axon"]
