"""The Train page's runs: started from the page as ``axon train`` processes, or found in the runs folder.

Every run is an ``axon train --studio`` process writing its own run folder (the same files as on
the command line: model.axon, checkpoint.axon, run.json, metrics.json, history.csv, report.html)
and a live feed (:mod:`axon.studio.live`). :class:`RunManager` never trains in the studio's process:
it starts ``python -m axon.cli.main train --studio ...`` with the page's options as flags, reads
each feed from where it left off (:meth:`RunManager.poll`, a few times a second) into an
:class:`~axon.studio.hub.EventLog` per run that every watching page follows, and writes the control
file when a page pauses, resumes, stops or changes the learning rate. A page that closes or reloads
changes nothing for the run; a studio that stops sends its own runs Ctrl-C (each writes its
checkpoint, as on the command line).

The page's options are checked by the command line's own rules before anything starts: they are
converted as a ``--config`` file's are (:func:`axon.cli.config.convert_options`), and a CSV file is loaded
by :func:`axon.cli.data.load_dataset` with the run's own options (delimiter, dropped columns, task).
"""

from __future__ import annotations

import collections
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from axon.studio import live, path_id
from axon.studio.hub import EventLog

#: Lines of a started process's output kept for the page (its error, its final figures).
OUTPUT_LINES = 40
#: Run folders listed at most (the newest).
MAX_LISTED = 200


def _pid_alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def check_options(options: dict[str, Any]) -> dict[str, Any]:
    """The page's training options checked and converted as ``axon train --config`` would read them.

    ``options`` maps option names (``lr``, ``batch_size``, ``layers``, ...; see
    :data:`axon.cli.config.OPTIONS`) to values; empty values are left out (the defaults apply).
    A CSV data set is loaded as the run will load it (:func:`check_csv`).
    Raises ValueError naming the option, as the command line does.
    """
    return _checked(options)[0]


def check_csv(options: dict[str, Any]):
    """The CSV data set that ``options`` (``dataset`` csv:PATH, ``target``, ``delimiter``, ``drop``,
    ``task``, ...) name, loaded as ``axon train`` with them loads it (:func:`axon.cli.data.load_dataset`):
    its task is the one the run will train for. Raises ValueError as :func:`check_options` does.
    """
    data = _checked(options)[1]
    if data is None:
        raise ValueError("dataset: expected a CSV file, csv:PATH")
    return data


def _checked(options: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """(the converted options, the loaded CSV data set or None for an image data set)."""
    from axon.cli import config as C
    from axon.cli.data import parse_dataset_spec

    given = {str(k).replace("-", "_"): v for k, v in options.items() if v is not None and str(v).strip() != ""}
    cfg = C.convert_options(given)
    name, csv_path = parse_dataset_spec(cfg.get("dataset", "digits"))
    if name == "csv":
        if csv_path is None or not csv_path.is_file():
            raise ValueError(f"dataset: no such CSV file {str(csv_path)!r}; upload one or give its path")
        if not cfg.get("target"):
            raise ValueError("target: name the column to predict for a CSV data set")
        from axon.cli.data import load_dataset
        run = {**C.defaults_for(cfg["dataset"], cfg.get("task"), cfg.get("model", "mlp")), **cfg}
        # loaded as ``axon train`` loads it (delimiter, dropped columns, task): a clear ValueError if it cannot
        data = load_dataset(run["dataset"], target=run["target"], kind=run["model"], task=run["task"],
                            validation_split=run["validation_split"], seed=run["seed"],
                            delimiter=run["delimiter"], drop=run["drop"])
        return cfg, data
    return cfg, None


def command_for(cfg: dict[str, Any], out: Path) -> list[str]:
    """The ``axon train`` command line for checked options ``cfg``, writing into ``out``."""
    args = [sys.executable, "-m", "axon.cli.main", "train", "--studio", "--quiet", "--out", str(out)]
    for k, v in cfg.items():
        if isinstance(v, bool):
            text = "true" if v else "false"
        elif isinstance(v, (list, tuple)):  # --drop a,b
            text = ",".join(str(item) for item in v)
        else:
            text = str(v)
        args += ["--" + k.replace("_", "-"), text]
    return args


class Run:
    """One run folder (or a run still starting) as the Train page sees it."""

    def __init__(self, run_id: str, path: Path | None, source: str) -> None:
        self.id, self.path, self.source = run_id, path, source
        self.events = EventLog()
        self.offset = 0
        self.session = ""
        self.pid: int | None = None
        self.begun = self.ended = False
        self.stopped = self.interrupted = False
        self.paused = False
        self.lr: float | None = None
        self.epochs_done = 0
        self.epochs: int | None = None
        self.state = "starting" if path is None else "unknown"
        self.message: str | None = None
        self.process: subprocess.Popen | None = None
        self.token: str | None = None
        self.output: collections.deque[str] = collections.deque(maxlen=OUTPUT_LINES)
        self.created = time.time()
        self.history_stamp: int | None = None
        self.config: dict[str, Any] = {}

    def summary(self) -> dict[str, Any]:
        """The run for the page's list."""
        report = self.path is not None and (self.path / "report.html").is_file()
        return {"id": self.id, "name": self.path.name if self.path else "(starting)",
                "path": str(self.path) if self.path else None, "source": self.source, "state": self.state,
                "message": self.message, "epochs_done": self.epochs_done, "epochs": self.epochs,
                "paused": self.paused, "lr": self.lr, "report": report, "dataset": self.config.get("dataset"),
                "created": self.created}


class RunManager:
    """The runs of the Train page; see the module docstring.

    Parameters
    ----------
    runs_dir : the folder of run folders (the command line's default is ``runs``).
    """

    def __init__(self, runs_dir: str | os.PathLike) -> None:
        self.runs_dir = Path(runs_dir)
        self._runs: dict[str, Run] = {}
        self._lock = threading.RLock()
        self._last_scan = 0.0

    # -- finding runs --------------------------------------------------------------------------
    def _add_folder(self, path: Path, source: str) -> Run:
        rid = path_id(path)
        run = self._runs.get(rid)
        if run is None:
            run = Run(rid, path, source)
            self._runs[rid] = run
            self._read_info(run)
            self._update(run)
        return run

    def scan(self) -> None:
        """Find run folders in ``runs_dir`` (those with run.json or a live feed) not known yet."""
        from axon.runs import RUN_INFO_FILE

        if not self.runs_dir.is_dir():
            return
        with self._lock:
            known = {r.path for r in self._runs.values() if r.path is not None}
            try:
                entries = sorted(self.runs_dir.iterdir(), key=lambda p: p.stat().st_mtime)[-MAX_LISTED:]
            except OSError:
                return
            for path in entries:
                if path in known or not path.is_dir():
                    continue
                if not ((path / RUN_INFO_FILE).is_file() or (path / live.LIVE_FILE).is_file()):
                    continue
                pending = self._pending_for(path)
                if pending is not None:
                    pending.path = path
                    del self._runs[pending.id]
                    pending.id = path_id(path)
                    self._runs[pending.id] = pending
                    self._read_info(pending)
                    self._update(pending)
                else:
                    self._add_folder(path, "folder")

    def _pending_for(self, path: Path) -> Run | None:
        """The run started from the page whose process writes ``path`` (its token in the feed)."""
        pending = [r for r in self._runs.values() if r.path is None and r.token]
        if not pending:
            return None
        events, _ = live.read_events(path / live.LIVE_FILE)
        for e in events:
            if e.get("type") == "begin":
                for r in pending:
                    if e.get("token") == r.token:
                        return r
        return None

    def attach(self, folder: str) -> Run:
        """Watch the run folder ``folder`` (anywhere); ValueError if it is not a run folder."""
        from axon.runs import RUN_INFO_FILE

        path = Path(str(folder)).expanduser()
        if not path.is_dir():
            raise ValueError(f"folder: no such folder {str(path)!r}")
        if not ((path / RUN_INFO_FILE).is_file() or (path / live.LIVE_FILE).is_file()):
            raise ValueError(f"folder: {str(path)!r} is not a run folder (no run.json or live.jsonl); "
                             f"start the run with axon train --studio")
        with self._lock:
            return self._add_folder(path.resolve(), "attached")

    def _read_info(self, run: Run) -> None:
        from axon.runs import RUN_INFO_FILE, read_json

        if run.path is None:
            return
        with contextlib.suppress(ValueError, OSError):
            info = read_json(run.path / RUN_INFO_FILE)
            run.config = info.get("config", {}) or {}
            if isinstance(run.config.get("epochs"), int):
                run.epochs = run.config["epochs"]

    # -- reading feeds ---------------------------------------------------------------------------
    def poll(self, scan: bool = False) -> None:
        """Read what every run wrote since the last call; find new folders about once a second
        (``scan=True``: now, as the page asks for the list)."""
        now = time.monotonic()
        if scan or now - self._last_scan >= 1.0:
            self._last_scan = now
            self.scan()
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            with self._lock:
                self._update(run)

    def _update(self, run: Run) -> None:
        before = (run.state, run.message, run.paused, run.lr, run.epochs_done,
                  run.path is not None and (run.path / "report.html").is_file())
        if run.path is not None:
            feed = run.path / live.LIVE_FILE
            if feed.is_file():
                events, run.offset = live.read_events(feed, run.offset)
                for e in events:
                    self._apply(run, e)
                run.events.extend(events)
            else:
                self._history_events(run)
        self._derive_state(run)
        after = (run.state, run.message, run.paused, run.lr, run.epochs_done,
                 run.path is not None and (run.path / "report.html").is_file())
        if after != before:
            run.events.append({"type": "state", **run.summary()})

    def _history_events(self, run: Run) -> None:
        """A run without a live feed: its epochs from history.csv, once it is written."""
        from axon.callbacks import CSVLogger
        from axon.runs import HISTORY_FILE

        file = run.path / HISTORY_FILE if run.path else None
        if file is None or not file.is_file():
            return
        stamp = file.stat().st_mtime_ns
        if stamp == run.history_stamp:
            return
        run.history_stamp = stamp
        with contextlib.suppress(ValueError, OSError):
            history = CSVLogger.read(file)
            n = max((len(v) for v in history.values()), default=0)
            run.events.append({"type": "begin", "session": "", "history": history, "epochs": run.epochs,
                               "from_history_csv": True})
            run.epochs_done = n

    @staticmethod
    def _apply(run: Run, e: dict[str, Any]) -> None:
        kind = e.get("type")
        if kind == "begin":
            run.begun, run.ended, run.stopped, run.interrupted, run.paused = True, False, False, False, False
            run.session = str(e.get("session", ""))
            run.pid = e.get("pid") if isinstance(e.get("pid"), int) else None
            run.lr = e.get("lr")
            if isinstance(e.get("epochs"), int):
                run.epochs = e["epochs"]
            hist = e.get("history") or {}
            run.epochs_done = max((len(v) for v in hist.values()), default=0) if isinstance(hist, dict) else 0
        elif kind == "epoch":
            run.epochs_done = int(e.get("epoch", run.epochs_done)) + 1
            lr = (e.get("logs") or {}).get("lr")
            if isinstance(lr, (int, float)):
                run.lr = lr
        elif kind == "control":
            run.paused = bool(e.get("paused"))
            run.lr = e.get("lr", run.lr)
            run.stopped = bool(e.get("stopping")) or run.stopped
        elif kind == "end":
            run.ended = True
            run.stopped = bool(e.get("stopped"))
            run.interrupted = bool(e.get("interrupted"))
            run.paused = False

    def _derive_state(self, run: Run) -> None:
        proc = run.process
        code = proc.poll() if proc is not None else None
        has_report = run.path is not None and (run.path / "report.html").is_file()
        if run.ended:
            # After fit, axon train writes the model, metrics and report, then exits.
            written = has_report or code is not None or (proc is None and not _pid_alive(run.pid))
            if run.stopped:
                run.state = "stopped" if written else "stopping"
            elif run.interrupted:
                run.state = "interrupted"
            else:
                run.state = "finished" if written else "finishing"
            if code not in (None, 0, 130) and not has_report:
                run.state, run.message = "failed", self._last_error(run)
        elif run.begun:
            alive = (code is None) if proc is not None else _pid_alive(run.pid)
            if alive:
                run.state = "stopping" if run.stopped else ("paused" if run.paused else "running")
            else:
                run.state = "failed"
                run.message = self._last_error(run) or "the training process ended before the run finished"
        elif proc is not None:
            if code is None:
                run.state = "starting"
            else:
                run.state, run.message = "failed", self._last_error(run) or f"axon train exited with status {code}"
        elif run.path is not None:
            run.state = "finished" if has_report else ("past" if run.epochs_done else "no feed")

    @staticmethod
    def _last_error(run: Run) -> str | None:
        for line in reversed(run.output):
            if line.startswith("axon: error:") or line.startswith("axon:"):
                return line
        return run.output[-1] if run.output else None

    # -- starting and steering ---------------------------------------------------------------
    def start(self, options: dict[str, Any]) -> Run:
        """Start ``axon train --studio`` with the page's options (checked first; ValueError if bad)."""
        from axon.runs import default_run_name

        cfg = check_options(options)
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        out = self.runs_dir / default_run_name(cfg.get("dataset", "digits"))
        token = secrets.token_hex(8)
        run = Run(f"start-{token}", None, "page")
        run.token, run.config = token, cfg
        if isinstance(cfg.get("epochs"), int):
            run.epochs = cfg["epochs"]
        env = {**os.environ, "AXON_STUDIO_TOKEN": token, "PYTHONUNBUFFERED": "1"}
        # A session of its own: a Ctrl-C in the studio's terminal reaches the studio only, which
        # then sends each of its runs one Ctrl-C (two would stop it before its checkpoint is written).
        run.process = subprocess.Popen(command_for(cfg, out), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, env=env, text=True, encoding="utf-8",
                                       errors="replace", start_new_session=os.name == "posix")
        threading.Thread(target=self._read_output, args=(run,), daemon=True,
                         name=f"axon-train-{token[:6]}").start()
        with self._lock:
            self._runs[run.id] = run
            self._update(run)
        return run

    @staticmethod
    def _read_output(run: Run) -> None:
        if run.process is None or run.process.stdout is None:
            return
        for line in run.process.stdout:
            run.output.append(line.rstrip("\n"))

    def get(self, run_id: str) -> Run | None:
        """The run ``run_id`` (a run started from the page keeps answering to its first id too)."""
        with self._lock:
            run = self._runs.get(run_id)
            if run is None and run_id.startswith("start-"):
                token = run_id[len("start-"):]
                run = next((r for r in self._runs.values() if r.token == token), None)
            return run

    def list(self) -> list[dict[str, Any]]:
        """Every known run, newest first."""
        with self._lock:
            runs = sorted(self._runs.values(), key=lambda r: r.created, reverse=True)
            return [r.summary() for r in runs]

    def control(self, run_id: str, action: str, lr: Any = None) -> Run:
        """Pause, resume or stop a running run, or set its learning rate; ValueError if it cannot be."""
        from axon.cli import config as C

        run = self.get(run_id)
        if run is None:
            raise KeyError(run_id)
        if action not in ("pause", "resume", "stop", "lr"):
            raise ValueError(f"action: {action!r} is not one of pause, resume, stop, lr")
        with self._lock:
            self._update(run)
            if run.path is None or not run.begun or run.ended or run.state in ("failed",):
                raise ValueError(f"the run is {run.state}; only a running run can be paused, resumed, "
                                 f"stopped or given a learning rate")
            new_lr = None
            if action == "lr":
                try:
                    new_lr = C.OPTIONS["lr"][0](str(lr))
                except Exception as e:  # argparse.ArgumentTypeError: the CLI's own message
                    raise ValueError(f"lr: {e}") from None
            paused = {"pause": True, "resume": False}.get(action, run.paused)
            # seq: nanoseconds, so it grows whichever studio (or tab) writes next
            live.write_control(run.path, run.session, time.time_ns(), paused=paused and action != "stop",
                               stop=action == "stop" or run.stopped, lr=new_lr)
            return run

    def shutdown(self, timeout: float = 10.0) -> None:
        """Send Ctrl-C to the runs this studio started and wait for them to write their checkpoints."""
        with self._lock:
            procs = [r.process for r in self._runs.values() if r.process is not None and r.process.poll() is None]
        for p in procs:
            with contextlib.suppress(OSError):
                p.send_signal(signal.SIGINT if os.name == "posix" else signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for p in procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
