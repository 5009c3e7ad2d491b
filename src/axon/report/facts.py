"""The report's words: how the run ended, which weights were saved, the run's facts and its options.

Plain functions from the run's records (history, metrics, run.json's configuration) to sentences
and ``(label, value)`` rows; :mod:`axon.report.html` lays them out. Nothing here draws or imports
matplotlib.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from axon.callbacks import higher_is_better

#: How a run can end, and the tone of the report's status line ("ok", "warn", "bad").
STATUSES: dict[str, str] = {"completed": "ok", "stopped_early": "ok", "stopped": "ok", "interrupted": "warn",
                             "diverged": "bad"}


@dataclass(frozen=True)
class Best:
    """The best epoch of a monitored history key: ``epoch`` is 1-based, ``value`` that epoch's figure,
    ``last`` the last epoch's, ``epochs`` how many epochs the history holds."""

    monitor: str
    epoch: int
    value: float
    last: float
    epochs: int

    @property
    def higher_is_better(self) -> bool:
        """True for accuracies (and other scores), False for losses and errors."""
        return higher_is_better(self.monitor)


def default_monitor(history: dict[str, list[float]]) -> str | None:
    """The key early stopping would watch: ``val_loss`` when recorded, else ``loss``, else None."""
    for key in ("val_loss", "loss"):
        if history.get(key):
            return key
    return None


def best_epoch(history: dict[str, list[float]], monitor: str | None = None, epoch: int | None = None) -> Best | None:
    """The best epoch of ``history[monitor]`` (lowest loss, highest accuracy), or of ``epoch`` (1-based)
    when given (what early stopping recorded). ``monitor`` defaults to :func:`default_monitor`.
    Non-finite values never count as best. None when there is nothing to judge."""
    monitor = monitor or default_monitor(history)
    values = history.get(monitor or "", [])
    finite = [(i, v) for i, v in enumerate(values) if math.isfinite(v)]
    if monitor is None or not finite:
        return None
    if epoch is not None and 1 <= epoch <= len(values) and math.isfinite(values[epoch - 1]):
        i = epoch - 1
    else:
        pick = max if higher_is_better(monitor) else min
        i = pick(finite, key=lambda iv: iv[1])[0]
    return Best(monitor, i + 1, float(values[i]), float(values[-1]), len(values))


def status_sentence(status: str, epochs_run: int, epochs_planned: int | None, note: str | None = None) -> str:
    """One sentence on how the run ended, e.g. "Completed: 40 of 40 epochs." (``note`` is appended)."""
    of = f" of {epochs_planned}" if epochs_planned else ""
    epochs = f"{epochs_run}{of} epoch{'s' if (epochs_planned or epochs_run) != 1 else ''}"
    text = {
        "completed": f"Completed: {epochs}.",
        "stopped_early": f"Stopped by early stopping after {epochs}.",
        "stopped": f"Stopped from the studio after {epochs}; the figures are those of that point.",
        "interrupted": f"Interrupted after {epochs} (Ctrl-C or a stop request); the run can be resumed.",
        "diverged": f"Diverged: the loss stopped being a finite number after {epochs}; the figures below "
                    f"show how it got there. Try a smaller learning rate.",
    }.get(status, f"{status.replace('_', ' ').capitalize()} after {epochs}.")
    return f"{text} {note}" if note else text


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def weights_sentence(best: Best | None, status: str, restored_best: bool) -> str:
    """Which weights the model (and the report's weight pictures) hold, and where the best epoch was.

    Early stopping with ``restored_best`` saves the best epoch's weights; otherwise the last epoch's
    are saved, and the sentence says how far the best epoch was from it and how to keep the best.
    """
    if best is None:
        return "No epoch finished, so there is no best epoch to report."
    m = best.monitor
    if status in ("interrupted", "diverged"):
        where = "at the interruption" if status == "interrupted" else "when the run diverged"
        return (f"The weights shown are those {where}. The best {m} so far, {_fmt(best.value)}, was at epoch "
                f"{best.epoch} of {best.epochs}.")
    if best.epoch == best.epochs:
        return (f"The saved model has the weights of the last epoch ({best.epochs}), which is also the best "
                f"{m} ({_fmt(best.value)}).")
    if restored_best:
        return (f"The saved model has the weights of epoch {best.epoch}, the best {m} ({_fmt(best.value)}), "
                f"restored by early stopping; training went on to epoch {best.epochs}, where {m} was "
                f"{_fmt(best.last)}.")
    change = ""
    if best.value != 0 and not best.higher_is_better:
        change = f", {abs(best.last / best.value - 1):.0%} higher than the best"
    return (f"The saved model has the weights of the last epoch ({best.epochs}), where {m} is {_fmt(best.last)}"
            f"{change}. The best {m}, {_fmt(best.value)}, was at epoch {best.epoch}: early stopping "
            f"(--early-stopping PATIENCE, or the EarlyStopping callback) would have kept those weights.")


def best_label(best: Best, status: str, restored_best: bool) -> str:
    """A few words for the best-epoch marker of a plot: whether the saved model has its weights."""
    if status in ("interrupted", "diverged"):
        return "best so far"
    if best.epoch == best.epochs:
        return "the saved weights"
    return "weights restored" if restored_best else "not the saved weights"


def _duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.3g} s"
    return f"{int(seconds // 60)} min {seconds % 60:.0f} s"


def run_rows(*, status: str, date: str, version: str, sizes: dict[str, int], metrics: dict[str, Any],
             epochs_planned: int | None) -> list[tuple[str, str]]:
    """The "Run" table: status, date, axon version, data sizes, epochs, training time, time per epoch."""
    epochs = int(metrics.get("epochs_run") or 0)
    sizes_text = " / ".join(f"{n:,} {name}" for name, n in sizes.items() if n)
    rows = [("status", status.replace("_", " ")), ("date", date), ("axon version", version),
            ("samples", sizes_text or "none"),
            ("epochs run", f"{epochs}" + (f" of {epochs_planned}" if epochs_planned else ""))]
    seconds = metrics.get("train_seconds")
    if isinstance(seconds, (int, float)) and math.isfinite(seconds):
        rows.append(("training time", _duration(float(seconds))))
        if epochs:
            rows.append(("time per epoch", _duration(float(seconds) / epochs)))
    return rows


# The options of `axon train` in the order and words the report uses (others follow by their names).
_LABELS = {"dataset": "data set", "target": "target column", "model": "model", "layers": "layers",
           "activation": "activation", "loss": "loss", "optimizer": "optimizer", "epochs": "epochs",
           "batch_size": "batch size", "dropout": "dropout", "l1": "L1", "l2": "L2",
           "early_stopping": "early stopping", "validation_split": "validation split",
           "standardize": "standardised inputs", "grad_stats": "gradient norms recorded", "seed": "seed",
           "threads": "BLAS threads", "data_dir": "data folder"}
_FOLDED = {"lr", "momentum"}  # shown with the optimizer


def _number(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def config_rows(config: dict[str, Any], *, task: str | None = None, loss_name: str | None = None,
                monitor: str | None = None) -> list[tuple[str, str]]:
    """The configuration as ``(label, value)`` rows, only what applies to this run.

    Options that are off or unset are left out (no ``loss: None``, no momentum unless the optimizer
    is SGD, no L1/L2/dropout at 0: one "regularisation: none" row instead); the loss is the one the
    model was compiled with (``loss_name``); the learning rate (and SGD's momentum) is shown with the
    optimizer; early stopping says what it watches and that it restores the best weights.
    """
    rows: list[tuple[str, str]] = []
    shown: set[str] = set(_FOLDED)
    for key in _LABELS:
        if key not in config:
            continue
        shown.add(key)
        v = config[key]
        label = _LABELS[key]
        if key == "loss":
            if loss_name:
                given = f" (--loss {v})" if v else (f" (the default for {task})" if task else " (the default)")
                rows.append((label, loss_name + given))
            elif v:
                rows.append((label, str(v)))
        elif key == "optimizer":
            opts = [f"lr {_number(config['lr'])}"] if config.get("lr") is not None else []
            if str(v).lower() == "sgd" and config.get("momentum") is not None:
                opts.append(f"momentum {_number(config['momentum'])}")
            rows.append((label, f"{v}" + (f" ({', '.join(opts)})" if opts else "")))
        elif key in ("dropout", "l1", "l2"):
            if v:
                rows.append((label, _number(v)))
        elif key == "early_stopping":
            rows.append((label, f"patience {v} on {monitor or 'val_loss'}, best weights restored" if v else "off"))
        elif key == "validation_split":
            if v:
                rows.append((label, _number(v)))
        elif key in ("standardize", "grad_stats"):
            if v:
                rows.append((label, "yes"))
        elif key == "threads":
            rows.append((label, "the BLAS library's default" if v == 0 else str(v)))
        elif v is not None and v != "":
            rows.append((label, _number(v)))
    if not any(config.get(k) for k in ("dropout", "l1", "l2")):
        at = next((i for i, (label, _) in enumerate(rows) if label == "early stopping"), len(rows))
        rows.insert(at, ("regularisation", "none"))
    for key, v in config.items():  # options this table does not know yet: shown when set
        if key not in shown and v not in (None, "", False):
            rows.append((key.replace("_", " "), _number(v)))
    return rows


__all__ = ["STATUSES", "Best", "best_epoch", "best_label", "config_rows", "default_monitor", "run_rows", "status_sentence",
           "weights_sentence"]
