"""What every demo shares: the result record, figure helpers (matplotlib, imported lazily) and the
explicit training loop of the course."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from axon.data import batches
from axon.losses import Loss
from axon.model import Sequential


@dataclass
class DemoResult:
    """What a demo made: its ``name``, the image ``files`` it wrote, the ``numbers`` behind the
    pictures (plain floats, lists and dicts, JSON-serialisable) and a few lines of ``text`` that
    say what to look at."""

    name: str
    files: list[Path] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)
    text: str = ""

    def __str__(self) -> str:
        files = "\n".join(f"  wrote {f}" for f in self.files)
        return f"{self.text}\n{files}" if files else self.text


def new_figure(nrows: int = 1, ncols: int = 1, size: tuple[float, float] = (6.0, 4.0), **kwargs):
    """A matplotlib Figure and its axes, without pyplot (no GUI backend, no global state)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **kwargs)
    return fig, axes


def save(fig, out_dir: Path, filename: str) -> Path:
    """Write ``fig`` as a PNG into ``out_dir`` (created if needed) and return the path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / filename
    fig.savefig(path, dpi=100)
    return path


def figure_rgb(fig) -> np.ndarray:
    """Render ``fig`` to an (h, w, 3) uint8 array (for animated GIF frames)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def save_gif(frames: list[np.ndarray], path: Path, ms_per_frame: int = 400) -> Path:
    """Write frames (h, w, 3) uint8 as an animated GIF that loops, with Pillow; returns the path."""
    from PIL import Image

    images = [Image.fromarray(f) for f in frames]
    images[0].save(path, save_all=True, append_images=images[1:], duration=ms_per_frame, loop=0)
    return Path(path)


def train_epochs(model: Sequential, loss: Loss, optimizer, X: np.ndarray, y: np.ndarray, *,
                 epochs: int, batch_size: int, rng: np.random.Generator,
                 on_batch: Callable[[int], None] | None = None,
                 on_epoch: Callable[[int, float], bool | None] | None = None) -> list[float]:
    """The explicit loop of the course, epoch by epoch: for each minibatch, forward, loss, backward,
    step. Returns the mean training loss (penalties included) of each epoch.

    ``on_batch(i)`` runs after each backward pass (gradients still in ``.grad``); ``on_epoch(epoch,
    mean_loss)`` after each epoch, and stops training when it returns True.
    """
    losses = []
    for epoch in range(epochs):
        total, count = 0.0, 0
        for i, (xb, yb) in enumerate(batches(X, y, batch_size=batch_size, shuffle=True, seed=rng)):
            assert yb is not None
            value = loss.forward(model.forward(xb, training=True), yb) + model.penalty()
            model.zero_grad()
            model.backward(loss.backward())
            if on_batch is not None:
                on_batch(i)
            optimizer.step()
            total += value * len(xb)
            count += len(xb)
        losses.append(total / count)
        if on_epoch is not None and on_epoch(epoch, losses[-1]):
            break
    return losses


def accuracy(model: Sequential, X: np.ndarray, y: np.ndarray) -> float:
    """Fraction of rows whose largest output is the label."""
    return float(np.mean(model.forward(X).argmax(axis=1) == y))
