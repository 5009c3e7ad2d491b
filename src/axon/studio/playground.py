"""The playground: a small network on 2-D points, trained live in its own thread and drawn many times a second.

A :class:`Playground` owns its data, network and optimizer, and only its thread touches them:
pages send commands (play, pause, step one batch, step one epoch, reset, new settings, export),
which the thread applies between two training steps, so a command never meets a half-done
step. While someone watches, the thread publishes a frame at most every :data:`FRAME_SECONDS`
into a :class:`~axon.studio.hub.Latest`: the losses, the weights, and every neuron's output over
a grid of the square as a small heat map. Publishing never waits for a page.

Training is the explicit loop of the course on each minibatch::

    out = model.forward(xb, training=True); loss.forward(out, yb)
    model.zero_grad(); model.backward(loss.backward()); opt.step()

Settings in :data:`axon.studio.settings.LIVE` change the running network (a new learning rate
is the optimizer's ``lr``, a new activation replaces the layer and keeps the weights, L1/L2 are
the Dense layers' ``l1``/``l2``); the others start a new network from the seed. A playground nobody
has watched for :data:`IDLE_PAUSE_SECONDS` pauses itself (it keeps its state and carries on when
played again); :class:`Playgrounds` keeps at most :data:`MAX_PLAYGROUNDS`.
"""

from __future__ import annotations

import base64
import concurrent.futures
import json
import math
import os
import queue
import secrets
import tempfile
import threading
import time
from typing import Any

import numpy as np

from axon.studio import recipe as R
from axon.studio.hub import Latest
from axon.studio.settings import Settings, parse

#: Least time between two frames while training runs (a page draws at most about 25 frames/s).
FRAME_SECONDS = 0.04
#: Least time between two points of the loss curve kept for pages that join later.
HISTORY_SECONDS = 0.1
#: Points of the kept loss curve; beyond, every other point is dropped.
HISTORY_POINTS = 3000
#: A playground unwatched this long pauses itself.
IDLE_PAUSE_SECONDS = 300.0
#: Most playgrounds one studio keeps (beyond, the oldest unwatched one goes).
MAX_PLAYGROUNDS = 16
#: Heat-map resolution: the output over GRID × GRID points, each neuron over every other point.
GRID = 64

_CLOSE = object()


def _b64_columns(values: np.ndarray) -> list[str]:
    """Each column of ``values`` (points × units, in [-1, 1]) as signed bytes (-127..127), base64:
    one byte per grid point, one string per unit."""
    v = np.nan_to_num(values, nan=0.0, posinf=1.0, neginf=-1.0)
    q = np.ascontiguousarray(np.clip(np.rint(v * 127), -127, 127).astype(np.int8).T)
    return [base64.b64encode(row.tobytes()).decode("ascii") for row in q]


def _scaled(a: np.ndarray) -> np.ndarray:
    """Each column divided by its largest absolute value (so every map uses the whole colour scale)."""
    top = np.max(np.abs(a), axis=0, keepdims=True)
    return a / np.where(top > 1e-12, top, 1.0)


def _rounded(a: np.ndarray) -> list:
    """An array as nested lists of 4-decimal floats (JSON has no NaN: it becomes 0)."""
    return np.round(np.nan_to_num(a.astype(np.float64), nan=0.0, posinf=1e6, neginf=-1e6), 4).tolist()


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


class Playground:
    """One live network of the playground; see the module docstring.

    Parameters
    ----------
    settings : the starting settings.
    run_id : the name pages use to find it again (``#run=...`` in their URL).
    autostart : start the training thread now (tests drive :meth:`handle` themselves without it).
    """

    def __init__(self, settings: Settings, run_id: str | None = None, autostart: bool = True) -> None:
        self.id = run_id or secrets.token_hex(4)
        self.frames = Latest()
        self.created = self.last_watched = time.monotonic()
        self.generation = 0      # counts new networks; a page clears its curve when it changes
        self.data_version = 0    # counts new data sets
        self.playing = False
        self.note: str | None = None
        self._queue: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._history: list[list[Any]] = []
        self._points: dict[str, Any] = {}
        self._closed = False
        self._last_frame = 0.0
        self._feature_maps: tuple[int, list[str]] = (-1, [])
        self._settings_json: tuple[Settings | None, dict, dict] = (None, {}, {})
        self._pace: tuple[float, float] | None = None  # (time, epoch) when the current pace began
        self._losses_now: dict[str, float | None] | None = None  # of the network as it is; None: changed since
        self.settings = settings
        self._new_network(settings, new_data=True)
        self._thread = threading.Thread(target=self._run, name=f"playground-{self.id}", daemon=True)
        if autostart:
            self._thread.start()

    # -- called from any thread ------------------------------------------------------------
    def submit(self, kind: str, **payload: Any) -> concurrent.futures.Future:
        """Queue a command for the training thread; the future gets its result (or its error)."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        if self._closed:
            future.set_exception(ValueError("this playground was closed; reload the page for a new one"))
        else:
            self._queue.put((kind, payload, future))
        return future

    def check(self, values: dict[str, Any]) -> Settings:
        """The settings ``values`` would give from the current ones (ValueError if one is bad)."""
        return parse(values, self.settings)

    def history(self) -> list[list[Any]]:
        """The loss curve so far: ``[step, epoch, train_loss, test_loss]`` points."""
        with self._lock:
            return [list(p) for p in self._history]

    def points(self) -> dict[str, Any]:
        """The data as the page draws it: ``{"train": [[x1, x2, target], ...], "test": [...], ...}``."""
        with self._lock:
            return self._points

    def close(self) -> None:
        """Stop the thread (it finishes the step it is in)."""
        self._closed = True
        self._queue.put((_CLOSE, {}, None))
        self.frames.close()

    # -- the network (training thread only, after __init__) ---------------------------------
    def _new_network(self, s: Settings, new_data: bool) -> None:
        self._losses_now = None
        if new_data:
            X, y = R.make_data(s)
            train, test = R.split(s)
            self.X, self.y = X, y
            self.train_idx, self.test_idx = train, test
            self.F = R.feature_matrix(X, s.features)
            self.F_train, self.F_test = self.F[train], self.F[test]
            self.y_train, self.y_test = y[train], y[test]
            self.y_scale = float(np.max(np.abs(y))) if s.problem == "regression" else 1.0
            axis = np.linspace(-R.DOMAIN, R.DOMAIN, GRID, dtype=X.dtype)
            g1, g2 = np.meshgrid(axis, axis[::-1])  # row 0 at the top: x₂ = +DOMAIN
            grid = np.column_stack([g1.ravel(), g2.ravel()])
            self.F_grid = R.feature_matrix(grid, s.features)
            every_other = np.zeros((GRID, GRID), dtype=bool)
            every_other[::2, ::2] = True
            self.small = every_other.ravel()  # the neurons' maps: every other grid point
            self.data_version += 1
            with self._lock:
                self._points = self._point_lists(s)
        self.dense = R.make_dense_layers(s, len(s.features))
        self.loss = R.make_loss(s)
        self._drop_rng = np.random.default_rng(s.seed + 4)
        self.settings = s
        self._assemble(s)
        self.opt = R.make_optimizer(s, self.model.parameters())
        self.model.compile(loss=self.loss, optimizer=self.opt)
        self.shuffle = np.random.default_rng(s.seed + 3)
        self.order: np.ndarray | None = None
        self.pos = 0
        self.step = 0
        self.epoch = 0
        self.generation += 1
        self.error: str | None = None
        self._last_history = 0.0
        with self._lock:
            self._history = []
        self._record(force=True)

    def _point_lists(self, s: Settings) -> dict[str, Any]:
        t = self.y.reshape(len(self.y), -1)[:, 0]
        rows = np.column_stack([self.X.astype(np.float64), t.astype(np.float64)])
        rows = np.round(rows, 4)
        return {"train": rows[self.train_idx].tolist(), "test": rows[self.test_idx].tolist(),
                "problem": s.problem, "classes": s.n_classes, "y_scale": self.y_scale,
                "data_version": self.data_version, "domain": R.DOMAIN}

    def _assemble(self, s: Settings) -> None:
        """The Sequential: the Dense layers kept, with this settings' activations and dropout around them."""
        from axon.layers import Dropout
        from axon.model import Sequential

        layers, self.hidden_at = [], []
        for dense, act in zip(self.dense[:-1], s.acts):
            layers += [dense, R.activation(act)]
            self.hidden_at.append(len(layers) - 1)
            if s.dropout:
                layers.append(Dropout(s.dropout, seed=self._drop_rng))
        layers.append(self.dense[-1])
        for d in self.dense:
            d.l1, d.l2 = s.l1, s.l2
        self.model = Sequential(*layers)

    def _apply_live(self, new: Settings) -> None:
        old = self.settings
        self.settings = new
        self._losses_now = None  # (new activations change the output)
        if old.acts != new.acts or old.dropout != new.dropout:
            if bool(old.dropout) == bool(new.dropout) and old.acts == new.acts:
                for layer in self.model.layers:
                    if hasattr(layer, "p"):
                        layer.p = new.dropout
            else:
                self._assemble(new)
                self.model.compile(loss=self.loss, optimizer=self.opt)
        if old.l1 != new.l1 or old.l2 != new.l2:
            for d in self.dense:
                d.l1, d.l2 = new.l1, new.l2
        if old.optimizer != new.optimizer:
            self.opt = R.make_optimizer(new, self.model.parameters())
            self.model.compile(loss=self.loss, optimizer=self.opt)
        elif old.lr != new.lr:
            self.opt.lr = new.lr
        if old.speed != new.speed:  # a new batch size needs nothing: the next minibatch has it
            self._pace = None

    # -- training ----------------------------------------------------------------------------
    def _train_step(self) -> None:
        s = self.settings
        n = len(self.F_train)
        if self.order is None or self.pos >= n:
            self.order = self.shuffle.permutation(n)
            self.pos = 0
        bs = min(s.batch, n)
        idx = self.order[self.pos:self.pos + bs]
        self.pos += len(idx)
        out = self.model.forward(self.F_train[idx], training=True)
        value = self.loss.forward(out, self.y_train[idx])
        self.model.zero_grad()
        self.model.backward(self.loss.backward(), input_grad=False)
        self.opt.step()
        self._losses_now = None
        self.step += 1
        if self.pos >= n:
            self.epoch += 1
        if not math.isfinite(value):  # weights that overflowed make the next loss non-finite too
            self.playing = False
            self.error = (f"training diverged at step {self.step} (the loss became {value:.3g}); lower the "
                          f"learning rate (now {s.lr:g}) and press reset")

    @property
    def epoch_float(self) -> float:
        """Epochs done, with the current epoch's fraction."""
        n = len(self.F_train)
        partial = self.pos / n if self.order is not None and self.pos < n else 0.0
        return self.epoch + partial

    def _losses(self) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for split, F, y in (("train", self.F_train, self.y_train), ("test", self.F_test, self.y_test)):
            z = self.model.forward(F, training=False)
            out[f"{split}_loss"] = _finite(self.loss.forward(z, y)) if len(F) else None
            if self.settings.problem == "classification" and len(F):
                pred = z.argmax(axis=1) if z.shape[1] > 1 else (z[:, 0] > 0).astype(np.int64)
                out[f"{split}_acc"] = float(np.mean(pred == y))
        return out

    def _current_losses(self) -> dict[str, float | None]:
        """:meth:`_losses` of the network as it is now, computed once after each change."""
        if self._losses_now is None:
            self._losses_now = self._losses()
        return self._losses_now

    def _record(self, force: bool = False) -> None:
        """Add the current losses to the loss curve (at most every HISTORY_SECONDS unless ``force``)."""
        now = time.monotonic()
        losses = self._current_losses()
        if force or now - self._last_history >= HISTORY_SECONDS:
            self._last_history = now
            point = [self.step, round(self.epoch_float, 4), losses["train_loss"], losses["test_loss"]]
            with self._lock:
                if self._history and self._history[-1][0] == self.step:
                    self._history[-1] = point  # the same weights (a command that trained nothing)
                else:
                    self._history.append(point)
                if len(self._history) > HISTORY_POINTS:
                    self._history = self._history[::2]

    # -- frames ------------------------------------------------------------------------------
    def frame(self) -> dict[str, Any]:
        """Everything a page draws, as JSON values (training thread)."""
        s = self.settings
        if self._feature_maps[0] != self.data_version:  # the features' maps change with the data only
            self._feature_maps = (self.data_version, _b64_columns(_scaled(self.F_grid[self.small])))
        if self._settings_json[0] is not s:
            self._settings_json = (s, s.to_dict(), s.to_query())
        columns: list[list[str]] = [self._feature_maps[1]]
        x = self.F_grid
        for i, layer in enumerate(self.model.layers):
            x = layer.forward(x, training=False)
            if i in self.hidden_at:
                act = s.acts[self.hidden_at.index(i)]
                a = x[self.small]
                a = a if act == "tanh" else (2 * a - 1 if act == "sigmoid" else _scaled(a))
                columns.append(_b64_columns(a))
        link = self.loss.link(x)
        out = np.clip(link / self.y_scale, -1, 1) if s.problem == "regression" else 2 * link - 1
        columns.append(_b64_columns(out))
        losses = self._current_losses()
        return {"type": "frame", "run": self.id, "status": "playing" if self.playing else "paused",
                "note": self.error or self.note, "step": self.step, "epoch": self.epoch,
                "epoch_float": round(self.epoch_float, 4), **losses, "generation": self.generation,
                "data_version": self.data_version, "settings": self._settings_json[1],
                "query": self._settings_json[2],
                "grid": GRID, "domain": R.DOMAIN, "columns": columns,
                "weights": [_rounded(d.weight.data) for d in self.dense],
                "biases": [_rounded(d.bias.data) for d in self.dense],
                "time": time.time()}

    def _publish(self) -> None:
        """Publish ``(generation, data_version, frame as JSON)``; pages fetch the rest when those change."""
        frame = json.dumps(self.frame(), allow_nan=False)
        self.frames.publish((self.generation, self.data_version, frame))
        self._last_frame = time.monotonic()

    # -- commands ----------------------------------------------------------------------------
    def handle(self, kind: str, payload: dict[str, Any]) -> Any:
        """Apply one command in the training thread; returns its result (exports) or None."""
        self.note = None
        if kind == "play":
            if self.error is None:
                self.playing = True
                self._pace = None
        elif kind == "pause":
            self.playing = False
        elif kind == "step":
            self.playing = False
            if self.error is None:
                if payload.get("what") == "epoch":
                    start = self.epoch
                    while self.epoch == start and self.error is None:
                        self._train_step()
                else:
                    self._train_step()
        elif kind == "reset":
            self._new_network(self.settings, new_data=False)
        elif kind == "set":
            new: Settings = payload["settings"]
            if self.settings.restart_needed(new):
                data_changed = any(getattr(self.settings, k) != getattr(new, k) for k in
                                   ("problem", "dataset", "classes", "noise", "ratio", "points", "seed",
                                    "features"))
                self._new_network(new, new_data=data_changed)
            else:
                self._apply_live(new)
        elif kind == "export_script":
            return R.script(self.settings, self.epoch, payload.get("query", ""))
        elif kind == "export_model":
            return self._model_bytes()
        elif kind == "snapshot":
            return {"weights": [d.weight.data.copy() for d in self.dense],
                    "biases": [d.bias.data.copy() for d in self.dense], "step": self.step, "epoch": self.epoch}
        else:
            raise ValueError(f"unknown command {kind!r}")
        self._record(force=kind != "play")
        return None

    def _model_bytes(self) -> bytes:
        import axon as ax

        fd, path = tempfile.mkstemp(suffix=".axon")
        os.close(fd)
        try:
            ax.save(self.model, path)
            with open(path, "rb") as f:
                return f.read()
        finally:
            os.unlink(path)

    def _fail_queued(self) -> None:
        """Answer the commands still queued when the playground closes, so nobody waits for them."""
        while True:
            try:
                _, _, future = self._queue.get_nowait()
            except queue.Empty:
                return
            if future is not None and not future.done():
                future.set_exception(ValueError("this playground was closed; reload the page for a new one"))

    def _paced_wait(self) -> float:
        """Seconds to wait before the next step so that training keeps to ``speed`` epochs per second."""
        speed = self.settings.speed
        if not speed:
            return 0.0
        now = time.monotonic()
        if self._pace is None:
            self._pace = (now, self.epoch_float)
        t0, e0 = self._pace
        ahead = (self.epoch_float - e0) / speed - (now - t0)
        return max(0.0, ahead)

    def _run(self) -> None:
        self._publish()  # the first frame, for the page that opened it
        while not self._closed:
            wait = self._paced_wait() if self.playing else 0.5
            try:
                item = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
            except queue.Empty:
                item = None
            changed = False
            while item is not None:
                kind, payload, future = item
                if kind is _CLOSE:
                    self._fail_queued()
                    return
                try:
                    result = self.handle(kind, payload)
                except Exception as exc:  # a bad command must not end the thread
                    if future is not None:
                        future.set_exception(exc)
                else:
                    if future is not None:
                        future.set_result(result)
                changed = True
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    item = None
            watched = self.frames.readers > 0
            now = time.monotonic()
            if watched:
                self.last_watched = now
            elif self.playing and now - self.last_watched > IDLE_PAUSE_SECONDS:
                self.playing = False
                self.note = "paused: nobody watched for 5 minutes; press play to carry on"
                changed = True
            trained = False
            if self.playing and self._paced_wait() == 0.0:
                # Train until the next frame is due (a short burst when nobody watches).
                deadline = max(now + 0.005, self._last_frame + FRAME_SECONDS) if watched else now + 0.05
                while self.playing and time.monotonic() < deadline and self._paced_wait() == 0.0:
                    self._train_step()
                trained = True
            now = time.monotonic()
            due = self.playing and watched and now - self._last_frame >= FRAME_SECONDS
            if trained and (due or now - self._last_history >= HISTORY_SECONDS):
                self._record()
            if changed or due:
                self._publish()  # the losses just recorded, if the network has not changed since


class Playgrounds:
    """The live playgrounds of one studio, by id; the oldest unwatched one goes when there are too many."""

    def __init__(self, limit: int = MAX_PLAYGROUNDS) -> None:
        self._by_id: dict[str, Playground] = {}
        self._lock = threading.Lock()
        self.limit = limit

    def get(self, run_id: str | None) -> Playground | None:
        """The playground ``run_id``, or None."""
        with self._lock:
            return self._by_id.get(run_id) if run_id else None

    def create(self, settings: Settings) -> Playground:
        """A new playground (dropping the least recently watched unwatched one beyond the limit)."""
        with self._lock:
            if len(self._by_id) >= self.limit:
                idle = [p for p in self._by_id.values() if p.frames.readers == 0]
                if not idle:
                    raise ValueError(f"{self.limit} playgrounds are open and watched; close a tab first")
                oldest = min(idle, key=lambda p: p.last_watched)
                del self._by_id[oldest.id]
                oldest.close()
            pg = Playground(settings)
            while pg.id in self._by_id:  # 2^32 ids: practically never
                pg.id = secrets.token_hex(4)
            self._by_id[pg.id] = pg
            return pg

    def close(self) -> None:
        """Stop every playground."""
        with self._lock:
            for p in self._by_id.values():
                p.close()
            self._by_id.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_id)
