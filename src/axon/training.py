"""The Keras-style training loop over transparent backpropagation: compile, fit, evaluate, predict.

``fit`` runs, for every minibatch, exactly the explicit loop of the course::

    out = model.forward(xb, training=True)
    value = loss.forward(out, yb) + model.penalty()      # penalty only when a layer has l1/l2
    model.zero_grad(); model.backward(loss.backward()); optimizer.step()

and adds around it what a real training run needs: validation, metrics, a history, callbacks,
a progress bar, exact resume from checkpoints, graceful Ctrl-C, and a divergence guard.

Figures in the history, per epoch:

- ``loss``: the mean over the epoch's batches of (batch loss + penalties), measured during the
  epoch (while the weights change, as Keras reports it);
- a metric such as ``accuracy``: its value over all training samples seen in the epoch
  (per-batch values weighted by batch size), from the outputs of the training forward passes;
- ``val_loss``, ``val_<metric>``: on the validation data after the epoch, in inference mode,
  as :func:`evaluate` computes them;
- ``lr``: the learning rate used during the epoch.

Reproducibility: ``fit(seed=s)`` derives, from ``numpy.random.SeedSequence(s)``, one generator for
the shuffling and one for each layer that has an ``rng`` attribute (Dropout), so the same seed
gives bit-identical weights and history on the same machine, whatever ran before.
``seed=None`` draws the shuffling seed from axon's generator (:func:`axon.set_seed`) and leaves
the layers' generators alone.
"""

from __future__ import annotations

import contextlib
import glob
import math
import os
import signal
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from axon import validation as V
from axon.callbacks import Callback, ModelCheckpoint
from axon.layers.base import Layer
from axon.losses import Loss, get_loss
from axon.metrics import get_metric
from axon.progress import Progress


class TrainingDivergedError(FloatingPointError, ValueError):
    """The loss or the weights became NaN or infinite during ``fit``.

    A FloatingPointError (an ArithmeticError, as NumPy's own overflow errors) and also a
    ValueError, so the command line reports it as a user-fixable error (exit status 2).
    Attributes ``epoch`` and ``batch`` (1-based, as the message says) tell where it happened.
    The model keeps the last weights that were finite.
    """

    def __init__(self, message: str, epoch: int, batch: int) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.batch = batch


class History:
    """What ``fit`` returns: the figures of every epoch.

    Attributes
    ----------
    history : ``{"loss": [...], "accuracy": [...], "val_loss": [...], "val_accuracy": [...],
        "lr": [...]}``, one float per epoch (callbacks such as GradientStats add keys).
    epoch : the epoch numbers recorded (0-based), as Keras.
    interrupted : True when training stopped on Ctrl-C (SIGINT).
    checkpoint_path : where the last checkpoint was written (None if none was).
    stopped_early : True when a callback (EarlyStopping) stopped training.
    params : fit's arguments: epochs, batch_size, steps (batches per epoch), samples.
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.interrupted = False
        self.checkpoint_path: str | None = None
        self.stopped_early = False
        self.params: dict[str, Any] = {}

    def append(self, epoch: int, logs: dict[str, Any]) -> None:
        """Record the figures of ``epoch`` (numbers only: other values a callback logs are not kept)."""
        self.epoch.append(epoch)
        for k, v in logs.items():
            if isinstance(v, (int, float, np.number)) and not isinstance(v, bool):
                self.history.setdefault(k, []).append(float(v))

    def __repr__(self) -> str:
        last = {k: round(v[-1], 4) for k, v in self.history.items() if v}
        state = " interrupted" if self.interrupted else ""
        return f"<History {len(self.epoch)} epochs{state}, last {last}>"


# -- compile ------------------------------------------------------------------------------------
def compile(model: Any, loss: str | Loss | type, optimizer: Any = None,
            metrics: Sequence[str | Callable] | None = None) -> None:
    """Attach a loss, an optimizer and metrics to ``model`` (the setup ``fit`` needs).

    Parameters
    ----------
    loss : a Loss instance, class or name ("cross_entropy", "mse", "quadratic", "bce").
    optimizer : an Optimizer instance (created with or without ``model.parameters()``), a class,
        or a name ("sgd", "adam", "adamw", "rmsprop", "adagrad") with default hyperparameters;
        default ``SGD(lr=0.01)``. An unbound optimizer is bound to ``model.parameters()``.
    metrics : names ("accuracy", "top_5_accuracy", "mse", "mae") or callables
        ``metric(y_pred, y_true) -> float``.
    """
    from axon.optim import SGD, get_optimizer

    if isinstance(loss, type) and issubclass(loss, Loss):
        loss = loss()
    if not isinstance(loss, (Loss, str)):
        raise TypeError(f"loss must be a loss object or name such as 'cross_entropy', got {type(loss).__name__}")
    loss = get_loss(loss)
    opt = SGD(lr=0.01) if optimizer is None else get_optimizer(optimizer)
    params = model.parameters()
    if not opt.params:
        opt.bind(params)
    elif [id(p) for p in opt.params] != [id(p) for p in params]:
        raise ValueError("optimizer was created with parameters that are not this model's; create it with "
                         "model.parameters() or without parameters (e.g. Adam(lr=1e-3)) and compile binds it")
    if metrics is None:
        metrics = []
    elif isinstance(metrics, str) or callable(metrics):
        metrics = [metrics]
    specs = []
    for m in metrics:
        name, fn = get_metric(m)  # raises on an unknown name now, not at fit time
        specs.append(name if isinstance(m, str) else fn)
    model.loss = loss
    model.optimizer = opt
    model.metrics = specs


def _metric_fns(model: Any) -> list[tuple[str, Callable]]:
    return [get_metric(m) for m in (getattr(model, "metrics", None) or [])]


def _metric_values(fns: list[tuple[str, Callable]], loss: Loss, out: np.ndarray,
                   y: np.ndarray) -> list[float]:
    """Each metric on one batch; the loss's link (softmax) is applied only when a metric needs it."""
    linked = None
    values = []
    for _, fn in fns:
        if getattr(fn, "scores_ok", False) and out.ndim == 2 and out.shape[1] > 1:
            values.append(fn(out, y))
        else:
            if linked is None:
                linked = loss.link(out)
            values.append(fn(linked, y))
    return values


def _has_penalty(model: Any) -> bool:
    """Whether any layer can add a penalty (so fit calls model.penalty() per batch only then)."""
    for layer in model.layers:
        if type(layer).penalty is Layer.penalty:
            continue
        l1, l2 = getattr(layer, "l1", None), getattr(layer, "l2", None)
        if l1 is None and l2 is None:
            return True  # a user layer with its own penalty
        if l1 or l2:
            return True
    return False


def _transform(model: Any, X: np.ndarray) -> np.ndarray:
    pre = getattr(model, "preprocessor", None)
    if pre is None:
        return X
    out = np.asarray(pre.transform(X))
    dtype = model.dtype
    return out if out.dtype == dtype else out.astype(dtype)


# -- evaluate / predict ---------------------------------------------------------------------------
def _evaluate_arrays(model: Any, X: np.ndarray, y: np.ndarray, batch_size: int,
                     fns: list[tuple[str, Callable]]) -> dict[str, float]:
    loss = model.loss
    n = X.shape[0]
    total = 0.0
    sums = [0.0] * len(fns)
    for start in range(0, n, batch_size):
        xb, yb = X[start:start + batch_size], y[start:start + batch_size]
        out = model.forward(xb, training=False)
        m = xb.shape[0]
        total += loss.forward(out, yb) * m
        for i, v in enumerate(_metric_values(fns, loss, out, yb)):
            sums[i] += v * m
    result = {"loss": total / n + model.penalty()}
    for (name, _), s in zip(fns, sums):
        result[name] = s / n
    return result


def evaluate(model: Any, X: Any, y: Any, batch_size: int = 256) -> dict[str, float]:
    """The loss (mean over samples, plus the layers' penalties) and metrics on (X, y).

    Runs in inference mode (no dropout) in batches of ``batch_size``; applies
    ``model.preprocessor`` to ``X``. Returns ``{"loss": ..., "accuracy": ..., ...}``.
    """
    V.check_compiled(model, "evaluate")
    batch_size = V.check_positive_int(batch_size, "batch_size", 256)
    X, y = V.check_xy(model, X, y, y_required=True)
    return _evaluate_arrays(model, _transform(model, X), y, batch_size, _metric_fns(model))


def predict(model: Any, X: Any, batch_size: int = 256) -> np.ndarray:
    """The model's predictions for ``X``: the output with the loss's link applied.

    Probabilities for SoftmaxCrossEntropy (softmax, shape (n, k)) and
    BinaryCrossEntropy(from_logits=True) (sigmoid); the raw output for MSE and for a model that
    was not compiled. Inference mode, in batches; ``model.preprocessor`` is applied to ``X``.
    """
    batch_size = V.check_positive_int(batch_size, "batch_size", 256)
    X = _transform(model, V.check_X(model, X))
    loss = getattr(model, "loss", None)
    n = X.shape[0]
    result = None
    for start in range(0, n, batch_size):
        out = model.forward(X[start:start + batch_size], training=False)
        if loss is not None:
            out = loss.link(out)
        if result is None:
            result = np.empty((n, *out.shape[1:]), dtype=out.dtype)
        result[start:start + out.shape[0]] = out
    return result


# -- fit ------------------------------------------------------------------------------------------
class FitLoop:
    """The state of one running ``fit``: where training is, and how to checkpoint it.

    Callbacks see it as ``self.loop``. Attributes: ``epoch`` (epochs completed), ``batch``
    (batches completed in the current epoch), ``n_batches`` (per epoch), ``global_step``
    (optimizer steps in this training run, resumed ones included), ``initial_epoch`` (where this
    call started), ``has_validation``, ``history``.
    """

    def __init__(self, model: Any, X: np.ndarray, y: np.ndarray, val: tuple[np.ndarray, np.ndarray] | None, *,
                 epochs: int, batch_size: int, shuffle: bool, seed: int | None,
                 callbacks: list[Callback], verbose: int) -> None:
        self.model, self.X, self.y, self.val = model, X, y, val
        self.loss: Loss = model.loss
        self.optimizer = model.optimizer
        self.metric_fns = _metric_fns(model)
        self.epochs, self.batch_size, self.shuffle, self.seed = epochs, batch_size, shuffle, seed
        self.n = X.shape[0]
        self.n_batches = -(-self.n // batch_size)
        # Checkpoint writers run after the other callbacks, so they save the others' new state.
        self.callbacks = ([c for c in callbacks if not isinstance(c, ModelCheckpoint)]
                          + [c for c in callbacks if isinstance(c, ModelCheckpoint)])
        self.verbose = verbose
        self.has_validation = val is not None
        self.history = History()
        self.epoch = 0
        self.batch = 0
        self.initial_epoch = 0
        self.global_step = 0
        self._sums: list[float] = [0.0, 0.0] + [0.0] * len(self.metric_fns)  # loss, samples, metrics
        self._batches_done = 0
        self._epoch_rng_state: dict | None = None
        self._interrupted = False
        # checkpoint path -> (state file it names, callbacks' arrays_version when written)
        self._state_files: dict[str, tuple[str, tuple]] = {}
        self.progress = Progress(verbose, epochs, self.n_batches)
        self._rng_layers = [(i, layer) for i, layer in enumerate(model.layers)
                            if isinstance(getattr(layer, "rng", None), np.random.Generator)]
        self._seed_generators(seed)

    # -- random generators --------------------------------------------------------------------
    def _seed_generators(self, seed: int | None) -> None:
        from axon._config import get_rng
        if seed is None:
            self.rng = np.random.default_rng(get_rng().integers(2**63))
            return
        children = np.random.SeedSequence(seed).spawn(1 + len(self._rng_layers))
        self.rng = np.random.default_rng(children[0])
        for (_, layer), child in zip(self._rng_layers, children[1:]):
            layer.rng = np.random.default_rng(child)

    # -- checkpoints -----------------------------------------------------------------------------
    def save_checkpoint(self, path: str | os.PathLike) -> str:
        """Write a checkpoint of the current position (see :class:`axon.callbacks.ModelCheckpoint`)."""
        from axon.io import save_checkpoint

        path = str(path)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(0)  # a container for the saved state
        rng.bit_generator.state = self._epoch_rng_state  # the epoch's permutation is redrawn on resume
        state_file = self._write_callback_arrays(path)
        extra = {
            "axon_fit": 1,
            "global_step": self.global_step,
            "partial": {"loss_sum": self._sums[0], "samples": self._sums[1], "metric_sums": self._sums[2:],
                        "batches": self._batches_done},
            "layer_rngs": {str(i): _json_state(layer.rng.bit_generator.state) for i, layer in self._rng_layers},
            "callbacks": [{"type": type(c).__name__, "state": c.state_dict()} for c in self.callbacks],
            "callback_arrays": os.path.basename(state_file) if state_file else None,
            "stop_training": bool(self.model.stop_training),
            "history_epochs": list(self.history.epoch),
            "shuffle": self.shuffle,
            "batch_size": self.batch_size,
        }
        save_checkpoint(path, self.model, self.optimizer, epoch=self.epoch, batch=self.batch, rng=rng,
                        history=self.history.history, extra=extra)
        # Files named <path>.state-* belong to this checkpoint path only; now that the checkpoint
        # names state_file, the others are unreferenced.
        for old in glob.glob(glob.escape(os.path.abspath(path)) + ".state-*.npz"):
            if old != state_file:
                with contextlib.suppress(OSError):
                    os.remove(old)
        self.history.checkpoint_path = path
        return path

    def _write_callback_arrays(self, path: str) -> str | None:
        """Callbacks' arrays (EarlyStopping's best weights) into ``<path>.state-<step>.npz``."""
        arrays = {}
        key = os.path.abspath(path)
        version = tuple(c.arrays_version for c in self.callbacks)
        written = self._state_files.get(key)
        if written is not None and written[1] == version and os.path.exists(written[0]):
            return written[0]  # unchanged since the last write for this path: name it again
        for i, c in enumerate(self.callbacks):
            for k, v in c.state_arrays().items():
                arrays[f"{i}/{k}"] = v
        if not arrays:
            return None
        target = f"{key}.state-{self.global_step}.npz"
        tmp = f"{target}.tmp-{os.getpid()}"
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
        self._state_files[key] = (target, version)
        return target

    def restore(self, path: str | os.PathLike) -> None:
        """Continue from the checkpoint at ``path``: weights, optimizer, position, generators, callbacks."""
        from axon.io import load_checkpoint

        ck = load_checkpoint(path)
        src, dst = ck.model.parameters(), self.model.parameters()
        if len(src) != len(dst) or any(a.data.shape != b.data.shape for a, b in zip(src, dst)):
            raise ValueError(f"resume_from={str(path)!r}: the checkpoint's model does not match this model "
                             f"(parameters {[a.data.shape for a in src]} vs {[b.data.shape for b in dst]}); "
                             f"resume with the model that wrote it")
        for a, b in zip(src, dst):
            np.copyto(b.data, a.data.astype(b.data.dtype, copy=False))
        for la, lb in zip(ck.model.layers, self.model.layers):
            for key, value in la.buffers().items():
                lb.set_buffer(key, value.astype(self.model.dtype, copy=False))
        if ck.optimizer_state is not None:
            self.optimizer.load_state_dict(ck.optimizer_state)
        extra = ck.extra or {}
        if extra.get("batch_size", self.batch_size) != self.batch_size or ck.batch > self.n_batches:
            raise ValueError(f"resume_from: the checkpoint was written with batch_size={extra.get('batch_size')}; "
                             f"resume with the same batch_size (and data) to continue exactly")
        self.epoch, self.batch, self.initial_epoch = ck.epoch, ck.batch, ck.epoch
        self._epoch_rng_state = ck.rng_state
        if ck.rng_state is not None:
            self.rng.bit_generator.state = ck.rng_state
        self.history.history = {k: list(v) for k, v in ck.history.items()}
        self.history.epoch = list(extra.get("history_epochs", range(len(ck.history.get("loss", [])))))
        self.history.checkpoint_path = str(path)
        self.global_step = int(extra.get("global_step", 0))
        partial = extra.get("partial")
        if partial and ck.batch > 0:
            self._sums = [float(partial["loss_sum"]), float(partial["samples"]),
                          *map(float, partial["metric_sums"])]
            self._batches_done = int(partial["batches"])
        for key, state in (extra.get("layer_rngs") or {}).items():
            i = int(key)
            if i < len(self.model.layers) and isinstance(getattr(self.model.layers[i], "rng", None),
                                                         np.random.Generator):
                self.model.layers[i].rng.bit_generator.state = state
        self.model.stop_training = bool(extra.get("stop_training", False))
        self._saved_callbacks = (extra, os.path.abspath(path))

    def _restore_callbacks(self) -> None:
        """Give the callbacks their saved state (after their on_train_begin reset it)."""
        extra, ckpt_path = self._saved_callbacks
        saved = extra.get("callbacks") or []
        arrays: dict[str, np.ndarray] = {}
        file = None
        if isinstance(extra.get("callback_arrays"), str):
            file = os.path.join(os.path.dirname(ckpt_path), os.path.basename(extra["callback_arrays"]))
            if os.path.exists(file):
                with np.load(file, allow_pickle=False) as data:
                    arrays = {k: data[k] for k in data.files}
        for i, c in enumerate(self.callbacks):
            if i < len(saved) and saved[i].get("type") == type(c).__name__:
                c.load_state_dict(saved[i].get("state") or {})
                mine = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.split("/", 1)[0] == str(i)}
                if mine:
                    c.load_state_arrays(mine)
        if file is not None and arrays:
            self._state_files[ckpt_path] = (file, tuple(c.arrays_version for c in self.callbacks))

    # -- Ctrl-C --------------------------------------------------------------------------------
    def _on_sigint(self, signum, frame) -> None:
        if self._interrupted:  # a second Ctrl-C: stop now
            raise KeyboardInterrupt
        self.interrupt()
        self.message("Interrupted: finishing the current batch (press Ctrl-C again to stop at once)")

    def interrupt(self) -> None:
        """Stop as Ctrl-C does: finish the current batch, write the checkpoints, return the history.

        Safe to call from another thread (a web page's stop button) or from a callback; the
        history then has ``interrupted = True``.
        """
        self._interrupted = True

    def message(self, text: str) -> None:
        """A line for the user (not in silent mode)."""
        self.progress.write(text)

    # -- the loop --------------------------------------------------------------------------------
    def run(self, resume_from: str | os.PathLike | None = None) -> History:
        """Train epoch by epoch (from a checkpoint when ``resume_from`` is given); returns the History."""
        model = self.model
        model.stop_training = False
        self._saved_callbacks: tuple[dict, str] = ({}, "")
        self.history.params = {"epochs": self.epochs, "batch_size": self.batch_size,
                               "steps": self.n_batches, "samples": self.n}
        for c in self.callbacks:
            c.set_model(model)
            c.loop = self
        if resume_from is not None:
            self.restore(resume_from)  # weights, optimizer, position: callbacks may look at it
        for c in self.callbacks:
            c.on_train_begin()
        if resume_from is not None:
            self._restore_callbacks()
        if self._epoch_rng_state is None:
            self._epoch_rng_state = self.rng.bit_generator.state

        handler_installed = False
        old_handler = None
        if threading.current_thread() is threading.main_thread():
            old_handler = signal.signal(signal.SIGINT, self._on_sigint)
            handler_installed = True
        try:
            if not model.stop_training:
                self._epochs()
        finally:
            if handler_installed:
                signal.signal(signal.SIGINT, old_handler)
            self.progress.close()
        if self._interrupted:
            self.history.interrupted = True
            for c in self.callbacks:
                if isinstance(c, ModelCheckpoint):
                    c.last_path = self.save_checkpoint(c.filepath())
            if self.history.checkpoint_path:
                self.message(f"Checkpoint written to {self.history.checkpoint_path}; continue with "
                             f"fit(..., resume_from={self.history.checkpoint_path!r})")
        self.history.stopped_early = bool(model.stop_training) and not self._interrupted
        for c in self.callbacks:
            c.on_train_end({"interrupted": self._interrupted})
        return self.history

    def _epochs(self) -> None:
        model, loss, opt = self.model, self.loss, self.optimizer
        X, y, bs, n = self.X, self.y, self.batch_size, self.n
        params = model.parameters()
        penalty = _has_penalty(model)
        fns = self.metric_fns
        batch_begin = [c for c in self.callbacks if type(c).on_batch_begin is not Callback.on_batch_begin]
        batch_end = [c for c in self.callbacks if type(c).on_batch_end is not Callback.on_batch_end]
        for epoch in range(self.epoch, self.epochs):
            start_batch = self.batch
            # The generator's state now is the epoch's start state (saved in checkpoints).
            self._epoch_rng_state = self.rng.bit_generator.state
            order = self.rng.permutation(n) if self.shuffle else None
            if start_batch == 0:
                self._sums = [0.0, 0.0] + [0.0] * len(fns)
                self._batches_done = 0
            sums = self._sums
            snapshot = [p.data.copy() for p in params]  # the last finite weights, for a rollback
            for c in self.callbacks:
                c.on_epoch_begin(epoch)
            self.progress.epoch_begin(epoch, start_batch)
            for b in range(start_batch, self.n_batches):
                if self._interrupted:
                    break
                lo = b * bs
                if order is None:
                    xb, yb = X[lo:lo + bs], y[lo:lo + bs]
                else:
                    idx = order[lo:lo + bs]
                    xb, yb = X[idx], y[idx]
                for c in batch_begin:
                    c.on_batch_begin(b)
                out = model.forward(xb, training=True)
                value = loss.forward(out, yb)
                if penalty:
                    value += model.penalty()
                if not math.isfinite(value):
                    self._diverged(value, epoch, b, params, snapshot)
                model.zero_grad()
                model.backward(loss.backward(), input_grad=False)  # ∂C/∂X is never needed here
                opt.step()
                m = xb.shape[0]
                sums[0] += value
                sums[1] += m
                if fns:
                    for i, v in enumerate(_metric_values(fns, loss, out, yb)):
                        sums[2 + i] += v * m
                self._batches_done += 1
                self.batch = b + 1
                self.global_step += 1
                for c in batch_end:
                    c.on_batch_end(b, {"loss": value, "size": m})
                self.progress.batch_end(b + 1, self._running)
            if self._interrupted:
                return
            for p in params:
                if not np.isfinite(p.data).all():
                    self._diverged(float("nan"), epoch, self.n_batches - 1, params, snapshot, where=p.name)
            logs = self._running()
            if self.val is not None:
                val = _evaluate_arrays(model, self.val[0], self.val[1], max(bs, 256), fns)
                logs.update({f"val_{k}": v for k, v in val.items()})
            logs["lr"] = opt.lr
            self.epoch, self.batch = epoch + 1, 0
            self._sums = [0.0, 0.0] + [0.0] * len(fns)
            self._batches_done = 0
            self._epoch_rng_state = self.rng.bit_generator.state  # the next epoch starts here
            for c in self.callbacks:
                if not isinstance(c, ModelCheckpoint):
                    c.on_epoch_end(epoch, logs)
            self.history.append(epoch, logs)
            for c in self.callbacks:
                if isinstance(c, ModelCheckpoint):
                    c.on_epoch_end(epoch, logs)
            self.progress.epoch_end(epoch, logs)
            if model.stop_training or self._interrupted:
                return

    def _running(self) -> dict[str, float]:
        """The epoch's figures so far: mean batch loss, sample-weighted metrics."""
        s = self._sums
        logs = {"loss": s[0] / max(self._batches_done, 1)}
        for i, (name, _) in enumerate(self.metric_fns):
            logs[name] = s[2 + i] / max(s[1], 1)
        return logs

    def _diverged(self, value: float, epoch: int, b: int, params: list, snapshot: list[np.ndarray],
                  where: str | None = None) -> None:
        finite = all(np.isfinite(p.data).all() for p in params)
        if not finite:
            for p, w in zip(params, snapshot):
                np.copyto(p.data, w)
        what = f"parameter {where} became NaN or infinite" if where else f"the loss became {value}"
        kept = ("the weights from the start of the epoch are restored" if not finite
                else "the weights before this batch are kept")
        lr = self.optimizer.lr
        raise TrainingDivergedError(
            f"training diverged: {what} at epoch {epoch + 1}, batch {b + 1}; {kept}. "
            f"Try a lower learning rate (lr={lr:g} now, e.g. lr={lr / 10:g}) or gradient clipping "
            f"(e.g. {type(self.optimizer).__name__}(..., clip_norm=1.0)), and check the data's scale",
            epoch + 1, b + 1)


def _json_state(state: Any) -> Any:
    """A bit-generator state as JSON data (PCG64's is plain ints already)."""
    if isinstance(state, dict):
        return {k: _json_state(v) for k, v in state.items()}
    if isinstance(state, np.ndarray):
        return state.tolist()
    if isinstance(state, np.generic):
        return state.item()
    return state


def fit(model: Any, X: Any, y: Any, *, epochs: int = 1, batch_size: int = 32,
        validation_data: tuple[Any, Any] | None = None, validation_split: float = 0.0,
        callbacks: Iterable[Callback] | None = None, shuffle: bool = True, seed: int | None = None,
        verbose: int = 1, resume_from: str | os.PathLike | None = None) -> History:
    """Train ``model`` on (X, y) with minibatch gradient descent; returns a :class:`History`.

    Parameters
    ----------
    X : inputs (n, features) or images (n, c, h, w); ``model.preprocessor`` is applied.
    y : targets: class indices (n,) or one-hot (n, k) for SoftmaxCrossEntropy, values otherwise.
    epochs : passes over the training data (>= 1).
    batch_size : samples per gradient step (>= 1); the last batch of an epoch may be smaller.
    validation_data : (X_val, y_val), evaluated after every epoch (``val_loss``, ``val_<metric>``).
    validation_split : instead, hold out this last fraction of (X, y), as Keras: the split is
        taken before any shuffling, so sort-ordered data should be shuffled first.
    callbacks : :class:`axon.callbacks.Callback` objects (EarlyStopping, ModelCheckpoint, ...).
    shuffle : draw a new permutation of the samples every epoch (indices only; each batch is one gather).
    seed : makes the run bit-identical on the same machine (shuffling and dropout masks).
    verbose : 0 silent, 1 progress bar (closing lines only when output is not a terminal),
        2 one line per epoch.
    resume_from : a checkpoint written by ModelCheckpoint: continue exactly where it stopped
        (same data, batch_size and callbacks; ``epochs`` is the total, not the number left).

    Ctrl-C finishes the current batch, writes a checkpoint where a ModelCheckpoint is given, and
    returns the history with ``history.interrupted = True``. A NaN or infinite loss raises
    :class:`TrainingDivergedError`, keeping the last finite weights.
    """
    V.check_compiled(model, "fit")
    V.check_fit_params(epochs=epochs, batch_size=batch_size, validation_split=validation_split,
                       verbose=verbose, seed=seed)
    if validation_data is not None and validation_split:
        raise ValueError("pass either validation_data or validation_split, not both")
    callbacks = list(callbacks or [])
    for i, c in enumerate(callbacks):
        if not isinstance(c, Callback):
            raise TypeError(f"callbacks[{i}] is a {type(c).__name__}, not an axon.callbacks.Callback; "
                            f"subclass ax.callbacks.Callback")
    X, y = V.check_xy(model, X, y, y_required=True)
    val = None
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError("validation_data must be a pair (X_val, y_val)")
        Xv, yv = V.check_xy(model, validation_data[0], validation_data[1], x_name="validation_data[0]",
                            y_name="validation_data[1]", y_required=True)
        val = (_transform(model, Xv), yv)
    X = _transform(model, X)
    if validation_split:
        n_val = int(round(X.shape[0] * validation_split))
        if n_val < 1 or n_val >= X.shape[0]:
            raise ValueError(f"validation_split={validation_split} of {X.shape[0]} samples leaves "
                             f"{n_val} for validation and {X.shape[0] - n_val} for training; both need "
                             f"at least one: choose another fraction")
        cut = X.shape[0] - n_val
        X, y, val = X[:cut], y[:cut], (X[cut:], y[cut:])  # views: no copy
    loop = FitLoop(model, X, y, val, epochs=epochs, batch_size=batch_size, shuffle=bool(shuffle), seed=seed,
                   callbacks=callbacks, verbose=verbose)
    return loop.run(resume_from)


__all__ = ["FitLoop", "History", "TrainingDivergedError", "compile", "evaluate", "fit", "predict"]
