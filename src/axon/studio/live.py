"""A training run's live feed, for ``axon train --studio``: two small files in the run folder.

The training process appends one JSON object per line to ``live.jsonl`` (:data:`LIVE_FILE`) and
reads ``studio-control.json`` (:data:`CONTROL_FILE`), which the studio writes. Nothing else passes
between them, so a run never waits for the studio, keeps going when every page is closed or the
studio stops, and a studio started later still sees the whole run (it reads the file from the top).

Events in ``live.jsonl``, each with ``"type"`` and ``"time"`` (seconds since the epoch):

- ``begin``: ``session`` (names this training session), ``pid``, ``token`` (from the
  environment variable ``AXON_STUDIO_TOKEN``, set by a studio that started the run), ``epochs``,
  ``steps`` (batches per epoch), ``initial_epoch``, ``lr`` and ``history`` (the figures of the
  epochs before a resume);
- ``batch``: ``epoch``, ``batch`` (batches done), ``steps``, ``loss`` (the epoch's running mean),
  at most every :data:`BATCH_EVENT_SECONDS`;
- ``epoch``: ``epoch`` (0-based), ``logs`` (loss, metrics, val_*, lr) and ``seconds`` (the
  epoch's time, pauses left out);
- ``control``: ``paused``, ``lr``, ``stopping``: what the run now does after a page asked;
- ``end``: ``interrupted``, ``stopped`` (by the studio's stop button).

``studio-control.json`` holds ``{"session": ..., "seq": n, "paused": bool, "stop": bool, "lr": x}``;
the run reads it at most every :data:`CONTROL_SECONDS` and ignores one written for another session.
This module needs nothing beyond the standard library and axon.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

from axon.callbacks import Callback

#: The run's live feed in its run folder: one JSON event a line, appended by the training process.
LIVE_FILE = "live.jsonl"
#: The studio's requests to a run (pause, stop, learning rate), in its run folder; the run reads it.
CONTROL_FILE = "studio-control.json"
#: Least time between two ``batch`` events (each one costs a watching page a repaint).
BATCH_EVENT_SECONDS = 1.0
#: Least time between two reads of the control file while training.
CONTROL_SECONDS = 0.2
#: How often a paused run looks at the control file again.
PAUSED_POLL_SECONDS = 0.1


def _numbers(logs: dict[str, Any] | None) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for k, v in (logs or {}).items():
        if isinstance(v, (bool, str)):
            continue
        try:
            x = float(v)
        except (TypeError, ValueError):
            continue
        out[str(k)] = x if math.isfinite(x) else None
    return out


class StudioFeed(Callback):
    """Training callback: writes the run's live feed and obeys the studio's pause, stop and learning rate.

    Pass it to ``fit`` (``axon train --studio`` does): after every batch it may append a
    ``batch`` event and look at the control file (each at most a few times a second, so the
    cost per batch is one clock read); after every epoch it appends an ``epoch`` event. A pause
    blocks in ``on_batch_end`` until resumed or stopped; stop calls ``FitLoop.interrupt()``, which
    finishes the batch and writes the checkpoint. ``stopped`` tells the caller that the studio
    stopped the run (``axon train`` then writes the model and report as after the last epoch).

    Parameters
    ----------
    run_dir : the run folder (the feed goes to ``run_dir/live.jsonl``).
    """

    def __init__(self, run_dir: str | os.PathLike) -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LIVE_FILE
        self.control_path = self.run_dir / CONTROL_FILE
        self.stopped = False
        self.paused = False
        self.session = ""
        self._seq = -1
        self._control_stamp: tuple[int, int, int] | None = None
        self._next_control = 0.0
        self._next_batch_event = 0.0
        self._epoch_start = 0.0
        self._paused_seconds = 0.0
        self._loss_sum = 0.0
        self._batches = 0

    # -- the file ----------------------------------------------------------------------------
    def emit(self, kind: str, **fields: Any) -> None:
        """Append one event (one line, written with a single call so readers never see half of it)."""
        event = {"type": kind, "time": round(time.time(), 3), **fields}
        line = json.dumps(event, allow_nan=False, default=float) + "\n"
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(line)

    # -- hooks -------------------------------------------------------------------------------
    def on_train_begin(self, logs: dict | None = None) -> None:
        loop, opt = self.loop, getattr(self.model, "optimizer", None)
        self.session = f"{os.getpid()}-{time.time_ns()}"
        history = {k: [None if not math.isfinite(x) else x for x in v]
                   for k, v in getattr(getattr(loop, "history", None), "history", {}).items()}
        self.emit("begin", session=self.session, pid=os.getpid(), token=os.environ.get("AXON_STUDIO_TOKEN"),
                  epochs=getattr(loop, "epochs", None), steps=getattr(loop, "n_batches", None),
                  initial_epoch=getattr(loop, "initial_epoch", 0),
                  lr=None if opt is None else float(opt.lr), history=history)
        self._epoch_start = time.perf_counter()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch_start = time.perf_counter()
        self._paused_seconds = 0.0
        self._loss_sum, self._batches = 0.0, 0

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if logs and isinstance(logs.get("loss"), (int, float)):
            self._loss_sum += float(logs["loss"])
            self._batches += 1
        now = time.monotonic()
        if now >= self._next_batch_event:
            self._next_batch_event = now + BATCH_EVENT_SECONDS
            mean = self._loss_sum / self._batches if self._batches else None
            self.emit("batch", epoch=getattr(self.loop, "epoch", 0), batch=batch + 1,
                      steps=getattr(self.loop, "n_batches", None),
                      loss=mean if mean is None or math.isfinite(mean) else None)
        if now >= self._next_control:
            self._next_control = now + CONTROL_SECONDS
            self._read_control()
            if self.paused:
                self._wait_while_paused()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        seconds = time.perf_counter() - self._epoch_start - self._paused_seconds
        self.emit("epoch", epoch=epoch, logs=_numbers(logs), seconds=round(seconds, 4))

    def on_train_end(self, logs: dict | None = None) -> None:
        self.emit("end", interrupted=bool((logs or {}).get("interrupted")), stopped=self.stopped)

    # -- the studio's controls ---------------------------------------------------------------
    def _read_control(self) -> None:
        try:
            st = self.control_path.stat()
        except OSError:
            return
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)  # an atomic rewrite is a new inode
        if stamp == self._control_stamp:
            return
        self._control_stamp = stamp
        try:
            control = json.loads(self.control_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return  # half-written by hand or gone: the next change will be read
        if not isinstance(control, dict) or control.get("session") != self.session:
            return
        seq = control.get("seq")
        if not isinstance(seq, int) or seq <= self._seq:
            return
        self._seq = seq
        changed = False
        lr = control.get("lr")
        opt = getattr(self.model, "optimizer", None)
        if isinstance(lr, (int, float)) and not isinstance(lr, bool) and math.isfinite(lr) and lr > 0 \
                and opt is not None and float(opt.lr) != float(lr):
            opt.lr = float(lr)
            changed = True
        paused = bool(control.get("paused"))
        if paused != self.paused:
            self.paused = paused
            changed = True
        if control.get("stop") and not self.stopped:
            self.stopped = True
            self.paused = False
            changed = True
            self.loop.interrupt()
        if changed:
            self.emit("control", paused=self.paused, stopping=self.stopped,
                      lr=None if opt is None else float(opt.lr))

    def _wait_while_paused(self) -> None:
        start = time.perf_counter()
        while self.paused and not self.stopped:
            # A Ctrl-C while paused: FitLoop.interrupt() was called by its handler; stop waiting.
            if self.loop.interrupted:
                break
            time.sleep(PAUSED_POLL_SECONDS)
            self._read_control()
        self._paused_seconds += time.perf_counter() - start


# -- the studio's side ------------------------------------------------------------------------------
def read_events(path: str | os.PathLike, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """The complete events of a feed from byte ``offset`` on, and the offset after the last one.

    A line still being written (no newline yet) is left for the next call; a line that is not
    JSON is skipped.
    """
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except OSError:
        return [], offset
    end = data.rfind(b"\n")
    if end < 0:
        return [], offset
    events = []
    for line in data[:end].split(b"\n"):
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events, offset + end + 1


def write_control(run_dir: str | os.PathLike, session: str, seq: int, *, paused: bool, stop: bool,
                  lr: float | None) -> None:
    """Write the control file for the run's training ``session`` (atomically)."""
    from axon.io.atomic import atomic_write_bytes

    data = {"session": session, "seq": int(seq), "paused": bool(paused), "stop": bool(stop), "lr": lr}
    atomic_write_bytes(Path(run_dir) / CONTROL_FILE, (json.dumps(data) + "\n").encode("utf-8"))
