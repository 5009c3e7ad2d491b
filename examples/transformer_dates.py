"""A small transformer encoder that reads a date written in any of nine formats and says its month.

"September 27, 1994", "27 SEP 1994", "9/27/94", "27.09.1994", "Tuesday, September 27, 1994", …
(``make_dates``): the month is a word in some formats and a number in others, first in "9/27/94"
and in the middle in "27.09.1994", so the model has to read characters in context: which number
is the month depends on the separators around it. That is what self-attention does: every
character looks at every other one. The strings are 7 to 29 characters long; the batches are
padded at the end with id 0, and ``Embedding(padding_idx=0)`` hands the padding mask to the
attention layers (which ignore the padded keys) and to the final masked mean::

    Embedding(61, 64, padding_idx=0) → PositionalEncoding(64)
    → 2 × [Residual(LayerNorm → MultiHeadSelfAttention(64, 4 heads)),
           Residual(LayerNorm → Dense(64, 128) → ReLU → Dense(128, 64))]
    → LayerNorm → GlobalAvgPool1D(channels_last=True) (mean over the real steps) → Dense(64, 12)

trained with ``model.fit`` (integer ids go in as they are), softmax cross-entropy, AdamW with a
cosine decay, on 8,000 generated dates, tested on 2,000 others.

Measured (``python examples/transformer_dates.py``, 5 epochs, one BLAS thread, the 2-core AMD EPYC
of this project): test accuracy 1.0000 (no error in 2,000) for seeds 0, 1 and 2; 24 s when the
machine was quiet, 64-83 s while other jobs kept its load average at 7-9. A bag of characters
(``--no-attention``: the same model without PositionalEncoding and the blocks) gets 0.8415: right
for the spelled-out months, guessing between the numeric formats.

    python examples/transformer_dates.py [--epochs 12] [--seed 0]

``train`` is importable (the tests use it).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

import axon as ax


def month_labels(pairs: ax.datasets.TextPairs) -> np.ndarray:
    """0-based month of each answer "YYYY-MM-DD"."""
    return np.array([int(a[5:7]) - 1 for a in pairs.answers], dtype=np.int64)


def encoder_block(d: int, heads: int, hidden: int) -> list[ax.Layer]:
    """A pre-norm transformer encoder block: attention and a feed-forward net, each around a skip."""
    return [ax.Residual(ax.Sequential(ax.LayerNorm(d), ax.MultiHeadSelfAttention(d, heads))),
            ax.Residual(ax.Sequential(ax.LayerNorm(d), ax.Dense(d, hidden, init="he"), ax.ReLU(),
                                      ax.Dense(hidden, d)))]


def build(vocab: int, steps: int, d: int = 32, heads: int = 2, layers: int = 2, classes: int = 12,
          attention: bool = True) -> ax.Sequential:
    """The classifier; ``attention=False`` leaves out positions and blocks (a bag of characters)."""
    body: list[ax.Layer] = [ax.PositionalEncoding(d)] if attention else []
    for _ in range(layers if attention else 0):
        body += encoder_block(d, heads, 2 * d)
    return ax.Sequential(ax.Embedding(vocab, d, padding_idx=0), *body, ax.LayerNorm(d),
                         ax.GlobalAvgPool1D(channels_last=True), ax.Dense(d, classes), input_shape=(steps,))


def train(seed: int = 0, epochs: int = 5, n_train: int = 8000, n_test: int = 2000, attention: bool = True,
          verbose: int = 0) -> tuple[ax.Sequential, float]:
    """Train on generated dates; returns ``(model, test accuracy)``."""
    data = ax.datasets.make_dates(n_train + n_test, seed=seed)
    X, y = data.X, month_labels(data)
    ax.set_seed(seed)
    model = build(len(data.vocab), X.shape[1], attention=attention)
    opt = ax.optim.AdamW(lr=3e-3, weight_decay=0.01)
    model.compile("cross_entropy", opt, metrics=["accuracy"])
    schedule = ax.callbacks.LearningRateScheduler(ax.optim.schedules.CosineDecay(3e-3, epochs))
    model.fit(X[:n_train], y[:n_train], epochs=epochs, batch_size=64, seed=seed, verbose=verbose,
              callbacks=[schedule])
    return model, model.evaluate(X[n_train:], y[n_train:])["accuracy"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-attention", action="store_true", help="the bag-of-characters baseline")
    args = parser.parse_args()
    start = time.perf_counter()
    with threadpool_limits(limits=1, user_api="blas"):  # small products: one thread, as `axon train`
        model, acc = train(args.seed, args.epochs, attention=not args.no_attention, verbose=2)
    print(model.summary())
    print(f"test accuracy {acc:.4f} ({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
