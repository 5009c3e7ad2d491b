"""Run folders: where ``axon train`` keeps what a training run produced.

A run folder ``runs/NAME`` holds the model file ``model.axon``, the checkpoint ``checkpoint.axon``
(written every epoch, for ``axon train --resume``), ``run.json`` (the command line, the resolved
configuration and what the data looked like: task, target name, feature names, class names),
``metrics.json`` (the final figures), ``history.csv`` (one row per epoch) and ``report.html``.

A new run never reuses a folder that exists: :func:`new_run_dir` picks ``NAME-2``, ``NAME-3``, ...
instead, so nothing an earlier run wrote is ever overwritten or deleted.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

from axon.io.atomic import atomic_write_text

#: The files of a run folder.
MODEL_FILE = "model.axon"
CHECKPOINT_FILE = "checkpoint.axon"
RUN_INFO_FILE = "run.json"
METRICS_FILE = "metrics.json"
HISTORY_FILE = "history.csv"
REPORT_FILE = "report.html"


def default_run_name(dataset: str) -> str:
    """``<dataset>-<YYYYmmdd-HHMMSS>``, with the characters a folder name should not hold replaced."""
    stem = dataset.split(":", 1)[-1] if dataset.startswith("csv:") else dataset
    stem = Path(stem).stem if dataset.startswith("csv:") else stem
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in stem).strip("-.") or "run"
    return f"{safe}-{time.strftime('%Y%m%d-%H%M%S')}"


def new_run_dir(path: str | os.PathLike) -> Path:
    """Create and return a fresh, empty run folder at ``path``, or at ``path-2``, ``path-3``, ...

    ``os.mkdir`` either creates the folder or fails, so two runs started at once never share one,
    and an existing folder (an earlier run) is never reused: its files stay as they are.
    """
    base = Path(path)
    base.parent.mkdir(parents=True, exist_ok=True)
    for k in range(1, 10_000):
        candidate = base if k == 1 else base.with_name(f"{base.name}-{k}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise ValueError(f"--out: could not find a free folder name next to {base}; choose another --out")


def _clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities become None (JSON has no NaN), NumPy scalars become Python ones."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def write_json(path: str | os.PathLike, data: dict[str, Any]) -> None:
    """Write ``data`` as indented JSON, atomically (NaN and infinities become null)."""
    atomic_write_text(path, json.dumps(_clean(data), indent=2, allow_nan=False) + "\n")


def read_json(path: str | os.PathLike) -> dict[str, Any]:
    """Read a JSON object written by :func:`write_json`; a clear ValueError if it is not one."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e}); was it edited by hand?") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object")
    return data


def find_run_info(model_path: str | os.PathLike) -> dict[str, Any] | None:
    """The ``run.json`` next to a model file (what ``axon train`` wrote), or None if there is none."""
    info = Path(model_path).parent / RUN_INFO_FILE
    if not info.is_file():
        return None
    try:
        return read_json(info)
    except (ValueError, OSError):
        return None
