"""What fit prints: a progress bar per epoch, or one line per epoch, Keras style.

``verbose=1`` on a terminal: a tqdm bar per epoch (``Epoch 3/20``, batches done, ETA, the running
loss and metrics), replaced at the end of the epoch by one closing line with the training and
validation figures. In a Jupyter notebook the bar is tqdm's widget (``tqdm.auto``). When standard
output is not a terminal (a file, a pipe, a CI log), ``verbose=1`` writes only the closing lines,
so a log never holds carriage returns or redrawn bars. ``verbose=2`` writes one line per epoch
everywhere; ``verbose=0`` writes nothing.

The closing line looks like::

    Epoch 3/20 - 0.41s - loss: 0.2345 - accuracy: 0.9312 - val_loss: 0.2500 - val_accuracy: 0.9200 - lr: 0.01

The bar is redrawn at most ten times a second, so a tiny batch costs one clock read.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import IO, Any

#: Seconds between two redraws of the bar.
REFRESH_SECONDS = 0.1


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where tqdm.auto draws a widget)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:
        return False
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def format_value(value: Any) -> str:
    """A figure as the closing line shows it: 4 significant decimals, or scientific when tiny."""
    if isinstance(value, float):
        if value != 0 and abs(value) < 1e-3:
            return f"{value:.3e}"
        return f"{value:.4f}"
    return str(value)


def format_logs(logs: dict[str, Any]) -> str:
    """``"loss: 0.2345 - accuracy: 0.9312"`` for a dict of figures, in its order."""
    return " - ".join(f"{k}: {v:g}" if k == "lr" and isinstance(v, float) else f"{k}: {format_value(v)}"
                      for k, v in logs.items())


class Progress:
    """The display of one ``fit`` call.

    Parameters
    ----------
    verbose : 0 silent, 1 bar (or closing lines where output is not a terminal), 2 one line per epoch.
    epochs : the total number of epochs (for "Epoch 3/20").
    n_batches : batches per epoch (the bar's total).
    stream : where to write; default ``sys.stdout`` at the time of the call.
    """

    def __init__(self, verbose: int, epochs: int, n_batches: int, stream: IO[str] | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.epochs = epochs
        self.n_batches = n_batches
        if verbose == 0:
            self.mode = "silent"
        elif verbose == 1 and in_notebook():
            self.mode = "notebook"
        elif verbose == 1 and _isatty(self.stream):
            self.mode = "bar"
        else:
            self.mode = "lines"
        self._bar = None
        self._shown = 0
        self._next_draw = 0.0
        self._t0 = 0.0

    def epoch_begin(self, epoch: int, done: int = 0) -> None:
        """Start epoch ``epoch`` (0-based); ``done`` batches are already done (when resuming)."""
        self._t0 = time.perf_counter()
        if self.mode in ("bar", "notebook"):
            import importlib

            bar: Any = importlib.import_module("tqdm.auto" if self.mode == "notebook" else "tqdm").tqdm
            self._bar = bar(total=self.n_batches, initial=done, desc=f"Epoch {epoch + 1}/{self.epochs}",
                             unit="batch", leave=False, file=self.stream, mininterval=REFRESH_SECONDS,
                             dynamic_ncols=True)
            self._shown = done
            self._next_draw = self._t0 + REFRESH_SECONDS

    def batch_end(self, done: int, running: Callable[[], dict[str, float]]) -> None:
        """After a batch: ``done`` batches of this epoch finished; ``running()`` gives the running figures.

        ``running`` is only called when the bar is redrawn (at most every ``REFRESH_SECONDS``).
        """
        if self._bar is None:
            return
        now = time.perf_counter()
        if now < self._next_draw and done < self.n_batches:
            return
        self._next_draw = now + REFRESH_SECONDS
        self._bar.set_postfix_str(format_logs(running()), refresh=False)
        self._bar.update(done - self._shown)
        self._shown = done

    def epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        """Close the bar and write the epoch's closing line (train and validation figures)."""
        seconds = time.perf_counter() - self._t0
        self._close_bar()
        if self.mode == "silent":
            return
        line = f"Epoch {epoch + 1}/{self.epochs} - {seconds:.2f}s - {format_logs(logs)}"
        self.write(line)

    def write(self, line: str) -> None:
        """Write one line (not in silent mode)."""
        if self.mode == "silent":
            return
        if self._bar is not None:  # print above the bar instead of through it
            self._bar.write(line, file=self.stream)
            return
        self.stream.write(line + "\n")
        self.stream.flush()

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def close(self) -> None:
        """Close any open bar (after an interruption or an error)."""
        self._close_bar()


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
