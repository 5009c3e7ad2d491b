"""Demo ``overfit``: overfitting and three cures, on a small training subset of the digits.

A 64-256-10 network gets N_TRAIN training digits, a fifth of whose labels were replaced by a
random digit (as real labels are sometimes wrong). It has enough weights to memorise them all,
wrong labels included: its training loss goes towards 0 while the validation loss turns and
climbs. L2 regularisation (weight decay: add l2/2·Σw² to the cost), dropout (train random thinned
networks) and early stopping (stop where the validation loss was lowest and keep those weights)
each keep it from memorising, and the gap between training and validation loss narrows.

The validation digits are N_VAL other digits of the training split (held out, never trained on,
labels untouched); the bundled test digits are not used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from axon.datasets import load_digits
from axon.demos._common import DemoResult, accuracy, new_figure, save, train_epochs
from axon.layers import Dense, Dropout, Layer, ReLU
from axon.losses import SoftmaxCrossEntropy
from axon.model import Sequential
from axon.optim import SGD

#: Training digits (a small subset, so that the network can memorise them).
N_TRAIN = 200
#: Validation digits: other rows of the training split, labels untouched.
N_VAL = 400
#: Fraction of the training labels replaced by a random digit.
LABEL_NOISE = 0.2
#: Hidden units of the 64-HIDDEN-10 network.
HIDDEN = 256
#: Epochs of each variant (early stopping may end its run sooner).
EPOCHS = 150
#: Early stopping's patience (epochs without a better validation loss).
PATIENCE = 10
#: The L2 strength of the "l2" variant.
L2 = 1e-2
#: Dropout on the hidden units in the "dropout" variant.
DROPOUT = 0.5
#: Dropout on the pixels in the "dropout" variant.
INPUT_DROPOUT = 0.2
#: The networks compared: no regularisation and the three cures.
VARIANTS = ("none", "l2", "dropout", "early_stopping")
#: Each variant's title in the figures.
TITLES = {"none": "no regularisation", "l2": f"L2 (l2 = {L2:g})",
          "dropout": f"dropout ({INPUT_DROPOUT:g} inputs, {DROPOUT:g} hidden)",
          "early_stopping": f"early stopping (patience {PATIENCE})"}


def split(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices into the digits' training split: (N_TRAIN training rows, N_VAL validation rows),
    disjoint, drawn by a permutation seeded with ``seed``."""
    n = len(load_digits()[0][0])
    order = np.random.default_rng(seed).permutation(n)
    return order[:N_TRAIN], order[N_TRAIN:N_TRAIN + N_VAL]


def noisy_labels(y: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A copy of ``y`` with a LABEL_NOISE fraction of entries replaced by a random digit (which may
    draw the true one), and the boolean mask of the entries drawn."""
    rng = np.random.default_rng([seed, 1])
    drawn = rng.random(len(y)) < LABEL_NOISE
    noisy = y.copy()
    noisy[drawn] = rng.integers(0, 10, int(drawn.sum()))
    return noisy, drawn


def _model(variant: str, rng: np.random.Generator) -> Sequential:
    l2 = L2 if variant == "l2" else 0.0
    layers: list[Layer] = []
    if variant == "dropout":
        layers.append(Dropout(INPUT_DROPOUT, seed=np.random.default_rng(rng.integers(2**32))))
    layers += [Dense(64, HIDDEN, init="he", l2=l2, seed=rng), ReLU()]
    if variant == "dropout":
        layers.append(Dropout(DROPOUT, seed=np.random.default_rng(rng.integers(2**32))))
    layers.append(Dense(HIDDEN, 10, l2=l2, seed=rng))
    return Sequential(*layers)


def run(out_dir: Path, seed: int = 0) -> DemoResult:
    """Train the same net four ways; plot training and validation loss per epoch, the gap shaded.

    The curves are the cross-entropy alone (no L2 term) measured in inference mode after each
    epoch, the training one against the (noisy) labels trained on. Numbers per variant: the final
    (for early stopping: restored-best) training and validation loss and accuracy, their gap, the
    epochs run, the best epoch and the lowest validation loss.
    """
    (X_all, y_all), _ = load_digits()
    train_rows, val_rows = split(seed)
    X, Xv, yv = X_all[train_rows], X_all[val_rows], y_all[val_rows]
    y, drawn = noisy_labels(y_all[train_rows], seed)
    loss = SoftmaxCrossEntropy()
    curves, final = {}, {}
    for variant in VARIANTS:
        rng = np.random.default_rng(seed)
        model = _model(variant, rng)
        opt = SGD(model.parameters(), lr=0.05, momentum=0.9)
        train: list[float] = []
        val: list[float] = []
        best: dict[str, Any] = {"loss": np.inf, "epoch": 0, "weights": None}

        def on_epoch(epoch, _train_loss, model=model, train=train, val=val, best=best, variant=variant):
            # the data term alone (no penalty, inference mode), so the four variants compare
            train.append(loss.forward(model.forward(X), y))
            val.append(loss.forward(model.forward(Xv), yv))
            if val[-1] < best["loss"]:
                best.update(loss=val[-1], epoch=epoch, weights=[p.data.copy() for p in model.parameters()])
            return variant == "early_stopping" and epoch - best["epoch"] >= PATIENCE

        train_epochs(model, loss, opt, X, y, epochs=EPOCHS, batch_size=32, rng=rng, on_epoch=on_epoch)
        if variant == "early_stopping":  # restore the weights of the best validation loss
            for p, w in zip(model.parameters(), best["weights"]):
                p.data[...] = w
        curves[variant] = {"train_loss": train, "val_loss": val}
        t_loss, v_loss = loss.forward(model.forward(X), y), loss.forward(model.forward(Xv), yv)
        final[variant] = {"train_loss": t_loss, "val_loss": v_loss, "gap": v_loss - t_loss,
                          "train_accuracy": accuracy(model, X, y), "val_accuracy": accuracy(model, Xv, yv),
                          "epochs": len(train), "best_epoch": best["epoch"] + 1,
                          "min_val_loss": float(min(val))}
    fig, axes = new_figure(1, len(VARIANTS), size=(4 * len(VARIANTS), 4.0), sharey=True)
    for ax, variant in zip(axes[0], VARIANTS):
        c, f = curves[variant], final[variant]
        epochs = np.arange(1, len(c["train_loss"]) + 1)
        ax.fill_between(epochs, c["train_loss"], c["val_loss"], color="crimson", alpha=0.12, lw=0)
        ax.plot(epochs, c["train_loss"], color="navy", label="training")
        ax.plot(epochs, c["val_loss"], color="crimson", label="validation")
        if variant == "early_stopping":
            ax.axvline(f["best_epoch"], color="0.4", ls="--", label="best (restored)")
        ax.set(title=TITLES[variant], xlabel="epoch", xlim=(0, EPOCHS))
        ax.text(0.97, 0.97, f"gap {f['gap']:.2f}\nval acc {f['val_accuracy']:.3f}", transform=ax.transAxes,
                ha="right", va="top", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="center right")
    axes[0, 0].set_ylabel("cross-entropy (without penalty)")
    fig.suptitle(f"64-{HIDDEN}-10 ReLU net on {N_TRAIN} training digits ({LABEL_NOISE:.0%} of labels random); "
                 f"validation: {N_VAL} held-out training digits; shaded: the gap")
    files = [save(fig, out_dir, "overfit.png")]
    text = (f"overfit: {N_TRAIN} training digits ({int(drawn.sum())} labels redrawn at random), {N_VAL} "
            f"held-out validation digits, {EPOCHS} epochs at most.\n"
            + "\n".join(f"  {v:>14}: train loss {f['train_loss']:.3f}, val loss {f['val_loss']:.3f}, "
                        f"gap {f['gap']:.3f}, val accuracy {f['val_accuracy']:.3f} ({f['epochs']} epochs)"
                        for v, f in final.items()))
    return DemoResult("overfit", files, {"final": final, "curves": curves, "n_train": N_TRAIN, "n_val": N_VAL,
                                         "label_noise": LABEL_NOISE, "l2": L2, "dropout": DROPOUT,
                                         "input_dropout": INPUT_DROPOUT, "patience": PATIENCE}, text)
