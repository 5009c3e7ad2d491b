"""Nielsen's chapter-3 network on the bundled 8×8 digits, and what the choice of cost does to it.

The book's set-up (*Neural Networks and Deep Learning*, chapter 3, ``network2.py``): sigmoid
neurons, 30 hidden, the cross-entropy cost, weights N(0, 1/n_in) and biases N(0, 1), mini-batches
of 10, η = 0.5, L2 with λ = 5.0, 30 epochs. On the 1,438 training digits of axon that is::

    Dense(64, 30, init="lecun", bias_init="standard_normal", l2=λ/n) → Sigmoid
    → Dense(30, 10, init="lecun", bias_init="standard_normal", l2=λ/n)
    loss CrossEntropyCost() (σ applied by the loss), SGD(lr=η), batch_size 10, one-hot targets

It trains three variants and prints the best and the final test accuracy of each, over seeds:

- ``CrossEntropyCost``, lr = η, l2 = λ/n: the book as written;
- ``BinaryCrossEntropy``, lr = η, l2 = λ/n: the mean over the 10 outputs as well, which is the
  book's rule with η/10 and 10·λ;
- ``BinaryCrossEntropy``, lr = 10·η, l2 = λ/(10·n): the conversion that makes it the book again.

    python examples/nielsen_chapter3.py [--epochs 30] [--seeds 10]

``train`` is importable (the tests use it).
"""

from __future__ import annotations

import argparse

import numpy as np

import axon as ax

ETA, LAMBDA, BATCH, HIDDEN, K = 0.5, 5.0, 10, 30, 10


def train(loss: ax.losses.Loss, lr: float, l2: float, seed: int, epochs: int = 30) -> list[float]:
    """Train the chapter-3 network once; returns the test accuracy after each epoch."""
    (X, y), (X_test, y_test) = ax.datasets.load_digits()
    rng = np.random.default_rng(seed)
    model = ax.Sequential(
        ax.Dense(64, HIDDEN, init="lecun", bias_init="standard_normal", l2=l2, seed=rng), ax.Sigmoid(),
        ax.Dense(HIDDEN, K, init="lecun", bias_init="standard_normal", l2=l2, seed=rng))
    model.compile(loss=loss, optimizer=ax.optim.SGD(lr=lr), metrics=["accuracy"])
    history = model.fit(X, np.eye(K)[y], epochs=epochs, batch_size=BATCH, seed=seed, verbose=0,
                        validation_data=(X_test, np.eye(K)[y_test]))
    return history.history["val_accuracy"]


def variants(n: int) -> dict[str, tuple[ax.losses.Loss, float, float]]:
    """name: (loss, lr, l2) for a training set of n samples."""
    return {
        "CrossEntropyCost, lr = η, l2 = λ/n (the book)": (ax.losses.CrossEntropyCost(), ETA, LAMBDA / n),
        "BinaryCrossEntropy, lr = η, l2 = λ/n": (ax.losses.BinaryCrossEntropy(), ETA, LAMBDA / n),
        "BinaryCrossEntropy, lr = 10η, l2 = λ/(10n)": (ax.losses.BinaryCrossEntropy(), K * ETA, LAMBDA / (K * n)),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args(argv)
    n = len(ax.datasets.load_digits()[0][0])
    print(f"64-30-10 sigmoid, η = {ETA}, λ = {LAMBDA}, n = {n}, mini-batch {BATCH}, {args.epochs} epochs, "
          f"{args.seeds} seeds: test accuracy, mean ± std over seeds")
    for name, (loss, lr, l2) in variants(n).items():
        runs = np.array([train(loss, lr, l2, seed, args.epochs) for seed in range(args.seeds)])
        best, final = runs.max(axis=1), runs[:, -1]
        print(f"  {name:<46} best {best.mean():.4f} ± {best.std():.4f}   final {final.mean():.4f} ± {final.std():.4f}")


if __name__ == "__main__":
    main()
