"""Callbacks: early stopping, learning-rate changes, CSV logs, checkpoints, the hook order."""

from __future__ import annotations

import csv
import warnings

import numpy as np
import pytest

import axon as ax
from axon.callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
)


def _model(lr=0.05):
    ax.set_seed(0)
    m = ax.Sequential(ax.Dense(4, 6), ax.Tanh(), ax.Dense(6, 3))
    m.compile(loss="cross_entropy", optimizer=ax.optim.SGD(lr=lr), metrics=["accuracy"])
    return m


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4)).astype(np.float32)
    return X, (X[:, 0] > 0).astype(int) + (X[:, 1] > 0).astype(int)


class ScriptedValLoss(Callback):
    """Overwrites val_loss with a scripted sequence (runs before the callbacks under test) and
    records the weights at the end of every epoch."""

    def __init__(self, values):
        self.values = values
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = self.values[epoch]
        self.weights.append([p.data.copy() for p in self.model.parameters()])


def test_early_stopping_stops_at_the_right_epoch_and_restores_best(data):
    # best at epoch 2 (0-based); no improvement at 3 and 4 -> patience 2 stops after epoch 4
    script = ScriptedValLoss([5.0, 4.0, 3.0, 3.5, 3.2, 1.0, 0.5, 0.1])
    es = EarlyStopping(patience=2)
    m = _model()
    h = m.fit(*data, epochs=8, batch_size=10, validation_split=0.2, callbacks=[script, es], verbose=0)
    assert h.epoch == [0, 1, 2, 3, 4]
    assert h.history["val_loss"] == [5.0, 4.0, 3.0, 3.5, 3.2]
    assert es.best == 3.0 and es.best_epoch == 2 and es.stopped_epoch == 4
    assert h.stopped_early
    final = [p.data for p in m.parameters()]
    assert all(np.array_equal(a, b) for a, b in zip(final, script.weights[2]))
    assert not all(np.array_equal(a, b) for a, b in zip(final, script.weights[4]))


def test_early_stopping_min_delta_and_no_restore(data):
    script = ScriptedValLoss([1.0, 0.95, 0.92, 0.5, 0.4])
    es = EarlyStopping(patience=2, min_delta=0.1, restore_best=False)
    m = _model()
    h = m.fit(*data, epochs=5, validation_split=0.2, callbacks=[script, es], verbose=0)
    assert len(h.epoch) == 3  # 0.95 and 0.92 are not better than 1.0 by more than 0.1
    final = [p.data for p in m.parameters()]
    assert all(np.array_equal(a, b) for a, b in zip(final, script.weights[-1]))


def test_early_stopping_monitors_accuracy_as_max(data):
    class Acc(Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_accuracy"] = [0.5, 0.6, 0.55, 0.58, 0.9][epoch]

    h = _model().fit(*data, epochs=5, validation_split=0.2, verbose=0,
                     callbacks=[Acc(), EarlyStopping(monitor="val_accuracy", patience=2)])
    assert len(h.epoch) == 4


def test_early_stopping_falls_back_to_loss_without_validation(data):
    es = EarlyStopping(patience=1)
    with pytest.warns(UserWarning, match="monitoring 'loss'"):
        _model().fit(*data, epochs=2, callbacks=[es], verbose=0)
    assert es.monitor == "loss" and es.best is not None


def test_reduce_lr_on_plateau_lowers_the_rate(data):
    script = ScriptedValLoss([1.0, 1.1, 1.2, 0.5, 0.6, 0.7, 0.8, 0.9])
    cb = ReduceLROnPlateau(factor=0.5, patience=2, min_lr=0.02)
    h = _model(lr=0.1).fit(*data, epochs=8, validation_split=0.2, callbacks=[script, cb], verbose=0)
    # "lr" is the rate used during each epoch: halved after epochs 2 and 5, floored at min_lr
    assert h.history["lr"] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025])
    script = ScriptedValLoss([1.0] * 8)
    h = _model(lr=0.1).fit(*data, epochs=8, validation_split=0.2, verbose=0,
                           callbacks=[script, ReduceLROnPlateau(factor=0.5, patience=1, min_lr=0.02)])
    assert min(h.history["lr"]) == pytest.approx(0.02)


def test_learning_rate_scheduler_with_a_function_and_a_schedule(data):
    h = _model().fit(*data, epochs=4, verbose=0,
                     callbacks=[LearningRateScheduler(lambda e: 0.1 * 0.5 ** e)])
    assert h.history["lr"] == pytest.approx([0.1, 0.05, 0.025, 0.0125])
    step = ax.optim.schedules.StepDecay(0.2, step_size=2, gamma=0.1)
    h = _model().fit(*data, epochs=4, verbose=0, callbacks=[LearningRateScheduler(step)])
    assert h.history["lr"] == pytest.approx([0.2, 0.2, 0.02, 0.02])
    with pytest.raises(ValueError, match="schedule"):
        _model().fit(*data, epochs=1, verbose=0, callbacks=[LearningRateScheduler(lambda e: -1.0)])


def test_csv_logger_writes_one_row_per_epoch(tmp_path, data):
    path = tmp_path / "logs" / "history.csv"
    h = _model().fit(*data, epochs=3, validation_split=0.2, callbacks=[CSVLogger(path)], verbose=0)
    with open(path) as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    assert [float(r["val_loss"]) for r in rows] == h.history["val_loss"]  # exact: repr of floats
    assert list(rows[0]) == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr"]


def test_model_checkpoint_every_epoch_best_only_and_every_n_batches(tmp_path, data, monkeypatch):
    written = []
    m = _model()
    h = m.fit(*data, epochs=3, batch_size=10, validation_split=0.2, verbose=0,
              callbacks=[ModelCheckpoint(tmp_path / "ck-{epoch}.axon")])
    assert sorted(p.name for p in tmp_path.glob("ck-*.axon")) == ["ck-1.axon", "ck-2.axon", "ck-3.axon"]
    ck = ax.load_checkpoint(tmp_path / "ck-3.axon")
    assert ck.epoch == 3 and ck.batch == 0 and ck.history["loss"] == h.history["loss"]
    assert all(np.array_equal(a.data, b.data) for a, b in zip(ck.model.parameters(), m.parameters()))

    from axon.training import FitLoop
    original = FitLoop.save_checkpoint

    def spy(self, path):
        written.append((self.epoch, self.batch))
        return original(self, path)

    monkeypatch.setattr(FitLoop, "save_checkpoint", spy)
    script = ScriptedValLoss([3.0, 2.0, 2.5, 1.0])
    _model().fit(*data, epochs=4, batch_size=10, validation_split=0.2, verbose=0,
                 callbacks=[script, ModelCheckpoint(tmp_path / "best.axon", save_best_only=True)])
    assert written == [(1, 0), (2, 0), (4, 0)]
    written.clear()
    # 48 training samples, batch 10 -> 5 batches per epoch; every 3 steps: steps 3, 6, 9, 12
    # (mid-epoch), plus the epoch ends
    _model().fit(*data, epochs=3, batch_size=10, validation_split=0.2, verbose=0,
                 callbacks=[ModelCheckpoint(tmp_path / "steps.axon", every_n_batches=3)])
    assert written == [(0, 3), (1, 0), (1, 1), (1, 4), (2, 0), (2, 2), (3, 0)]


def test_hooks_run_in_order_and_see_gradients(data):
    events = []

    class Spy(Callback):
        def on_train_begin(self, logs=None):
            events.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            events.append(f"epoch_begin {epoch}")

        def on_batch_begin(self, batch, logs=None):
            events.append(f"batch_begin {batch}")

        def on_batch_end(self, batch, logs=None):
            grads = [p.grad for p in self.model.parameters()]
            assert any(np.abs(g).sum() > 0 for g in grads)  # gradients of this batch are there
            assert set(logs) == {"loss", "size"}
            events.append(f"batch_end {batch}")

        def on_epoch_end(self, epoch, logs=None):
            events.append(f"epoch_end {epoch}")
            logs["custom"] = 2.0 * epoch

        def on_train_end(self, logs=None):
            events.append("train_end")

    h = _model().fit(data[0][:20], data[1][:20], epochs=2, batch_size=10, callbacks=[Spy()], verbose=0)
    assert events == ["train_begin", "epoch_begin 0", "batch_begin 0", "batch_end 0", "batch_begin 1",
                      "batch_end 1", "epoch_end 0", "epoch_begin 1", "batch_begin 0", "batch_end 0",
                      "batch_begin 1", "batch_end 1", "epoch_end 1", "train_end"]
    assert h.history["custom"] == [0.0, 2.0]  # keys a callback adds go into the history


def test_stop_training_from_a_callback(data):
    class StopAt1(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True

    h = _model().fit(*data, epochs=10, callbacks=[StopAt1()], verbose=0)
    assert h.epoch == [0, 1]


def test_gradient_stats_is_exposed_and_fills_the_history(data):
    assert ax.callbacks.GradientStats.__module__ == "axon.callbacks"
    h = _model().fit(*data, epochs=2, callbacks=[ax.callbacks.GradientStats()], verbose=0)
    assert len(h.history["grad_norm/dense_1"]) == 2 and h.history["grad_norm/dense_1"][0] > 0


def test_callback_argument_checks():
    for bad in (lambda: EarlyStopping(patience=-1), lambda: ReduceLROnPlateau(factor=1.5),
                lambda: ModelCheckpoint("x", every_n_batches=0), lambda: EarlyStopping(mode="up"),
                lambda: ReduceLROnPlateau(min_lr=-1)):
        with pytest.raises(ValueError):
            bad()
    with pytest.raises(TypeError):
        LearningRateScheduler(0.1)


def test_missing_monitor_warns_and_skips(data):
    es = EarlyStopping(monitor="val_f1", patience=0)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        h = _model().fit(*data, epochs=2, validation_split=0.2, callbacks=[es], verbose=0)
    assert len(h.epoch) == 2 and any("val_f1" in str(x.message) for x in w)


def test_learning_rate_scheduler_accepts_a_schedule_that_reaches_zero():
    """CosineDecay with min_lr=0 ends at 0; the scheduler must pass it on, not refuse it."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(16, 3)).astype(np.float32), rng.integers(0, 2, 16)
    model = ax.Sequential(ax.Dense(3, 2))
    model.compile("cross_entropy", ax.optim.SGD(lr=0.1))
    sched = ax.callbacks.LearningRateScheduler(lambda epoch: 0.1 if epoch == 0 else 0.0)
    h = model.fit(X, y, epochs=2, batch_size=8, verbose=0, callbacks=[sched])
    assert h.history["lr"] == [0.1, 0.0]
    bad = ax.callbacks.LearningRateScheduler(lambda epoch: -0.1)
    with pytest.raises(ValueError, match=">= 0"):
        model.fit(X, y, epochs=1, verbose=0, callbacks=[bad])
