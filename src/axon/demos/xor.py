"""Demo ``xor``: the 3-4-1 sigmoid network of "A Neural Network in 11 lines of Python" (Trask).

The inputs' third column is a constant 1 that plays the bias, so the layers have no bias of their
own; weights start uniform in [−1, 1). The cost is MSE and each of the 1,500 steps is one
full-batch gradient-descent update. A single layer cannot learn XOR (it is not linearly separable);
one hidden layer can.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from axon.demos._common import DemoResult, new_figure, save
from axon.layers import Dense, Sigmoid
from axon.losses import MSE
from axon.model import Sequential
from axon.optim import SGD

X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=np.float64)
Y = np.array([[0], [1], [1], [0]], dtype=np.float64)
STEPS = 1500
#: MSE averages over the 4 samples and has the factor 2 of d(e²)/de: lr 2 equals the article's
#: step of 1 on ½ Σ (a − y)².
LR = 2.0


def _uniform(shape, rng, dtype=np.float64):
    return (2 * rng.random(shape) - 1).astype(dtype)


def run(out_dir: Path, seed: int = 0) -> DemoResult:
    """Train the 3-4-1 net on the XOR table; plot the loss per step and the final predictions."""
    rng = np.random.default_rng(seed)
    model = Sequential(Dense(3, 4, init=_uniform, bias=False, dtype="float64", seed=rng), Sigmoid(),
                       Dense(4, 1, init=_uniform, bias=False, dtype="float64", seed=rng), Sigmoid())
    loss = MSE()
    opt = SGD(model.parameters(), lr=LR)
    history = []
    for _ in range(STEPS):
        history.append(loss.forward(model.forward(X), Y))
        model.zero_grad()
        model.backward(loss.backward())
        opt.step()
    pred = model.forward(X)[:, 0]
    fig, axes = new_figure(1, 2, size=(10, 4))
    ax_loss, ax_pred = axes[0]
    ax_loss.plot(history, color="navy")
    ax_loss.set(xlabel="step (full batch)", ylabel="MSE", yscale="log", title="Loss per iteration")
    labels = ["".join(str(int(v)) for v in row[:2]) for row in X]
    ax_pred.bar(np.arange(4) - 0.2, Y[:, 0], width=0.4, color="0.7", label="target")
    ax_pred.bar(np.arange(4) + 0.2, pred, width=0.4, color="crimson", label="prediction")
    ax_pred.set_xticks(np.arange(4), [f"x={s}" for s in labels])
    ax_pred.set(ylim=(0, 1.05), title="Final predictions")
    ax_pred.legend()
    files = [save(fig, out_dir, "xor.png")]
    text = (f"xor: 3-4-1 sigmoid net, MSE, {STEPS} full-batch steps, lr {LR}.\n"
            f"  loss {history[0]:.4f} -> {history[-1]:.5f}; predictions "
            + ", ".join(f"{s}: {p:.3f}" for s, p in zip(labels, pred)))
    return DemoResult("xor", files, {"loss": [float(v) for v in history], "predictions": pred.tolist(),
                                     "targets": Y[:, 0].tolist(), "final_loss": float(history[-1])}, text)
