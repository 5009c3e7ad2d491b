"""Callbacks: code that runs at fixed points of ``fit``, as in Keras.

Subclass :class:`Callback` and override any hook::

    class PrintLR(ax.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            print(epoch, self.model.optimizer.lr)

Order within one epoch of ``fit``:

1. ``on_epoch_begin(epoch)`` (epochs count from 0)
2. for each batch: ``on_batch_begin(batch)``, forward, loss, backward, optimizer step,
   ``on_batch_end(batch, logs)``. In ``on_batch_end`` the parameters' ``.grad`` still hold this
   batch's gradients (after clipping, if the optimizer clips): a place to measure them
   (``GradientStats`` does). ``logs`` = ``{"loss": batch loss with penalties, "size": batch size}``.
3. ``on_epoch_end(epoch, logs)``: ``logs`` holds the epoch's figures (``loss``, metrics,
   ``val_loss``, ``val_<metric>``, ``lr``: the rate used during the epoch). Keys a callback adds
   to ``logs`` go into the history. Checkpoint writers run after every other callback, so the
   checkpoint holds the other callbacks' updated state and this epoch's history.

Set ``self.model.stop_training = True`` to stop after the current epoch. Callbacks whose state
matters for an exact resume implement :meth:`Callback.state_dict` / :meth:`Callback.load_state_dict`
(plain data: JSON values and NumPy arrays, saved inside the checkpoint). A callback that saves the
training state sets ``runs_last = True`` (its hooks run after the others', and its
``on_epoch_end`` sees the epoch already in the history), and :meth:`Callback.on_interrupt` runs
when training stops on Ctrl-C (as Keras' BackupAndRestore).
"""

from __future__ import annotations

import csv
import math
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from axon import backend
from axon.validation import check_int

if TYPE_CHECKING:
    from axon.model import Sequential
    from axon.optim.base import Optimizer
    from axon.training import FitLoop


class Callback:
    """Base class of fit's callbacks; every hook does nothing by default.

    Attributes set by ``fit`` before ``on_train_begin``: ``model`` (the Sequential being
    trained) and ``loop`` (the running fit, see :class:`axon.training.FitLoop`: ``epoch``,
    ``batch``, ``has_validation``, ``save_checkpoint(path)``...).
    """

    model: Sequential = None  # type: ignore[assignment]  # set by fit before any hook runs
    loop: FitLoop = None  # type: ignore[assignment]
    #: Run after every other callback at each hook, and at epoch end after the epoch is in the
    #: history: for callbacks that record or save the training state (CSVLogger, ModelCheckpoint),
    #: so what they write holds every other callback's additions and new state.
    runs_last: ClassVar[bool] = False

    def set_model(self, model: Sequential) -> None:
        """Remember the model being trained."""
        self.model = model

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Before the first epoch (also when resuming, before the saved state is restored)."""

    def on_train_end(self, logs: dict | None = None) -> None:
        """After the last epoch (also after early stopping or Ctrl-C; not after an error)."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        """Before the first batch of ``epoch`` (0-based)."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """After validation; ``logs`` holds the epoch's figures, and keys added go into the history."""

    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Before the forward pass of batch ``batch`` (0-based within the epoch)."""

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """After the optimizer step; the parameters' ``.grad`` still hold this batch's gradients."""

    def on_interrupt(self) -> None:
        """When training stops on Ctrl-C (or ``loop.interrupt()``), after the current batch and
        before ``on_train_end``."""

    # -- state for an exact resume --------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """State to store in a checkpoint: plain data, JSON values and NumPy arrays (default: none)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (called after ``on_train_begin`` on resume).

        The state comes from a file: check it before keeping any of it, and raise ValueError
        when it does not fit (the resume then fails with the model unchanged).
        """

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def higher_is_better(monitor: str) -> bool:
    """Whether a history key improves upward: accuracies (``accuracy``, ``top_5_accuracy``), R² and F1
    (also with ``val_``); losses and errors (``loss``, ``mse``, anything else) improve downward.

    The one rule for ``mode="auto"`` of the callbacks here and for the best epoch of a report.
    """
    name = monitor[4:] if monitor.startswith("val_") else monitor
    return "acc" in name or name.startswith("top_") or name.endswith(("r2", "f1"))


def _mode(monitor: str, mode: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    return "max" if higher_is_better(monitor) else "min"


def _optimizer(callback: Callback) -> Optimizer:
    """The optimizer of the model being trained (fit compiles with one)."""
    opt = callback.model.optimizer
    if opt is None:
        raise ValueError(f"{type(callback).__name__} changes the learning rate: compile the model with an optimizer")
    return opt


class _Monitor(Callback):
    """Shared logic: follow one figure of the logs and tell whether it improved."""

    def __init__(self, monitor: str, min_delta: float, mode: str) -> None:
        if not isinstance(monitor, str) or not monitor:
            raise ValueError(f"monitor must be the name of a logged figure such as 'val_loss', got {monitor!r}")
        if not np.isfinite(min_delta) or min_delta < 0:
            raise ValueError(f"min_delta must be a number >= 0, got {min_delta!r}")
        self.monitor_requested = monitor
        self.monitor = monitor
        self.min_delta = float(min_delta)
        self.mode_requested = mode
        self.mode = _mode(monitor, mode)
        self.best: float | None = None

    def _resolve_monitor(self) -> None:
        """Fall back from ``val_x`` to ``x`` (with a warning) when fit has no validation data."""
        self.monitor = self.monitor_requested
        has_val = getattr(self.loop, "has_validation", True)
        if self.monitor.startswith("val_") and not has_val:
            fallback = self.monitor[4:]
            warnings.warn(f"{type(self).__name__}: monitor={self.monitor!r} needs validation data, which "
                          f"this fit has none of; monitoring {fallback!r} instead (pass validation_data or "
                          f"validation_split to monitor {self.monitor!r})", UserWarning, stacklevel=3)
            self.monitor = fallback
        self.mode = _mode(self.monitor, self.mode_requested)

    def _current(self, logs: dict | None) -> float | None:
        if not logs or self.monitor not in logs:
            available = ", ".join(sorted(logs or {}))
            warnings.warn(f"{type(self).__name__}: {self.monitor!r} is not in the logs (have: {available}); "
                          f"skipping this epoch", UserWarning, stacklevel=3)
            return None
        return float(logs[self.monitor])

    def _improved(self, current: float) -> bool:
        if math.isnan(current):
            return False
        if self.best is None:
            return True
        if self.mode == "min":
            return current < self.best - self.min_delta
        return current > self.best + self.min_delta


class EarlyStopping(_Monitor):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs.

    An epoch improves when the figure beats the best so far by more than ``min_delta`` (lower
    for losses and errors, higher for accuracies: ``mode="auto"``). After ``patience`` epochs
    without improvement training stops; with ``restore_best`` the model gets back the weights
    of the best epoch when training ends (however it ends: stopped early, all epochs run, or
    Ctrl-C). Without validation data, ``monitor="val_loss"`` falls back to ``"loss"`` with a
    warning.

    Attributes after fit: ``best`` (the best value), ``best_epoch`` (0-based),
    ``stopped_epoch`` (the epoch after which training stopped, or None).
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0,
                 restore_best: bool = True, mode: str = "auto") -> None:
        super().__init__(monitor, min_delta, mode)
        self.patience = check_int(patience, "patience (epochs without improvement)", minimum=0)
        self.restore_best = bool(restore_best)
        self.wait = 0
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self.best_weights: list[np.ndarray] | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._resolve_monitor()
        self.best, self.wait, self.best_epoch, self.stopped_epoch = None, 0, None, None
        self.best_weights = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        current = self._current(logs)
        if current is None:
            return
        if self._improved(current):
            self.best, self.best_epoch, self.wait = current, epoch, 0
            if self.restore_best:
                self.best_weights = [p.data.copy() for p in self.model.parameters()]
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.restore_best and self.best_weights is not None:
            for p, w in zip(self.model.parameters(), self.best_weights):
                np.copyto(p.data, w)

    def state_dict(self) -> dict[str, Any]:
        """The best figure, its epoch, the wait so far and the best weights (NumPy arrays)."""
        return {"best": self.best, "wait": self.wait, "best_epoch": self.best_epoch,
                "stopped_epoch": self.stopped_epoch, "monitor": self.monitor,
                "best_weights": None if self.best_weights is None else
                [backend.to_host(w) for w in self.best_weights]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Take back :meth:`state_dict`; the best weights must match the model's parameters."""
        weights = state.get("best_weights")
        if weights is not None:
            params = self.model.parameters()
            if not isinstance(weights, list) or len(weights) != len(params) or any(
                    not backend.is_array(w) or w.shape != p.data.shape or w.dtype != p.data.dtype
                    for w, p in zip(weights, params)):
                raise ValueError("EarlyStopping's saved best weights do not match the model's parameters "
                                 f"({[p.data.shape for p in params]})")
        best, best_epoch, stopped = state.get("best"), state.get("best_epoch"), state.get("stopped_epoch")
        if best is not None and not isinstance(best, (int, float)):
            raise ValueError(f"EarlyStopping's saved best must be a number, got {best!r}")
        self.best = None if best is None else float(best)
        self.wait = check_int(state.get("wait", 0), "EarlyStopping's saved wait", minimum=0)
        self.best_epoch = None if best_epoch is None else check_int(best_epoch, "best_epoch", minimum=0)
        self.stopped_epoch = None if stopped is None else check_int(stopped, "stopped_epoch", minimum=0)
        self.best_weights = None if weights is None else [
            backend.to_device(w.copy(), backend.device_of(p.data)) for w, p in zip(weights, self.model.parameters())]

    def __repr__(self) -> str:
        return (f"EarlyStopping(monitor={self.monitor_requested!r}, patience={self.patience}, "
                f"min_delta={self.min_delta}, restore_best={self.restore_best})")


class ReduceLROnPlateau(_Monitor):
    """Multiply the learning rate by ``factor`` when ``monitor`` stalls for ``patience`` epochs.

    lr ← max(lr · factor, min_lr). After a reduction the count starts again, and ``cooldown``
    epochs pass before counting resumes. ``min_lr`` must be > 0 or ``factor`` keeps it positive.
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.5, patience: int = 3,
                 min_lr: float = 0.0, min_delta: float = 0.0, cooldown: int = 0, mode: str = "auto",
                 verbose: int = 0) -> None:
        super().__init__(monitor, min_delta, mode)
        if not np.isfinite(factor) or not 0 < factor < 1:
            raise ValueError(f"factor must be in (0, 1) (the rate is multiplied by it), got {factor!r}")
        for name, v in (("patience", patience), ("cooldown", cooldown)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {v!r}")
        if not np.isfinite(min_lr) or min_lr < 0:
            raise ValueError(f"min_lr must be a number >= 0, got {min_lr!r}")
        self.factor, self.patience, self.cooldown = float(factor), int(patience), int(cooldown)
        self.min_lr = float(min_lr)
        self.verbose = verbose
        self.wait = 0
        self.cooldown_left = 0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._resolve_monitor()
        self.best, self.wait, self.cooldown_left = None, 0, 0

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        current = self._current(logs)
        if current is None:
            return
        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            self.wait = 0
        if self._improved(current):
            self.best, self.wait = current, 0
            return
        if self.cooldown_left > 0:
            return
        self.wait += 1
        if self.wait >= self.patience:
            opt = _optimizer(self)
            new_lr = max(opt.lr * self.factor, self.min_lr)
            if new_lr < opt.lr and new_lr > 0:
                if self.verbose and self.loop is not None:
                    self.loop.message(f"ReduceLROnPlateau: epoch {epoch + 1}: learning rate {opt.lr:g} -> {new_lr:g}")
                opt.lr = new_lr
            self.wait = 0
            self.cooldown_left = self.cooldown

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "wait": self.wait, "cooldown_left": self.cooldown_left}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = state.get("best")
        self.wait = int(state.get("wait", 0))
        self.cooldown_left = int(state.get("cooldown_left", 0))


class LearningRateScheduler(Callback):
    """Set the learning rate from ``schedule(epoch)`` at the start of every epoch (epoch from 0).

    ``schedule`` is any callable ``epoch -> lr``: a function, or one of
    :mod:`axon.optim.schedules` (``StepDecay``, ``CosineDecay``, ``Warmup(...)``...).
    """

    def __init__(self, schedule: Callable[[int], float]) -> None:
        if not callable(schedule):
            raise TypeError(f"schedule must be a callable epoch -> lr, got {type(schedule).__name__}")
        self.schedule = schedule

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        lr = self.schedule(epoch)
        # 0 is allowed: a cosine schedule may end there (the optimizer then leaves the weights as they are).
        if isinstance(lr, bool) or not isinstance(lr, (int, float, np.number)) or not np.isfinite(lr) or lr < 0:
            raise ValueError(f"LearningRateScheduler: schedule({epoch}) returned {lr!r}; it must return a "
                             f"learning rate >= 0")
        _optimizer(self).lr = float(lr)

    def __repr__(self) -> str:
        return f"LearningRateScheduler({self.schedule!r})"


class CSVLogger(Callback):
    """Append one row per epoch (``epoch`` from 0, as Keras, then every figure of the logs) to a CSV file.

    The one writer of training histories as CSV (``axon train``'s ``history.csv`` is one);
    :meth:`CSVLogger.read` reads them back. It runs after the other callbacks (``runs_last``), so
    the figures they add to the logs (GradientStats' norms) are in its rows.

    The file is written and flushed at each epoch end, so it is complete up to the last epoch
    even if the process is killed. When fit resumes from a checkpoint the file is kept and rows
    of epochs that will be redone are dropped.
    """

    runs_last = True

    def __init__(self, path: str | os.PathLike, separator: str = ",", append: bool = False) -> None:
        self.path = Path(path)
        self.separator = separator
        self.append = bool(append)
        self._keys: list[str] | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        start = int(getattr(self.loop, "initial_epoch", 0) or 0)
        self._keys = None
        keep_rows: list[list[str]] = []
        if (self.append or start > 0) and self.path.exists():
            with open(self.path, newline="") as f:
                rows = list(csv.reader(f, delimiter=self.separator))
            if rows:
                self._keys = rows[0][1:]
                # On resume, epochs from ``start`` on will be written again: drop their old rows.
                keep_rows = [r for r in rows[1:]
                             if r and (start == 0 or (r[0].isdigit() and int(r[0]) < start))]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "w", newline="") as f:
            if self._keys is not None:
                w = csv.writer(f, delimiter=self.separator)
                w.writerow(["epoch", *self._keys])
                w.writerows(keep_rows)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        new_header = self._keys is None
        keys = self._keys = list(logs) if self._keys is None else self._keys
        with open(self.path, "a", newline="") as f:
            w = csv.writer(f, delimiter=self.separator)
            if new_header:
                w.writerow(["epoch", *keys])
            w.writerow([epoch, *(_csv_value(logs.get(k, "")) for k in keys)])
            f.flush()

    @staticmethod
    def write(path: str | os.PathLike, history: dict[str, list[float]], separator: str = ",") -> None:
        """Write a whole ``History.history`` at once, atomically, as the logger writes it epoch by epoch.

        A key that started later (shorter list) leaves its first cells empty.
        """
        import io

        from axon.io.atomic import atomic_write_text

        keys = list(history)
        n = max((len(v) for v in history.values()), default=0)
        buf = io.StringIO()
        w = csv.writer(buf, delimiter=separator, lineterminator="\n")
        w.writerow(["epoch", *keys])
        for epoch in range(n):
            w.writerow([epoch, *(_csv_value(history[k][epoch - n + len(history[k])])
                                 if epoch >= n - len(history[k]) else "" for k in keys)])
        atomic_write_text(path, buf.getvalue())

    @staticmethod
    def read(path: str | os.PathLike, separator: str = ",") -> dict[str, list[float]]:
        """What a CSVLogger wrote, as ``{key: [values]}`` like ``History.history`` (no epoch column).

        Empty cells (a figure that started later) are skipped; a last line cut short by a killed
        process is ignored.
        """
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f, delimiter=separator))
        if not rows:
            return {}
        keys = rows[0][1:]
        out: dict[str, list[float]] = {k: [] for k in keys}
        for row in rows[1:]:
            if len(row) != len(keys) + 1:
                continue
            for k, cell in zip(keys, row[1:]):
                if cell != "":
                    out[k].append(float(cell))
        return out

    def __repr__(self) -> str:
        return f"CSVLogger({str(self.path)!r})"


def _csv_value(v: Any) -> Any:
    return repr(float(v)) if isinstance(v, (float, np.floating)) else v


class ModelCheckpoint(_Monitor):
    """Write a training checkpoint (:func:`axon.save_checkpoint`) every epoch, or every N batches.

    The checkpoint holds the weights, the optimizer state, the position in training (epoch and
    batch), the random generators' states, the history and the other callbacks' state: pass it
    to ``fit(..., resume_from=path)`` to continue exactly. ``path`` may contain ``{epoch}``
    (epochs completed) and ``{batch}`` fields, e.g. ``"ckpt-{epoch:03d}.axon"``.

    ``save_best_only``: at epoch ends, write only when ``monitor`` improved (then the file is the
    best model so far). ``every_n_batches``: also write after every N optimizer steps (counted
    over the whole fit), whatever ``save_best_only`` says, so a killed run loses at most N
    batches. On Ctrl-C, fit writes a checkpoint to ``path`` before returning.

    Everything goes into the one checkpoint file, the other callbacks' state included
    (EarlyStopping's best weights as tensors), written after their hooks ran (``runs_last``).
    """

    runs_last = True

    def __init__(self, path: str | os.PathLike, monitor: str = "val_loss", save_best_only: bool = False,
                 every_n_batches: int | None = None, mode: str = "auto") -> None:
        super().__init__(monitor, 0.0, mode)
        self.path = str(path)
        self.save_best_only = bool(save_best_only)
        self.every_n_batches = None if every_n_batches is None else check_int(every_n_batches, "every_n_batches")
        self.last_path: str | None = None

    def filepath(self) -> str:
        """The path of the next write, with ``{epoch}`` and ``{batch}`` filled in."""
        epoch = getattr(self.loop, "epoch", 0)
        batch = getattr(self.loop, "batch", 0)
        return self.path.format(epoch=epoch, batch=batch) if "{" in self.path else self.path

    def on_train_begin(self, logs: dict | None = None) -> None:
        if self.save_best_only:
            self._resolve_monitor()
        self.best = None

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.every_n_batches and self.loop.global_step % self.every_n_batches == 0 \
                and self.loop.batch < self.loop.n_batches:  # the epoch end writes the last one
            self.save()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.save_best_only:
            current = self._current(logs)
            if current is None or not self._improved(current):
                return
            self.best = current
        self.save()

    def on_interrupt(self) -> None:
        """Ctrl-C: write the checkpoint of where training stopped (mid-epoch)."""
        self.save()

    def save(self) -> str:
        """Write a checkpoint now; returns its path."""
        self.last_path = self.loop.save_checkpoint(self.filepath())
        return self.last_path

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        best = state.get("best")
        if best is not None and not isinstance(best, (int, float)):
            raise ValueError(f"ModelCheckpoint's saved best must be a number, got {best!r}")
        self.best = best

    def __repr__(self) -> str:
        return (f"ModelCheckpoint({self.path!r}, monitor={self.monitor_requested!r}, "
                f"save_best_only={self.save_best_only}, every_n_batches={self.every_n_batches})")


class GradientStats(Callback):
    """Per-epoch gradient norm of every layer with parameters, into the history.

    After each batch's backward pass (``on_batch_end``, where ``fit`` leaves this batch's gradients
    in ``.grad``) it measures ‖∂C/∂W‖, the Frobenius norm of the layer's "weight" gradient (of all
    its parameters together when it has no "weight"); at the end of the epoch it writes the mean
    over the epoch's batches as ``logs["grad_norm/<layer name>"]``, so
    ``history.history["grad_norm/dense_1"]`` has one value per epoch. A vanishing gradient shows as
    the first layers' norms far below the last layers'.

    Example::

        history = model.fit(X, y, epochs=5, callbacks=[ax.callbacks.GradientStats()])
        history.history["grad_norm/dense_1"]      # [‖∂C/∂W₁‖ averaged over epoch 1, ...]
    """

    def __init__(self) -> None:
        self._sums: dict[str, float] = {}
        self._count = 0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._sums, self._count = {}, 0

    @staticmethod
    def layer_norms(model: Sequential) -> dict[str, float]:
        """{layer name: ‖∂C/∂W‖} from the parameters' current ``.grad``, for layers with parameters."""
        out = {}
        for layer in model.layers:
            named = layer.named_parameters()
            if not named:
                continue
            grads = [named["weight"].grad] if "weight" in named else [p.grad for p in named.values()]
            out[layer.name] = float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads)))
        return out

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if getattr(self.loop, "batch", 0) == 0:  # not a resume in the middle of this epoch
            self._sums, self._count = {}, 0

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        for name, norm in self.layer_norms(self.model).items():
            self._sums[name] = self._sums.get(name, 0.0) + norm
        self._count += 1

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is None or not self._count:
            return
        for name, total in self._sums.items():
            logs[f"grad_norm/{name}"] = total / self._count
        self._sums, self._count = {}, 0

    def state_dict(self) -> dict[str, Any]:
        """The running sums of the current epoch (so a resumed fit averages over the whole epoch)."""
        return {"sums": dict(self._sums), "count": self._count}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._sums = {str(k): float(v) for k, v in state.get("sums", {}).items()}
        self._count = check_int(state.get("count", 0), "GradientStats' saved count", minimum=0)


__all__ = ["CSVLogger", "Callback", "EarlyStopping", "GradientStats", "LearningRateScheduler",
           "ModelCheckpoint", "ReduceLROnPlateau", "higher_is_better"]
