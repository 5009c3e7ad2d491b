"""Demo ``boundary``: how a network's decision boundary takes shape during training, on xor,
moons and spirals. A linear model could only draw a straight line; two hidden tanh layers bend it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from axon.datasets import make_moons, make_spirals, make_xor
from axon.demos._common import DemoResult, accuracy, figure_rgb, new_figure, save, save_gif, train_epochs
from axon.layers import Dense, Tanh
from axon.losses import SoftmaxCrossEntropy
from axon.model import Sequential
from axon.optim import SGD

EPOCHS = 300
SNAPSHOTS = (0, 5, 25, 100, 300)  # epochs shown in the grid (0 = before training)
GIF_EVERY = 20


def problems(seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The three problems, float32 inputs (n, 2) and int64 labels (n,): xor (200 points), moons
    (200) and two spirals (300), each with its own noise."""
    return {"xor": make_xor(200, noise=0.15, seed=seed, dtype=np.float32),
            "moons": make_moons(200, noise=0.15, seed=seed, dtype=np.float32),
            "spirals": make_spirals(300, n_classes=2, noise=0.1, seed=seed, dtype=np.float32)}


def _grid(X: np.ndarray, steps: int = 120) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lo, hi = X.min(axis=0) - 0.5, X.max(axis=0) + 0.5
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], steps), np.linspace(lo[1], hi[1], steps))
    return gx, gy, np.c_[gx.ravel(), gy.ravel()].astype(np.float32)


def _draw(ax, model: Sequential, X, y, grid, title: str) -> None:
    gx, gy, pts = grid
    proba = SoftmaxCrossEntropy().link(model.forward(pts))
    ax.contourf(gx, gy, proba[:, 1].reshape(gx.shape), levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
    ax.contour(gx, gy, proba[:, 1].reshape(gx.shape), levels=[0.5], colors="k", linewidths=1)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", s=8, edgecolors="k", linewidths=0.3)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


def run(out_dir: Path, seed: int = 0) -> DemoResult:
    """Train a 2-32-32-2 tanh net on each problem; a grid of boundary snapshots (rows: problems,
    columns: epochs) and an animated GIF (one frame every GIF_EVERY epochs). Numbers: training accuracy at
    each snapshot per problem."""
    rng = np.random.default_rng(seed)
    data = problems(seed)
    models: dict[str, Sequential] = {}
    states: dict[str, tuple[SGD, np.random.Generator]] = {}
    for name in data:
        models[name] = Sequential(Dense(2, 32, seed=rng), Tanh(), Dense(32, 32, seed=rng), Tanh(), Dense(32, 2, seed=rng))
        states[name] = (SGD(models[name].parameters(), lr=0.05, momentum=0.9), np.random.default_rng([seed, len(states)]))
    grids = {name: _grid(X) for name, (X, _) in data.items()}
    fig, axes = new_figure(len(data), len(SNAPSHOTS), size=(2.6 * len(SNAPSHOTS), 2.6 * len(data)))
    snapshot_acc: dict[str, list[float]] = {name: [] for name in data}
    frames = []
    loss = SoftmaxCrossEntropy()
    for epoch in range(EPOCHS + 1):
        if epoch:
            for name, (X, y) in data.items():
                opt, order_rng = states[name]
                train_epochs(models[name], loss, opt, X, y, epochs=1, batch_size=32, rng=order_rng)
        if epoch in SNAPSHOTS:
            col = SNAPSHOTS.index(epoch)
            for row, (name, (X, y)) in enumerate(data.items()):
                acc = accuracy(models[name], X, y)
                snapshot_acc[name].append(acc)
                _draw(axes[row, col], models[name], X, y, grids[name], f"{name}, epoch {epoch}: acc {acc:.2f}")
        if epoch % GIF_EVERY == 0:
            frame, frame_axes = new_figure(1, len(data), size=(3 * len(data), 3.2))
            for ax, (name, (X, y)) in zip(frame_axes[0], data.items()):
                _draw(ax, models[name], X, y, grids[name], f"{name}, epoch {epoch}")
            frames.append(figure_rgb(frame))
    fig.suptitle("Decision boundary (black line: p = 0.5) as training goes on")
    files = [save(fig, out_dir, "boundary.png"), save_gif(frames, Path(out_dir) / "boundary.gif")]
    text = ("boundary: a 2-32-32-2 tanh net per problem, SGD with momentum.\n"
            + "\n".join(f"  {name:>7}: training accuracy at epochs {list(SNAPSHOTS)}: "
                        + ", ".join(f"{a:.2f}" for a in accs) for name, accs in snapshot_acc.items()))
    return DemoResult("boundary", files, {"snapshots": list(SNAPSHOTS), "accuracy": snapshot_acc}, text)
