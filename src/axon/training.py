"""The Keras-style training loop over transparent backpropagation: compile, fit, evaluate, predict.

``fit`` runs, for every minibatch, exactly the explicit loop of the course::

    out = model.forward(xb, training=True)
    value = loss.forward(out, yb) + model.penalty()      # penalty only when a layer has l1/l2
    model.zero_grad(); model.backward(loss.backward()); optimizer.step()

(``model.forward`` is ``model.forward_prepared(model.prepare(xb))``; fit prepares ``X`` and the
validation inputs once, before the first epoch, and runs ``forward_prepared`` on their batches)
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
the shuffling and one for each random layer (``layer.stochastic``: Dropout), so the same seed
gives bit-identical weights and history on the same machine from the same initial weights.
``s`` is an int (not a numpy Generator, unlike the ``seed`` of sampling functions, see
:mod:`axon._config`: a generator's state moves on as it is used, an int stays the same run).
``seed=None`` draws the shuffling seed from axon's generator (:func:`axon.set_seed`) and leaves
the layers' generators alone. The initial weights are drawn when the layers are built: the
recipe for a whole reproducible script is ``ax.set_seed(s)`` before building the model (see
:mod:`axon._config`).
"""

from __future__ import annotations

import math
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from axon import backend
from axon import validation as V
from axon._config import get_rng
from axon.callbacks import Callback
from axon.io.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from axon.io.model_file import ModelFileError
from axon.layers.activations import Sigmoid, Softmax
from axon.layers.base import Layer
from axon.losses import Loss, SoftmaxCrossEntropy, get_loss
from axon.metrics import get_metric
from axon.progress import Progress

if TYPE_CHECKING:
    from axon.model import Sequential
    from axon.optim.base import Optimizer
    from axon.parameter import Parameter


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
    interrupted : True when training stopped on Ctrl-C (SIGINT) or ``FitLoop.interrupt()``.
    checkpoint_path : where the last checkpoint was written (None if none was).
    elapsed : seconds spent training, over every resumed part of the run.
    stopped_early : True when a callback (EarlyStopping) stopped training.
    params : fit's arguments: epochs, batch_size, steps (batches per epoch), samples.
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.interrupted = False
        self.checkpoint_path: str | None = None
        self.elapsed = 0.0
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
def compile(model: Sequential, loss: str | Loss | type, optimizer: str | Optimizer | type | None = None,
            metrics: Sequence[str | Callable] | str | Callable | None = None) -> None:
    """The implementation of :meth:`axon.Sequential.compile` (same arguments)."""
    from axon.optim import SGD, get_optimizer

    if isinstance(loss, type) and issubclass(loss, Loss):
        loss = loss()
    if not isinstance(loss, (Loss, str)):
        raise TypeError(f"loss must be a loss object or name such as 'cross_entropy', got {type(loss).__name__}")
    loss = get_loss(loss)
    _check_link(model, loss)
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
    specs: list[str | Callable] = []
    for m in metrics:
        name, fn = get_metric(m)  # raises on an unknown name now, not at fit time
        specs.append(name if isinstance(m, str) else fn)
    model.loss = loss
    model.optimizer = opt
    model.metrics = specs


def _check_link(model: Sequential, loss: Loss) -> None:
    """A loss that applies its own link (softmax, sigmoid) must not follow a layer that applied it already."""
    last = model.layers[-1] if model.layers else None
    kind = type(loss).__name__
    if isinstance(last, Softmax) and isinstance(loss, SoftmaxCrossEntropy):
        raise ValueError("the model ends with a Softmax layer, but SoftmaxCrossEntropy (Keras' "
                         "categorical_crossentropy) takes logits and applies the softmax itself; remove the "
                         "last Softmax layer (predict still gives probabilities)")
    if isinstance(last, Sigmoid) and getattr(loss, "from_logits", False):
        raise ValueError(f"the model ends with a Sigmoid layer, but {kind}(from_logits=True) applies the sigmoid "
                         f"itself; remove the last Sigmoid layer, or pass {kind}(from_logits=False)")


def _metric_fns(model: Sequential) -> list[tuple[str, Callable]]:
    return [get_metric(m) for m in (model.metrics or [])]


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


def _has_penalty(model: Sequential) -> bool:
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


# -- evaluate / predict ---------------------------------------------------------------------------
def _evaluate_arrays(model: Sequential, X: np.ndarray, y: np.ndarray, batch_size: int,
                     fns: list[tuple[str, Callable]], prepared: bool = False) -> dict[str, float]:
    """The loss (with penalties) and the metrics over ``X`` in inference mode, batch by batch;
    ``prepared``: ``X`` is what ``model.prepare`` gave (fit's validation data), else raw."""
    loss = model.loss
    assert loss is not None
    n = X.shape[0]
    total = 0.0
    sums = [0.0] * len(fns)
    device = model.device
    for start in range(0, n, batch_size):
        xb, yb = X[start:start + batch_size], y[start:start + batch_size]
        out = model.forward_prepared(xb, training=False) if prepared else model.forward(xb, training=False)
        yb = backend.to_device(yb, device)  # nothing to do on the CPU, or when y is on the device
        m = xb.shape[0]
        total += loss.forward(out, yb) * m
        for i, v in enumerate(_metric_values(fns, loss, out, yb)):
            sums[i] += v * m
    result = {"loss": total / n + model.penalty()}
    for (name, _), s in zip(fns, sums):
        result[name] = s / n
    return result


def evaluate(model: Sequential, X: Any, y: Any, batch_size: int = 256, verbose: int = 0) -> dict[str, float]:
    """The implementation of :meth:`axon.Sequential.evaluate` (same arguments)."""
    V.check_compiled(model, "evaluate")
    batch_size = V.check_int(batch_size, "batch_size", example=256)
    verbose = V.check_int(verbose, "verbose (0 silent, 1 one line)", minimum=0, maximum=2)
    X, y = V.check_xy(model, X, y, y_required=True)
    assert y is not None
    result = _evaluate_arrays(model, X, y, batch_size, _metric_fns(model))
    if verbose:
        from axon.progress import format_logs
        print(format_logs(result))
    return result


def predict(model: Sequential, X: Any, batch_size: int = 256, verbose: int = 0) -> np.ndarray:
    """The implementation of :meth:`axon.Sequential.predict` (same arguments)."""
    batch_size = V.check_int(batch_size, "batch_size", example=256)
    V.check_int(verbose, "verbose", minimum=0, maximum=2)
    X = V.check_X(model, X)
    loss = model.loss
    n = X.shape[0]
    result = None
    for start in range(0, n, batch_size):
        out = model.forward(X[start:start + batch_size], training=False)
        if loss is not None:
            out = loss.link(out)
        if result is None:
            result = np.empty((n, *out.shape[1:]), dtype=out.dtype)
        result[start:start + out.shape[0]] = backend.to_host(out)  # NumPy, wherever the model runs
    assert result is not None
    return result


# -- fit ------------------------------------------------------------------------------------------
class FitLoop:
    """The state of one running ``fit``: where training is, and how to checkpoint it.

    Made by :func:`fit`, after its checks (a compiled model, the arguments, the data).
    Callbacks see it as ``self.loop``. Attributes: ``epoch`` (epochs completed), ``batch``
    (batches completed in the current epoch), ``n_batches`` (per epoch), ``global_step``
    (optimizer steps in this training run, resumed ones included), ``initial_epoch`` (where this
    call started), ``elapsed`` (seconds spent training, resumed parts included),
    ``has_validation``, ``history``.

    Resume has one owner: :meth:`state_dict` gives the loop's state as plain data (JSON values
    and NumPy arrays: position, generators, running sums, history, every callback's
    ``state_dict()``), :meth:`load_state_dict` takes it back, and :mod:`axon.io.checkpoint` alone
    turns it, with the model and the optimizer state, into one file and back.
    """

    def __init__(self, model: Sequential, X: np.ndarray, y: np.ndarray,
                 val: tuple[np.ndarray, np.ndarray] | None, *, epochs: int, batch_size: int,
                 shuffle: bool, seed: int | None, callbacks: list[Callback], verbose: int,
                 prepared: bool = False) -> None:
        assert model.loss is not None and model.optimizer is not None  # compiled: fit checks it first
        self.model, self.X, self.y, self.val = model, X, y, val
        #: Whether ``X`` and the validation inputs are what ``model.prepare`` gave (fit prepares
        #: them once); when False, each batch goes through ``model.prepare`` as it is drawn.
        self.prepared = prepared
        self.loss: Loss = model.loss
        self.optimizer: Optimizer = model.optimizer
        self.metric_fns = _metric_fns(model)
        self.epochs, self.batch_size, self.shuffle, self.seed = epochs, batch_size, shuffle, seed
        self.n = X.shape[0]
        self.n_batches = -(-self.n // batch_size)
        # Callbacks that save the training state (checkpoint writers) run after the others, so
        # what they save holds the others' new state (see Callback.runs_last).
        self.callbacks = ([c for c in callbacks if not c.runs_last] + [c for c in callbacks if c.runs_last])
        self.verbose = verbose
        self.has_validation = val is not None
        self.history = History()
        self.epoch = 0
        self.batch = 0
        self.initial_epoch = 0
        self.global_step = 0
        self.elapsed = 0.0
        self._sums: list[float] = [0.0, 0.0] + [0.0] * len(self.metric_fns)  # loss, samples, metrics
        self._batches_done = 0
        self._epoch_rng_state: dict[str, Any] | None = None
        self._interrupted = False
        self.progress = Progress(verbose, epochs, self.n_batches)
        self._seed_generators(seed)

    # -- random generators --------------------------------------------------------------------
    def _seed_generators(self, seed: int | None) -> None:
        random_layers = self.model.random_layers()
        # The generators fit(seed=) or a resume gives the layers are for this run: run() gives back
        # what they had (a Dropout that followed axon's generator follows it again: set_seed reaches it).
        self._layer_rngs_before = [(layer, getattr(layer, "own_rng", layer.rng)) for layer in random_layers]
        if seed is None:
            self.rng = np.random.default_rng(get_rng().integers(2**63))
            return
        children = np.random.SeedSequence(seed).spawn(1 + len(random_layers))
        self.rng = np.random.default_rng(children[0])
        for layer, child in zip(random_layers, children[1:]):
            layer.rng = np.random.default_rng(child)

    # -- the state, as plain data ---------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Where training is, as plain data (JSON values and NumPy arrays).

        Keys: ``epoch``, ``batch``, ``global_step``, ``elapsed``, ``rng_state`` (the shuffling
        generator at the start of the current epoch: its permutation is redrawn on resume),
        ``history``, ``history_epochs``, ``partial`` (the running sums of an unfinished epoch),
        ``layer_rngs`` (each random layer's generator state, by layer name), ``callbacks`` (one
        ``{"type", "state"}`` per callback), ``stop_training``, ``shuffle``, ``batch_size``.
        """
        return {
            "epoch": self.epoch,
            "batch": self.batch,
            "global_step": self.global_step,
            "elapsed": self.elapsed,
            "rng_state": self._epoch_rng_state,
            "history": {k: list(v) for k, v in self.history.history.items()},
            "history_epochs": list(self.history.epoch),
            "partial": {"loss_sum": self._sums[0], "samples": self._sums[1], "metric_sums": self._sums[2:],
                        "batches": self._batches_done},
            "layer_rngs": {layer.name: layer.rng.bit_generator.state for layer in self.model.random_layers()},
            "callbacks": [{"type": type(c).__name__, "state": c.state_dict()} for c in self.callbacks],
            "stop_training": bool(self.model.stop_training),
            "shuffle": self.shuffle,
            "batch_size": self.batch_size,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Take back what :meth:`state_dict` gave (after the callbacks' ``on_train_begin``).

        Checks that the state fits this fit (same batch size, position within the epoch,
        generator states for the random layers) before changing anything but the callbacks,
        whose ``load_state_dict`` checks its own. A callback gets the state saved by the callback
        of the same type and rank among those of its type (the second EarlyStopping the second's).
        Raises ValueError (or TypeError, KeyError) naming what does not fit.
        """
        _check_plain_state(state)
        if state["batch_size"] != self.batch_size or not 0 <= state["batch"] <= self.n_batches:
            raise ValueError(f"it was written with batch_size={state['batch_size']} at batch {state['batch']}; "
                             f"resume with the same batch_size and data to continue exactly")
        random_layers = self.model.random_layers()
        if set(state["layer_rngs"]) != {layer.name for layer in random_layers}:
            raise ValueError(f"it holds generator states for layers {sorted(state['layer_rngs'])}, but this "
                             f"model's random layers are {[layer.name for layer in random_layers]}")
        saved = _by_type_and_rank([(s["type"], s["state"]) for s in state["callbacks"]])
        partial = state["partial"]
        sums = [float(partial["loss_sum"]), float(partial["samples"]), *map(float, partial["metric_sums"])]
        if len(sums) != 2 + len(self.metric_fns):
            raise ValueError(f"it has running sums for {len(sums) - 2} metrics, this fit has {len(self.metric_fns)}")
        rngs = {}
        for layer in random_layers:
            rngs[layer.name] = g = np.random.default_rng(0)
            g.bit_generator.state = state["layer_rngs"][layer.name]
        if state["rng_state"] is not None:
            np.random.default_rng(0).bit_generator.state = state["rng_state"]  # check before use
        for key, c in _by_type_and_rank([(type(c).__name__, c) for c in self.callbacks]).items():
            if key in saved:  # a callback new to this run starts afresh; states of absent ones are dropped
                c.load_state_dict(saved[key])
        self.epoch, self.batch, self.initial_epoch = int(state["epoch"]), int(state["batch"]), int(state["epoch"])
        self.global_step = int(state["global_step"])
        self.elapsed = float(state["elapsed"])
        self._epoch_rng_state = state["rng_state"]
        if state["rng_state"] is not None:
            self.rng.bit_generator.state = state["rng_state"]
        for layer in random_layers:
            layer.rng = rngs[layer.name]
        self.history.history = {k: list(v) for k, v in state["history"].items()}
        self.history.epoch = [int(e) for e in state["history_epochs"]]
        if self.batch > 0:
            self._sums, self._batches_done = sums, int(partial["batches"])
        self.model.stop_training = bool(state["stop_training"])

    # -- checkpoints -----------------------------------------------------------------------------
    def save_checkpoint(self, path: str | os.PathLike) -> str:
        """Write a checkpoint of the current position (see :class:`axon.callbacks.ModelCheckpoint`).

        One file, atomically: the model, the optimizer state and :meth:`state_dict`, whose
        ``epoch``, ``batch`` and ``history`` go in the checkpoint's own fields (what
        :func:`axon.load_checkpoint` returns as ``.epoch``, ``.batch``, ``.history``) and the
        rest in its ``extra``: each once.
        """
        path = str(path)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        state = self.state_dict()
        fields = {key: state.pop(key) for key in _CHECKPOINT_FIELDS}
        save_checkpoint(path, self.model, self.optimizer, **fields, extra=state)
        self.history.checkpoint_path = path
        return path

    def _resume(self, path: str | os.PathLike, ck: Checkpoint) -> None:
        """Weights, buffers, optimizer and loop state from ``ck``, all or nothing.

        Anything in the checkpoint that does not fit this fit (a tampered array, a different
        callback) raises :class:`axon.io.ModelFileError` with the model and the optimizer as
        they were before the call.
        """
        model = self.model
        backup = (model.state_dict(), self.optimizer.state_dict())
        try:
            if "batch_size" not in ck.extra:
                raise ValueError("it has no training state (it was not written by fit)")
            model.load_state_dict(ck.model.state_dict())
            if ck.optimizer_state is not None:
                self.optimizer.load_state_dict(ck.optimizer_state)
            # epoch, batch and history from the checkpoint's fields (files of older axons hold them
            # in extra too, with the same values)
            fields = {"epoch": ck.epoch, "batch": ck.batch, "history": ck.history}
            self.load_state_dict({**fields, **ck.extra})
        except (ValueError, TypeError, KeyError, OverflowError) as e:
            model.load_state_dict(backup[0])
            self.optimizer.load_state_dict(backup[1])
            raise ModelFileError(f"resume_from={str(path)!r}: the checkpoint does not fit this fit: {e}") from None
        self.history.checkpoint_path = str(path)

    def _open_checkpoint(self, path: str | os.PathLike) -> Checkpoint:
        ck = load_checkpoint(path)
        src, dst = ck.model.parameters(), self.model.parameters()
        if len(src) != len(dst) or any(a.data.shape != b.data.shape for a, b in zip(src, dst)):
            raise ValueError(f"resume_from={str(path)!r}: the checkpoint's model does not match this model "
                             f"(parameters {[a.data.shape for a in src]} vs {[b.data.shape for b in dst]}); "
                             f"resume with the model that wrote it")
        return ck

    # -- stopping --------------------------------------------------------------------------------
    def _on_sigint(self, signum: int, frame: Any) -> None:
        if self._interrupted:  # a second Ctrl-C: stop now
            raise KeyboardInterrupt
        self.interrupt()
        self.message("Interrupted: finishing the current batch (press Ctrl-C again to stop at once)")

    @property
    def interrupted(self) -> bool:
        """Whether :meth:`interrupt` (or Ctrl-C) asked training to stop."""
        return self._interrupted

    def interrupt(self) -> None:
        """Stop as Ctrl-C does: finish the current batch, call the callbacks' ``on_interrupt``
        (checkpoint writers write), return the history with ``interrupted = True``.

        Safe to call from another thread (a web page's stop button) or from a callback.
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
        self.history.params = {"epochs": self.epochs, "batch_size": self.batch_size,
                               "steps": self.n_batches, "samples": self.n}
        for c in self.callbacks:
            c.set_model(model)
            c.loop = self
        ck = self._open_checkpoint(resume_from) if resume_from is not None else None
        if ck is not None:
            self.initial_epoch = ck.epoch  # callbacks may look at it in on_train_begin
        for c in self.callbacks:
            c.on_train_begin()
        if ck is not None and resume_from is not None:
            self._resume(resume_from, ck)
        if self._epoch_rng_state is None:
            self._epoch_rng_state = dict(self.rng.bit_generator.state)

        handler_installed = False
        old_handler = None
        if threading.current_thread() is threading.main_thread():
            old_handler = signal.signal(signal.SIGINT, self._on_sigint)
            handler_installed = True
        started = time.perf_counter()
        try:
            try:
                if not model.stop_training:
                    self._epochs(started)
            finally:
                if handler_installed:
                    signal.signal(signal.SIGINT, old_handler)
                self.progress.close()
            self.history.elapsed = self.elapsed
            if self._interrupted:
                self.history.interrupted = True
                for c in self.callbacks:
                    c.on_interrupt()  # (a checkpoint written here holds the run's generators)
                if self.history.checkpoint_path:
                    self.message(f"Checkpoint written to {self.history.checkpoint_path}; continue with "
                                 f"fit(..., resume_from={self.history.checkpoint_path!r})")
            self.history.stopped_early = bool(model.stop_training) and not self._interrupted
            for c in self.callbacks:
                c.on_train_end({"interrupted": self._interrupted})
        finally:
            for layer, rng in self._layer_rngs_before:
                layer.rng = rng
        return self.history

    def _epochs(self, started: float) -> None:
        model, loss, opt = self.model, self.loss, self.optimizer
        X, y, bs, n = self.X, self.y, self.batch_size, self.n
        params = model.parameters()
        penalty = _has_penalty(model)
        fns = self.metric_fns
        batch_begin = [c for c in self.callbacks if type(c).on_batch_begin is not Callback.on_batch_begin]
        batch_end = [c for c in self.callbacks if type(c).on_batch_end is not Callback.on_batch_end]
        elapsed_before = self.elapsed
        prepared = self.prepared
        y_over = model.device == backend.CUDA and not backend.on_gpu(y)  # targets left on the host
        for epoch in range(self.epoch, self.epochs):
            start_batch = self.batch
            # The generator's state now is the epoch's start state (saved in checkpoints).
            self._epoch_rng_state = dict(self.rng.bit_generator.state)
            order = self.rng.permutation(n) if self.shuffle else None
            if order is not None and backend.on_gpu(X):  # gathered where the data is
                order = backend.to_device(order, backend.CUDA)
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
                if not prepared:  # raw data (too large for the device): each batch prepared as drawn
                    xb = model.prepare(xb)
                if y_over:
                    yb = backend.to_device(yb, backend.CUDA)
                for c in batch_begin:
                    c.on_batch_begin(b)
                out = model.forward_prepared(xb, training=True)
                value = loss.forward(out, yb)
                if penalty:
                    value += model.penalty()
                if not math.isfinite(value):
                    self._diverged(value, epoch, b, params, snapshot)
                model.zero_grad()
                model.backward(loss.backward())  # parameter gradients only: ∂C/∂X is never needed
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
                self.elapsed = elapsed_before + time.perf_counter() - started
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
                val = _evaluate_arrays(model, self.val[0], self.val[1], max(bs, 256), fns, prepared)
                logs.update({f"val_{k}": v for k, v in val.items()})
            logs["lr"] = opt.lr
            self.epoch, self.batch = epoch + 1, 0
            self._sums = [0.0, 0.0] + [0.0] * len(fns)
            self._batches_done = 0
            self._epoch_rng_state = dict(self.rng.bit_generator.state)  # the next epoch starts here
            self.elapsed = elapsed_before + time.perf_counter() - started
            for c in self.callbacks:
                if not c.runs_last:
                    c.on_epoch_end(epoch, logs)
            self.history.append(epoch, logs)
            for c in self.callbacks:
                if c.runs_last:
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

    def _diverged(self, value: float, epoch: int, b: int, params: list[Parameter], snapshot: list[np.ndarray],
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


#: The keys of :meth:`FitLoop.state_dict` that a checkpoint keeps in its own fields, not in ``extra``.
_CHECKPOINT_FIELDS = ("epoch", "batch", "history")


def _check_plain_state(state: Any) -> None:
    """The types of :meth:`FitLoop.state_dict`'s entries (it may come from a crafted file)."""
    def numbers(values: Any) -> bool:
        return isinstance(values, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                for v in values)

    if not isinstance(state, dict):
        raise ValueError("the training state must be a dict")
    for key in ("epoch", "batch", "global_step", "batch_size"):
        V.check_int(state[key], key, minimum=0)
    if not isinstance(state["elapsed"], (int, float)) or isinstance(state["elapsed"], bool):
        raise ValueError(f"elapsed must be a number of seconds, got {state['elapsed']!r}")
    history = state["history"]
    if not isinstance(history, dict) or not all(numbers(v) for v in history.values()):
        raise ValueError("history must map names to lists of numbers")
    if not isinstance(state["history_epochs"], list) or not all(V.is_int(e) for e in state["history_epochs"]):
        raise ValueError("history_epochs must be a list of integers")
    partial = state["partial"]
    if not isinstance(partial, dict) or not numbers(partial["metric_sums"]) or not numbers(
            [partial["loss_sum"], partial["samples"]]):
        raise ValueError("the running sums must be numbers")
    V.check_int(partial["batches"], "partial batches", minimum=0)
    if not isinstance(state["layer_rngs"], dict) or not isinstance(state["callbacks"], list) or not all(
            isinstance(c, dict) and isinstance(c["type"], str) and isinstance(c["state"], dict)
            for c in state["callbacks"]):
        raise ValueError("layer_rngs must be a dict and callbacks a list of {type, state}")


def _by_type_and_rank(items: list[tuple[str, Any]]) -> dict[tuple[str, int], Any]:
    """``{(type name, rank among that type), value}`` for a list of ``(type name, value)``."""
    out: dict[tuple[str, int], Any] = {}
    for name, value in items:
        rank = sum(1 for t, _ in out if t == name)
        out[(name, rank)] = value
    return out


def _prepare_data(model: Sequential, X: np.ndarray, y: np.ndarray, val: tuple[np.ndarray, np.ndarray] | None
                  ) -> tuple[Any, Any, tuple[Any, Any] | None, bool]:
    """The training and validation inputs through :meth:`Sequential.prepare` once per fit (the
    preprocessor, the model's dtype, its device; no copy where ``prepare`` returns ``X`` itself),
    the targets on the model's device. Returns ``X, y, val, prepared``.

    On the GPU only when the prepared arrays and the targets take at most half of its free memory
    (MNIST's 60,000 images in float32 are 188 MB), counting a raw input on its way over; otherwise
    everything stays raw on the host, ``prepared`` is False, and each batch goes over as it is drawn.
    """
    if model.device == backend.CUDA:
        inputs = [X] + ([val[0]] if val is not None else [])
        targets = [y] + ([val[1]] if val is not None else [])
        itemsize = model.prepare(X[:1]).dtype.itemsize  # the dtype prepare gives (token ids stay integers)
        needed = sum(a.size * itemsize for a in inputs) + sum(a.nbytes for a in targets)
        needed += max((a.nbytes for a in inputs if not backend.on_gpu(a)), default=0)
        if needed > backend.free_memory() // 2:
            return X, y, val, False
        y = backend.to_device(y, backend.CUDA)
        if val is not None:
            val = (val[0], backend.to_device(val[1], backend.CUDA))
    X = model.prepare(X)
    if val is not None:
        val = (model.prepare(val[0]), val[1])
    return X, y, val, True


def fit(model: Sequential, X: Any, y: Any, *, epochs: int = 1, batch_size: int = 32,
        validation_data: tuple[Any, Any] | None = None, validation_split: float = 0.0,
        callbacks: Iterable[Callback] | None = None, shuffle: bool = True, seed: int | None = None,
        verbose: int = 1, resume_from: str | os.PathLike | None = None, device: str | None = None) -> History:
    """The implementation of :meth:`axon.Sequential.fit` (same arguments): checks them, moves the
    model to ``device``, prepares the data once (:meth:`Sequential.prepare`: the preprocessor, the
    dtype, the device), then runs a :class:`FitLoop` on it."""
    if device is not None:
        device = backend.check_device(device)  # before anything else: a missing GPU is said first
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
    assert y is not None
    val = None
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError("validation_data must be a pair (X_val, y_val)")
        Xv, yv = V.check_xy(model, validation_data[0], validation_data[1], x_name="validation_data[0]",
                            y_name="validation_data[1]", y_required=True)
        assert yv is not None
        val = (Xv, yv)
    if validation_split:
        n_val = int(round(X.shape[0] * validation_split))
        if n_val < 1 or n_val >= X.shape[0]:
            raise ValueError(f"validation_split={validation_split} of {X.shape[0]} samples leaves "
                             f"{n_val} for validation and {X.shape[0] - n_val} for training; both need "
                             f"at least one: choose another fraction")
        cut = X.shape[0] - n_val
        X, y, val = X[:cut], y[:cut], (X[cut:], y[cut:])  # views: no copy
    if device is not None:
        model.to(device)
    X, y, val, prepared = _prepare_data(model, X, y, val)
    loop = FitLoop(model, X, y, val, epochs=epochs, batch_size=batch_size, shuffle=bool(shuffle), seed=seed,
                   callbacks=callbacks, verbose=verbose, prepared=prepared)
    return loop.run(resume_from)


__all__ = ["FitLoop", "History", "TrainingDivergedError", "compile", "evaluate", "fit", "predict"]
