"""Never losing work: resume after a crash or kill -9 gives the uninterrupted run's weights bit for bit,
Ctrl-C writes a checkpoint and returns the history, and bad resumes fail clearly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import axon as ax
from axon.callbacks import Callback, CSVLogger, EarlyStopping, ModelCheckpoint

# The same BLAS thread count in every process, so that every run computes the same floats.
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}



@pytest.fixture(scope="module")
def data():
    (X, y), _ = ax.datasets.load_digits()
    return X[:400], y[:400]


def _model(seed=1):
    ax.set_seed(seed)
    m = ax.Sequential(ax.Dense(64, 32), ax.ReLU(), ax.Dropout(0.2), ax.Dense(32, 10, l2=1e-3))
    m.compile("cross_entropy", ax.optim.Adam(lr=1e-2), metrics=["accuracy"])
    return m


class Crash(Callback):
    """Simulates a crash after a given optimizer step."""

    def __init__(self, step):
        self.step = step

    def on_batch_end(self, batch, logs=None):
        if self.loop.global_step == self.step:
            raise RuntimeError("simulated crash")


def _callbacks(tmp_path, name):
    return [EarlyStopping(patience=2), CSVLogger(tmp_path / f"{name}.csv"),
            ModelCheckpoint(tmp_path / f"{name}.ckpt", every_n_batches=4)]


def _fit(m, data, callbacks, **kw):
    return m.fit(*data, epochs=5, batch_size=32, validation_split=0.2, seed=3, verbose=0,
                 callbacks=callbacks, **kw)


@pytest.fixture(scope="module")
def reference(data, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ref")
    m = _model()
    h = _fit(m, data, _callbacks(tmp, "ref"))
    return [p.data.copy() for p in m.parameters()], h, (tmp / "ref.csv").read_text()


# 320 training samples, batch 32: 10 steps per epoch. ModelCheckpoint writes after global steps 4, 8,
# 12, ... (except at an epoch's last batch) and at every epoch end, after the other callbacks' hooks of
# the same step (runs_last), so a crash at step s resumes from the last write before s:
#   6 -> (epoch 0, batch 4)   mid-epoch
#   8 -> (0, 4)               the crash comes before step 8's write
#   9 -> (0, 8)               right after a mid-epoch checkpoint
#  13 -> (1, 2)               after an epoch end and one more mid-epoch write
#  21 -> (2, 0)               just after an epoch end
#  40 -> (3, 6)               at the last batch of an epoch, before its end
@pytest.mark.parametrize("crash_at, resumes_at", [(6, (0, 4)), (8, (0, 4)), (9, (0, 8)), (13, (1, 2)),
                                                  (21, (2, 0)), (40, (3, 6))])
def test_resume_after_a_crash_equals_the_uninterrupted_run(data, tmp_path, reference, crash_at, resumes_at):
    ref_weights, ref_history, ref_csv = reference
    with pytest.raises(RuntimeError, match="simulated crash"):
        _fit(_model(), data, _callbacks(tmp_path, "run") + [Crash(crash_at)])
    ck = ax.load_checkpoint(tmp_path / "run.ckpt")
    assert (ck.epoch, ck.batch) == resumes_at
    m = _model(seed=99)  # different initial weights: everything must come from the checkpoint
    h = _fit(m, data, _callbacks(tmp_path, "run"), resume_from=tmp_path / "run.ckpt")
    assert all(np.array_equal(a, p.data) for a, p in zip(ref_weights, m.parameters()))
    assert h.history == ref_history.history and h.epoch == ref_history.epoch
    assert (tmp_path / "run.csv").read_text() == ref_csv  # rows of redone epochs are not repeated
    # one file holds everything (EarlyStopping's best weights included): nothing beside it
    assert sorted(p.name for p in tmp_path.glob("run.ckpt*")) == ["run.ckpt"]


def test_a_checkpoint_holds_the_history_and_position_once_and_older_files_still_resume(
        data, tmp_path, reference):
    from axon.io.model_file import read_file

    ref_weights, ref_history, _ = reference
    with pytest.raises(RuntimeError, match="simulated crash"):
        _fit(_model(), data, _callbacks(tmp_path, "run") + [Crash(13)])
    path = tmp_path / "run.ckpt"
    meta, _ = read_file(path)
    assert not {"epoch", "batch", "history"} & meta["checkpoint"]["extra"].keys()  # in the fields only
    ck = ax.load_checkpoint(path)
    assert (ck.epoch, ck.batch) == (1, 2) and ck.history == {k: v[:1] for k, v in ref_history.history.items()}

    class Saved:  # the checkpoint's optimizer state, as an optimizer gives it
        def state_dict(self):
            return ck.optimizer_state

    old = tmp_path / "old.ckpt"  # as older axons wrote it: epoch, batch and history in extra as well
    ax.save_checkpoint(old, ck.model, Saved(), epoch=ck.epoch, batch=ck.batch, history=ck.history,
                       extra={**ck.extra, "epoch": ck.epoch, "batch": ck.batch, "history": ck.history})
    for resume_from in (path, old):
        m = _model(seed=99)
        h = _fit(m, data, _callbacks(tmp_path, "again"), resume_from=resume_from)
        assert all(np.array_equal(a, p.data) for a, p in zip(ref_weights, m.parameters()))
        assert h.history == ref_history.history and h.epoch == ref_history.epoch


def test_resume_after_early_stopping_does_not_train_further(data, tmp_path):
    class Worse(Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = float(epoch)  # never improves after epoch 0

    cbs = [Worse(), EarlyStopping(patience=1), ModelCheckpoint(tmp_path / "es.ckpt")]
    m = _model()
    h = _fit(m, data, cbs)
    assert h.epoch == [0, 1] and h.stopped_early
    m2 = _model(seed=5)
    h2 = _fit(m2, data, [Worse(), EarlyStopping(patience=1), ModelCheckpoint(tmp_path / "es.ckpt")],
              resume_from=tmp_path / "es.ckpt")
    assert h2.epoch == [0, 1]
    assert all(np.array_equal(a.data, b.data) for a, b in zip(m.parameters(), m2.parameters()))


def test_ctrl_c_in_process_checkpoints_and_returns_the_history(data, tmp_path, reference):
    class CtrlC(Callback):
        def on_batch_end(self, batch, logs=None):
            if self.loop.global_step == 15:
                os.kill(os.getpid(), signal.SIGINT)  # as if the user pressed Ctrl-C

    before = signal.getsignal(signal.SIGINT)
    m = _model()
    h = _fit(m, data, _callbacks(tmp_path, "int") + [CtrlC()])
    assert signal.getsignal(signal.SIGINT) is before  # the old handler is back
    assert h.interrupted and h.checkpoint_path == str(tmp_path / "int.ckpt")
    assert h.epoch == [0]  # the current batch was finished; epoch 1 is incomplete
    ck = ax.load_checkpoint(h.checkpoint_path)
    assert (ck.epoch, ck.batch) == (1, 5)
    m2 = _model(seed=7)
    _fit(m2, data, _callbacks(tmp_path, "int"), resume_from=h.checkpoint_path)
    assert all(np.array_equal(a, p.data) for a, p in zip(reference[0], m2.parameters()))


def test_ctrl_c_without_a_checkpoint_callback_still_returns(data):
    class CtrlC(Callback):
        def on_batch_end(self, batch, logs=None):
            if self.loop.global_step == 3:
                os.kill(os.getpid(), signal.SIGINT)

    h = _model().fit(*data, epochs=3, verbose=0, callbacks=[CtrlC()])
    assert h.interrupted and h.checkpoint_path is None and h.epoch == []


def test_resume_rejects_a_different_model_batch_size_or_a_plain_model_file(data, tmp_path):
    m = _model()
    m.fit(*data, epochs=1, verbose=0, callbacks=[ModelCheckpoint(tmp_path / "c.ckpt")])
    other = ax.Sequential(ax.Dense(64, 16), ax.ReLU(), ax.Dense(16, 10))
    other.compile("cross_entropy", "adam")
    with pytest.raises(ValueError, match="does not match this model"):
        other.fit(*data, epochs=2, verbose=0, resume_from=tmp_path / "c.ckpt")
    with pytest.raises(ValueError, match="batch_size"):
        _model().fit(*data, epochs=2, batch_size=50, verbose=0, resume_from=tmp_path / "c.ckpt")
    ax.save(m, tmp_path / "plain.axon")
    with pytest.raises(ax.io.ModelFileError, match="not a checkpoint"):
        _model().fit(*data, epochs=2, verbose=0, resume_from=tmp_path / "plain.axon")


DRIVER = """
import json, os, signal, sys, time
import numpy as np
import axon as ax

mode, folder = sys.argv[1], sys.argv[2]
(X, y), _ = ax.datasets.load_digits()
X, y = X[:400], y[:400]
ax.set_seed(1 if mode != "resume" else 42)
model = ax.Sequential(ax.Dense(64, 32), ax.ReLU(), ax.Dropout(0.2), ax.Dense(32, 10))
model.compile("cross_entropy", ax.optim.SGD(lr=0.05, momentum=0.9), metrics=["accuracy"])
ckpt = os.path.join(folder, "train.ckpt")


class Hook(ax.callbacks.Callback):
    def on_batch_end(self, batch, logs=None):
        step = self.loop.global_step
        if mode == "kill" and step == 17:
            os.kill(os.getpid(), signal.SIGKILL)       # no cleanup, no finally: a hard kill
        if mode == "sigint" and step == 17:
            os.kill(os.getpid(), signal.SIGINT)
        if mode == "slow":
            if step == 5:
                open(os.path.join(folder, "ready"), "w").close()
            time.sleep(0.02)


callbacks = [ax.callbacks.EarlyStopping(patience=3), ax.callbacks.ModelCheckpoint(ckpt, every_n_batches=5),
             Hook()]
history = model.fit(X, y, epochs=4, batch_size=32, validation_split=0.2, seed=11, verbose=1,
                    callbacks=callbacks, resume_from=ckpt if mode == "resume" else None)
np.savez(os.path.join(folder, f"weights-{mode}.npz"), *[p.data for p in model.parameters()])
with open(os.path.join(folder, f"history-{mode}.json"), "w") as f:
    json.dump(history.history, f)
if history.interrupted:
    print(f"interrupted; checkpoint at {history.checkpoint_path}", file=sys.stderr)
    sys.exit(130)
"""


def _run(tmp_path, mode, **kw):
    script = tmp_path / "driver.py"
    if not script.exists():
        script.write_text(textwrap.dedent(DRIVER))
    return subprocess.run([sys.executable, str(script), mode, str(tmp_path)], capture_output=True, text=True,
                          env=ENV, timeout=120, **kw)


def _weights(tmp_path, mode):
    with np.load(tmp_path / f"weights-{mode}.npz", allow_pickle=False) as f:
        return [f[k] for k in sorted(f.files, key=lambda k: int(k.split("_")[1]))]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("full")
    proc = _run(tmp, "full")
    assert proc.returncode == 0, proc.stderr
    return _weights(tmp, "full"), json.loads((tmp / "history-full.json").read_text())


@pytest.mark.slow
def test_kill_9_then_resume_in_a_new_process_is_bit_identical(tmp_path, uninterrupted):
    proc = _run(tmp_path, "kill")
    assert proc.returncode == -signal.SIGKILL
    ck = ax.load_checkpoint(tmp_path / "train.ckpt")
    assert (ck.epoch, ck.batch) == (1, 5)  # steps 5, 10 (epoch end), 15: the last write before step 17
    proc = _run(tmp_path, "resume")
    assert proc.returncode == 0, proc.stderr
    ref_w, ref_h = uninterrupted
    assert all(np.array_equal(a, b) for a, b in zip(_weights(tmp_path, "resume"), ref_w))
    assert json.loads((tmp_path / "history-resume.json").read_text()) == ref_h


@pytest.mark.slow
def test_sigint_exits_130_without_traceback_and_resumes_exactly(tmp_path, uninterrupted):
    proc = _run(tmp_path, "sigint")
    assert proc.returncode == 130, proc.stderr
    assert "Traceback" not in proc.stderr and "KeyboardInterrupt" not in proc.stderr
    assert "checkpoint at" in proc.stderr
    ck = ax.load_checkpoint(tmp_path / "train.ckpt")
    assert (ck.epoch, ck.batch) == (1, 7)  # written at the interruption, after finishing step 17
    proc = _run(tmp_path, "resume")
    assert proc.returncode == 0, proc.stderr
    assert all(np.array_equal(a, b) for a, b in zip(_weights(tmp_path, "resume"), uninterrupted[0]))


@pytest.mark.slow
def test_sigint_from_outside_while_training(tmp_path):
    script = tmp_path / "driver.py"
    script.write_text(textwrap.dedent(DRIVER))
    proc = subprocess.Popen([sys.executable, str(script), "slow", str(tmp_path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "ready").exists():
            assert proc.poll() is None and time.monotonic() < deadline, "the driver did not start training"
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert os.path.exists(tmp_path / "train.ckpt")
    history = json.loads((tmp_path / "history-slow.json").read_text())
    assert isinstance(history, dict)


def test_each_kept_checkpoint_holds_its_own_callback_state(data, tmp_path):
    def cbs():
        return [EarlyStopping(patience=3), ModelCheckpoint(tmp_path / "ck-{epoch}.axon")]

    m = _model()
    _fit(m, data, cbs())
    for epoch in range(1, 6):
        (stopper,) = [c for c in ax.load_checkpoint(tmp_path / f"ck-{epoch}.axon").extra["callbacks"]
                      if c["type"] == "EarlyStopping"]
        best = stopper["state"]["best_weights"]
        assert [w.shape for w in best] == [p.data.shape for p in m.parameters()]
    # resume from an early one: the same end as the run that went through
    m2 = _model(seed=4)
    _fit(m2, data, cbs(), resume_from=tmp_path / "ck-2.axon")
    assert all(np.array_equal(a.data, b.data) for a, b in zip(m.parameters(), m2.parameters()))


def _rewrite_tensor(path, name, value):
    """Replace one tensor of a safetensors file, keeping its metadata (a crafted checkpoint)."""
    from safetensors import safe_open
    from safetensors.numpy import save_file

    with safe_open(str(path), "np") as f:
        meta = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    assert name in tensors, sorted(tensors)
    tensors[name] = value
    save_file(tensors, str(path), metadata=meta)


def test_a_tampered_callback_array_fails_the_resume_and_changes_no_weight(data, tmp_path):
    _fit(_model(), data, [EarlyStopping(patience=3), ModelCheckpoint(tmp_path / "c.ckpt")])
    ck = ax.load_checkpoint(tmp_path / "c.ckpt")
    assert ck.extra["callbacks"][0]["type"] == "EarlyStopping"
    # every best weight rewritten as one value of shape (1,): it would broadcast into every weight
    for i in range(len(ck.model.parameters())):
        _rewrite_tensor(tmp_path / "c.ckpt", f"checkpoint.extra.callbacks.0.state.best_weights.{i}",
                        np.full(1, 7.0, dtype=np.float32))
    m = _model(seed=5)
    before = [p.data.copy() for p in m.parameters()]
    opt_before = m.optimizer.state_dict()
    with pytest.raises(ax.io.ModelFileError, match="best weights do not match"):
        _fit(m, data, [EarlyStopping(patience=3), ModelCheckpoint(tmp_path / "c.ckpt")],
             resume_from=tmp_path / "c.ckpt")
    assert all(np.array_equal(a, p.data) for a, p in zip(before, m.parameters()))
    assert m.optimizer.state_dict()["iterations"] == opt_before["iterations"]


def test_a_tampered_optimizer_array_fails_the_resume_and_changes_no_weight(data, tmp_path):
    _fit(_model(), data, [ModelCheckpoint(tmp_path / "c.ckpt")])
    _rewrite_tensor(tmp_path / "c.ckpt", "checkpoint.optimizer.state.1.grad_sum", np.zeros(3, np.float32))
    m = _model(seed=5)
    before = [p.data.copy() for p in m.parameters()]
    with pytest.raises(ax.io.ModelFileError, match="shape"):
        _fit(m, data, [ModelCheckpoint(tmp_path / "c.ckpt")], resume_from=tmp_path / "c.ckpt")
    assert all(np.array_equal(a, p.data) for a, p in zip(before, m.parameters()))


def _bn_model(seed):
    ax.set_seed(seed)
    m = ax.Sequential(ax.Dense(64, 32), ax.BatchNorm1d(32), ax.ReLU(), ax.Dropout(0.1), ax.Dense(32, 10))
    m.compile("cross_entropy", ax.optim.SGD(lr=0.05, momentum=0.9), metrics=["accuracy"])
    return m


def _lr_callbacks(tmp_path, which):
    from axon.callbacks import LearningRateScheduler, ReduceLROnPlateau
    from axon.optim.schedules import StepDecay

    # min_delta=10: no epoch after the first counts as an improvement, so the rate halves every 2 epochs
    lr = (LearningRateScheduler(StepDecay(0.05, step_size=2, gamma=0.5)) if which == "schedule"
          else ReduceLROnPlateau(patience=1, factor=0.5, min_delta=10.0))
    return [lr, ModelCheckpoint(tmp_path / "s.ckpt", every_n_batches=3)]


@pytest.mark.parametrize("which", ["schedule", "plateau"])
@pytest.mark.parametrize("crash_at", [7, 25])
def test_resume_is_bit_identical_with_schedules_plateaus_and_batchnorm(data, tmp_path, which, crash_at):
    ref = _bn_model(1)
    ref_h = _fit(ref, data, _lr_callbacks(tmp_path / "ref", which))
    with pytest.raises(RuntimeError, match="simulated crash"):
        _fit(_bn_model(1), data, _lr_callbacks(tmp_path, which) + [Crash(crash_at)])
    m = _bn_model(2)
    h = _fit(m, data, _lr_callbacks(tmp_path, which), resume_from=tmp_path / "s.ckpt")
    assert h.history == ref_h.history  # the learning rates of every epoch included
    assert len(set(ref_h.history["lr"])) > 1  # the rate did change during the run
    for a, b in zip(ref.layers, m.layers):
        assert all(np.array_equal(p.data, q.data) for p, q in zip(a.parameters(), b.parameters()))
        for key, value in a.buffers().items():  # BatchNorm's running statistics
            np.testing.assert_array_equal(value, b.buffers()[key])
