"""Character-level seq2seq with attention: rewrite any date as ISO 8601 ("Deep Learning from Scratch" 2, ch. 8).

"Tuesday, September 27, 1994", "9/27/94", "27 SEP 1994" → "1994-09-27" (``make_dates``: nine
formats, 7 to 29 characters, padded at the end with id 0). The model is the book's attention
seq2seq, built from axon's layers and the attention functions, with the explicit loop::

    encoder   Embedding(61, 16, padding_idx=0) → LSTM(16, H) over the question: states hs (N, Tq, H)
    decoder   Embedding(61, 16) → LSTM(16, H) over "_" + answer, starting from the encoder's last state
    attention every decoder state asks the encoder states: context = softmax(hd·hsᵀ/√H)·hs,
              padded question characters masked out
    output    Dense(2H, 61) on [context, hd] → the next character

Training is teacher forcing (the decoder reads the right answer shifted by one) with softmax
cross-entropy over every answer character; backward runs the same path in reverse: the output
layer, :func:`axon.layers.attention.attention_backward`, the decoder (whose
``grad_initial_state`` is the gradient of the encoder's final state), then the encoder with
``backward(grad, grad_state=...)``. Testing is greedy decoding, one character at a time from "_",
on 2,000 dates never seen in training; a date counts only when all 10 characters are right.

Measured (``python examples/seq2seq_dates.py``, H = 64, 20,000 training dates, 3 epochs, one BLAS
thread, the 2-core AMD EPYC of this project): exact match on the 2,000 held-out dates 0.9955 for
seed 0 (0.63 after epoch 1, 0.97 after epoch 2), 0.9985 and 0.9965 for seeds 1 and 2; 37 s of CPU
time (95 s wall, up to 160 s, while other jobs kept the machine's load average at 7-9).
``print_alignment`` shows where the decoder looked: for "2/20/83" the year's characters attend to
the "3" at the end, the month's and the day's to the slashes around them.

    python examples/seq2seq_dates.py [--epochs 3] [--hidden 64] [--seed 0]

``train`` is importable (the tests use it).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

import axon as ax
from axon.layers.attention import attention, attention_backward


class AttentionSeq2seq:
    """Encoder LSTM, decoder LSTM started from its state, dot-product attention, a Dense on top."""

    def __init__(self, vocab: int, embed: int = 16, hidden: int = 64) -> None:
        self.enc_embed = ax.Embedding(vocab, embed, padding_idx=0, name="enc_embed")
        self.encoder = ax.LSTM(embed, hidden, return_sequences=True, name="encoder")
        self.dec_embed = ax.Embedding(vocab, embed, name="dec_embed")
        self.decoder = ax.LSTM(embed, hidden, return_sequences=True, name="decoder")
        self.out = ax.Dense(2 * hidden, vocab, name="out")
        self.layers = [self.enc_embed, self.encoder, self.dec_embed, self.decoder, self.out]

    def parameters(self) -> list[ax.Parameter]:
        return [p for layer in self.layers for p in layer.parameters()]

    def zero_grad(self) -> None:
        for layer in self.layers:
            layer.zero_grad()

    def encode(self, X: np.ndarray, training: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Encoder states (N, Tq, H) (0 at padding) and the mask of real question characters."""
        mask = X != 0
        return self.encoder.forward(self.enc_embed.forward(X), training, mask=mask), mask

    def _attend_and_output(self, hd: np.ndarray) -> np.ndarray:
        context, self._weights = attention(hd, self._hs, self._hs, self._mask[:, None, :])
        return self.out.forward(np.concatenate([context, hd], axis=-1))

    def forward(self, X: np.ndarray, Y_in: np.ndarray, training: bool = False) -> np.ndarray:
        """Logits (N, Ta, vocab) for the next character after each of ``Y_in`` (teacher forcing)."""
        self._hs, self._mask = self.encode(X, training)
        self._hd = self.decoder.forward(self.dec_embed.forward(Y_in), training, initial_state=self.encoder.state)
        return self._attend_and_output(self._hd)

    def backward(self, grad_logits: np.ndarray) -> None:
        H = self._hd.shape[-1]
        d_cat = self.out.backward(grad_logits)
        d_context, d_hd = d_cat[..., :H], d_cat[..., H:]
        d_query, d_keys, d_values = attention_backward(d_context, self._hd, self._hs, self._hs, self._weights)
        self.dec_embed.backward_params(self.decoder.backward(d_hd + d_query))
        self.enc_embed.backward_params(self.encoder.backward(d_keys + d_values,
                                                             grad_state=self.decoder.grad_initial_state))

    def generate(self, X: np.ndarray, start: int, length: int) -> np.ndarray:
        """Greedy decoding: (N, length) ids, each step fed the character it just chose."""
        self._hs, self._mask = self.encode(X)
        state = self.encoder.state
        y = np.full(len(X), start, dtype=np.int64)
        out = np.empty((len(X), length), dtype=np.int64)
        self.alignment = []
        for t in range(length):
            hd = self.decoder.forward(self.dec_embed.forward(y[:, None]), initial_state=state)
            state = self.decoder.state
            y = out[:, t] = self._attend_and_output(hd)[:, 0].argmax(axis=-1)
            self.alignment.append(self._weights[:, 0])
        return out


def exact_match(model: AttentionSeq2seq, data: ax.datasets.TextPairs, rows: slice) -> float:
    """Fraction of questions whose whole generated answer is right."""
    start = data.Y[0, 0]
    guesses = data.vocab.decode(model.generate(data.X[rows], start, data.Y.shape[1] - 1))
    return float(np.mean([g.strip() == a for g, a in zip(guesses, data.answers[rows])]))


def char_accuracy(model: AttentionSeq2seq, data: ax.datasets.TextPairs, rows: slice) -> float:
    """Fraction of answer characters predicted right when the decoder reads the true ones (teacher forcing)."""
    Y = data.Y[rows]
    return float(np.mean(model.forward(data.X[rows], Y[:, :-1]).argmax(axis=-1) == Y[:, 1:]))


def print_alignment(model: AttentionSeq2seq, data: ax.datasets.TextPairs, i: int) -> None:
    """For question i, the question character each answer character attended to most."""
    question = data.questions[i]
    answer = data.vocab.decode(model.generate(data.X[i:i + 1], data.Y[0, 0], data.Y.shape[1] - 1))[0]
    print(f"{question!r} -> {answer!r}")
    for ch, w in zip(answer, model.alignment):
        j = int(w[0].argmax())
        print(f"  {ch!r} looked at {question[j]!r} (position {j}, weight {w[0, j]:.2f})")


def train(seed: int = 0, epochs: int = 3, hidden: int = 64, n_train: int = 20000, n_test: int = 2000,
          batch_size: int = 64, lr: float = 5e-3, verbose: bool = False) -> tuple[AttentionSeq2seq, list[float]]:
    """Train on generated dates; returns ``(model, exact match on the held-out dates after each epoch)``."""
    data = ax.datasets.make_dates(n_train + n_test, seed=seed)
    ax.set_seed(seed)
    model = AttentionSeq2seq(len(data.vocab), hidden=hidden)
    loss = ax.losses.SoftmaxCrossEntropy()
    opt = ax.optim.Adam(model.parameters(), lr=lr, clip_norm=5.0)
    V = len(data.vocab)
    test = slice(n_train, n_train + n_test)
    scores = []
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        start, total, count = time.perf_counter(), 0.0, 0
        for xb, yb in ax.data.batches(data.X[:n_train], data.Y[:n_train], batch_size, seed=rng):
            logits = model.forward(xb, yb[:, :-1], training=True)
            total += loss.forward(logits.reshape(-1, V), yb[:, 1:].reshape(-1))
            count += 1
            model.zero_grad()
            model.backward(loss.backward().reshape(logits.shape))
            opt.step()
        scores.append(exact_match(model, data, test))
        if verbose:
            print(f"epoch {epoch + 1}: loss {total / count:.4f}, held-out exact match {scores[-1]:.4f} "
                  f"({time.perf_counter() - start:.0f} s)")
    return model, scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    with threadpool_limits(limits=1, user_api="blas"):  # small products: one thread, as `axon train`
        model, scores = train(args.seed, args.epochs, args.hidden, verbose=True)
        data = ax.datasets.make_dates(22000, seed=args.seed)
        for i in (20000, 20001):
            print_alignment(model, data, i)
    print(f"exact match {scores[-1]:.4f} ({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
