"""A small CNN on the bundled 8×8 digits, with the explicit training loop and 1-pixel shifts.

The 1,438 training images are few, so two things beyond the plain loop help a CNN generalise:

- data augmentation: every epoch each image is shifted by a random -1, 0 or +1 pixel in each
  direction (the empty border filled with 0, the background), so the network sees the digits at
  slightly different places;
- BatchNorm after each convolution, dropout after the dense layer, AdamW's decoupled weight decay
  and a cosine learning-rate decay to 0.

Network (``build_model(SPEC, (1, 8, 8), 10, kind="cnn", dropout=0.3)``)::

    conv 32@3×3 → BN → ReLU → conv 32@3×3 → BN → ReLU → maxpool 2 (8×8 → 4×4)
    → conv 64@3×3 → BN → ReLU → flatten 1024 → 128 → ReLU → dropout → 10

    python examples/digits_cnn.py [--epochs 20] [--seed 0]

Test accuracy over seeds 0-4 (AMD EPYC, 2 cores): 0.9916, 0.9889, 0.9944, 0.9777, 0.9861, a mean of
0.988 (3 to 8 of the 359 test digits wrong); the test holds the recipe to a mean of at least 0.98 and
no seed below 0.97. The last digit of each figure moves with the CPU's rounding.

``train`` is importable (the tests use it).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import axon as ax
from axon.architectures import build_model

SPEC = "conv32x3,bn,conv32x3,bn,maxpool2,conv64x3,bn,128"


def random_shifts(X: np.ndarray, rng: np.random.Generator, max_shift: int = 1) -> np.ndarray:
    """Shift every image of X (N, C, H, W) by its own random offset in [-max_shift, max_shift]².

    Vectorised per offset: a zero-padded copy is cut at each of the (2·max_shift + 1)² offsets
    for the images drawn to it. Returns a new array of X's shape and dtype.
    """
    N, C, H, W = X.shape
    m = max_shift
    padded = np.pad(X, ((0, 0), (0, 0), (m, m), (m, m)))
    out = np.empty_like(X)
    di, dj = rng.integers(0, 2 * m + 1, N), rng.integers(0, 2 * m + 1, N)
    for i in range(2 * m + 1):
        for j in range(2 * m + 1):
            sel = (di == i) & (dj == j)
            out[sel] = padded[sel, :, i:i + H, j:j + W]
    return out


def train(seed: int = 0, epochs: int = 20, lr: float = 3e-3, batch_size: int = 32,
          dropout: float = 0.3, weight_decay: float = 0.05, augment: bool = True,
          verbose: bool = False) -> tuple[ax.Sequential, float]:
    """Train the digits CNN; returns ``(model, test accuracy)``."""
    (X, y), (X_test, y_test) = ax.datasets.load_digits(flatten=False)   # (n, 1, 8, 8) in [0, 1]
    ax.set_seed(seed)                      # initial weights and dropout masks
    rng = np.random.default_rng(seed)      # shuffling and shifts
    model = build_model(SPEC, (1, 8, 8), 10, kind="cnn", dropout=dropout)
    loss = ax.losses.SoftmaxCrossEntropy()
    opt = ax.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    schedule = ax.optim.CosineDecay(lr, epochs)
    for epoch in range(epochs):
        opt.lr = schedule(epoch)
        X_epoch = random_shifts(X, rng) if augment else X
        total = 0.0
        for xb, yb in ax.data.batches(X_epoch, y, batch_size, shuffle=True, seed=rng):
            total += loss.forward(model.forward(xb, training=True), yb) * len(xb)
            model.zero_grad()
            model.backward(loss.backward())
            opt.step()
        if verbose:
            print(f"epoch {epoch + 1:2d}/{epochs}  lr {opt.lr:.5f}  loss {total / len(X):.4f}")
    accuracy = float((model.forward(X_test).argmax(axis=1) == y_test).mean())
    return model, accuracy


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train a small CNN on the bundled 8x8 digits.")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    model, accuracy = train(args.seed, args.epochs, verbose=True)
    print(model.summary())
    errors = round((1 - accuracy) * 359)
    print(f"test accuracy {accuracy:.4f} ({errors} of 359 wrong) in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
