"""Demo ``overfit``: overfitting and three cures, on a small training subset of the digits.

With only a hundred training images, a 64-100-10 network drives its training loss
towards 0 while the validation loss turns and climbs: it memorises the training set. L2
regularisation (weight decay: add l2/2·Σw² to the cost), dropout (train random thinned networks)
and early stopping (stop where the validation loss was lowest and keep those weights) each narrow
the gap between training and validation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from axon.datasets import load_digits
from axon.demos._common import DemoResult, accuracy, new_figure, save, train_epochs
from axon.layers import Dense, Dropout, ReLU
from axon.losses import SoftmaxCrossEntropy
from axon.model import Sequential
from axon.optim import SGD

N_TRAIN = 100
EPOCHS = 200
PATIENCE = 10
L2 = 3e-3
DROPOUT = 0.5
VARIANTS = ("none", "l2", "dropout", "early_stopping")


def _model(variant: str, rng: np.random.Generator) -> Sequential:
    l2 = L2 if variant == "l2" else 0.0
    layers = [Dense(64, 100, init="he", l2=l2, seed=rng), ReLU()]
    if variant == "dropout":
        layers.append(Dropout(DROPOUT, seed=np.random.default_rng(rng.integers(2**32))))
    layers.append(Dense(100, 10, l2=l2, seed=rng))
    return Sequential(*layers)


def run(out_dir: Path, seed: int = 0) -> DemoResult:
    """Train the same net four ways on N_TRAIN digits; plot training and validation loss per epoch.

    The validation set is the bundled test split. The curves are the cross-entropy alone (no L2
    term) measured in inference mode after each epoch. Numbers per variant: the final (for early
    stopping: restored-best) training and validation loss and accuracy, the epochs run, the best
    epoch and the lowest validation loss.
    """
    (X, y), (Xv, yv) = load_digits()
    pick = np.random.default_rng(seed).permutation(len(X))[:N_TRAIN]
    X, y = X[pick], y[pick]
    loss = SoftmaxCrossEntropy()
    curves, final = {}, {}
    for variant in VARIANTS:
        rng = np.random.default_rng(seed)
        model = _model(variant, rng)
        opt = SGD(model.parameters(), lr=0.05, momentum=0.9)
        train: list[float] = []
        val: list[float] = []
        best = {"loss": np.inf, "epoch": 0, "weights": None}

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
        final[variant] = {"train_loss": loss.forward(model.forward(X), y), "val_loss": loss.forward(model.forward(Xv), yv),
                          "train_accuracy": accuracy(model, X, y), "val_accuracy": accuracy(model, Xv, yv),
                          "epochs": len(train), "best_epoch": best["epoch"] + 1,
                          "min_val_loss": float(min(val))}
    fig, axes = new_figure(1, len(VARIANTS), size=(4 * len(VARIANTS), 3.8), sharey=True)
    for ax, variant in zip(axes[0], VARIANTS):
        c = curves[variant]
        epochs = np.arange(1, len(c["train_loss"]) + 1)
        ax.plot(epochs, c["train_loss"], color="navy", label="training")
        ax.plot(epochs, c["val_loss"], color="crimson", label="validation")
        if variant == "early_stopping":
            ax.axvline(final[variant]["best_epoch"], color="0.4", ls="--", label="best (restored)")
        ax.set(title=f"{variant}: val acc {final[variant]['val_accuracy']:.3f}", xlabel="epoch", yscale="log")
        ax.legend(fontsize=8)
    axes[0, 0].set_ylabel("cross-entropy (without penalty)")
    fig.suptitle(f"64-100-10 ReLU net on {N_TRAIN} training digits; validation: {len(Xv)} test digits")
    files = [save(fig, out_dir, "overfit.png")]
    text = (f"overfit: {N_TRAIN} training digits, {EPOCHS} epochs at most.\n"
            + "\n".join(f"  {v:>14}: train loss {f['train_loss']:.3f}, val loss {f['val_loss']:.3f}, "
                        f"val accuracy {f['val_accuracy']:.3f} ({f['epochs']} epochs)" for v, f in final.items()))
    return DemoResult("overfit", files, {"final": final, "curves": curves, "n_train": N_TRAIN,
                                         "l2": L2, "dropout": DROPOUT, "patience": PATIENCE}, text)
