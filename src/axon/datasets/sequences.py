"""Generated sequence tasks, for the recurrent and attention chapters: nothing to download.

- :func:`make_addition`: "16+75" → "91", the character-level seq2seq task of "Deep Learning from
  Scratch" volume 2 (chapter 7);
- :func:`make_dates`: "Tuesday, September 27, 1994" or "9/27/94" → "1994-09-27", its attention task
  (chapter 8);
- :func:`make_parity`: is the number of ones in a bit string odd (a long-memory task: every bit counts);
- :func:`make_noisy_sine`: a sine with noise, to forecast the next value.

Strings are encoded by a :class:`CharVocab`, whose id 0 is the padding: questions are padded at
the end with it (``Embedding(len(vocab), dim, padding_idx=0)`` masks it), answers have a fixed
width (a start symbol "_" then the answer, padded with spaces as in the book) so that a decoder
produces a fixed number of characters and exact match compares whole strings.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from axon._config import as_generator, resolve_dtype
from axon.datasets.synthetic import _check_noise
from axon.validation import check_int

#: The symbol that starts every answer: the decoder's first input.
START = "_"


class CharVocab:
    """Characters ↔ ids for character-level models; id 0 is the padding (decoded as nothing).

    ``CharVocab("0123456789+")`` gives "0" id 1, …, "+" id 11; ``len(vocab)`` is 12 (the
    ``num_embeddings`` of an Embedding and the classes of the output layer).
    """

    def __init__(self, chars: str) -> None:
        if len(set(chars)) != len(chars) or not chars:
            raise ValueError(f"CharVocab needs distinct characters, got {chars!r}")
        self.chars = chars
        self._ids = {c: i + 1 for i, c in enumerate(chars)}

    def __len__(self) -> int:
        return len(self.chars) + 1

    def encode(self, strings: Sequence[str], length: int | None = None) -> np.ndarray:
        """(n, T) int64 ids of the strings, padded at the end with 0 to ``length`` (default the longest)."""
        T = max(len(s) for s in strings) if length is None else int(length)
        out = np.zeros((len(strings), T), dtype=np.int64)
        for i, s in enumerate(strings):
            if len(s) > T:
                raise ValueError(f"CharVocab.encode: {s!r} is longer than length={T}")
            try:
                out[i, :len(s)] = [self._ids[c] for c in s]
            except KeyError as e:
                raise ValueError(f"CharVocab.encode: character {e.args[0]!r} of {s!r} is not in the vocabulary") from None
        return out

    def decode(self, ids: np.ndarray) -> list[str]:
        """The strings of rows of ids (n, T) (padding and ids out of range dropped)."""
        table = np.array(["", *self.chars, ""], dtype=object)
        ids = np.clip(np.asarray(ids), 0, len(self.chars) + 1)
        return ["".join(row) for row in table[np.atleast_2d(ids)]]

    def __repr__(self) -> str:
        return f"CharVocab({self.chars!r})"


@dataclass
class TextPairs:
    """Question → answer pairs, as text and as ids.

    Attributes
    ----------
    questions, answers : the strings (answers without the start symbol and padding).
    X : (n, Tq) ids of the questions, padded at the end with 0.
    Y : (n, 1 + Ta) ids of START + answer padded with spaces to the width Ta: a decoder reads
        ``Y[:, :-1]`` and learns to output ``Y[:, 1:]`` (teacher forcing).
    vocab : the :class:`CharVocab` of both.
    """

    questions: list[str]
    answers: list[str]
    X: np.ndarray
    Y: np.ndarray
    vocab: CharVocab

    def __len__(self) -> int:
        return len(self.questions)


def _pairs(questions: list[str], answers: list[str], width: int, chars: str, q_length: int) -> TextPairs:
    vocab = CharVocab(chars)
    X = vocab.encode(questions, q_length)
    Y = vocab.encode([START + a.ljust(width) for a in answers], 1 + width)
    return TextPairs(questions, answers, X, Y, vocab)


def make_addition(n_samples: int = 10000, digits: int = 3, reverse: bool = False,
                  seed: int | np.random.Generator | None = 0) -> TextPairs:
    """Sums of two random non-negative integers below 10^digits: "16+75" → "91".

    Questions are ``f"{a}+{b}"`` (reversed character by character with ``reverse=True``, the book's
    trick that puts the digits that are added together close to the answer), at most
    2·digits + 1 characters; answers ``str(a + b)``, width digits + 1. Vocabulary: the digits,
    "+", " " and "_".
    """
    n = check_int(n_samples, "n_samples", minimum=1)
    digits = check_int(digits, "digits", minimum=1)
    rng = as_generator(seed)
    a, b = rng.integers(0, 10 ** digits, size=(2, n))
    questions = [f"{x}+{y}" for x, y in zip(a.tolist(), b.tolist())]
    if reverse:
        questions = [q[::-1] for q in questions]
    answers = [str(s) for s in (a + b).tolist()]
    return _pairs(questions, answers, digits + 1, "0123456789+ " + START, 2 * digits + 1)


_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

#: The formats of :func:`make_dates`, each a function of a date.
DATE_FORMATS = (
    lambda d: f"{_MONTHS[d.month - 1].lower()} {d.day}, {d.year}",          # september 27, 1994
    lambda d: f"{_MONTHS[d.month - 1]} {d.day}, {d.year}",                  # September 27, 1994
    lambda d: f"{_MONTHS[d.month - 1].upper()} {d.day}, {d.year}",          # SEPTEMBER 27, 1994
    lambda d: f"{_MONTHS[d.month - 1][:3]} {d.day}, {d.year}",              # Sep 27, 1994
    lambda d: f"{d.day} {_MONTHS[d.month - 1][:3].upper()} {d.year}",       # 27 SEP 1994
    lambda d: f"{d.month}/{d.day}/{d.year % 100:02d}",                      # 9/27/94
    lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}",                        # 27.09.1994
    lambda d: f"{_DAYS[d.weekday()]}, {_MONTHS[d.month - 1]} {d.day}, {d.year}",        # Tuesday, September 27, 1994
    lambda d: f"{_DAYS[d.weekday()].upper()}, {_MONTHS[d.month - 1].upper()} {d.day}, {d.year}",
)
_DATE_CHARS = "".join(sorted(set("".join(_MONTHS + _DAYS).lower() + "".join(_MONTHS + _DAYS).upper()
                                 + "0123456789 ,./-"))) + START


def make_dates(n_samples: int = 10000, seed: int | np.random.Generator | None = 0) -> TextPairs:
    """Dates written in one of nine formats, to be rewritten as ISO 8601: "9/27/94" → "1994-09-27".

    Days drawn uniformly from 1 January 1970 to 31 December 2029 (two-digit years are then
    unambiguous: 70-99 is 19xx, 00-29 is 20xx), formats uniformly from :data:`DATE_FORMATS`
    (month names, abbreviations, upper and lower case, weekdays, numeric with / and .).
    Questions are at most 29 characters; answers 10.
    """
    n = check_int(n_samples, "n_samples", minimum=1)
    rng = as_generator(seed)
    first = datetime.date(1970, 1, 1)
    span = (datetime.date(2029, 12, 31) - first).days + 1
    days = rng.integers(0, span, size=n).tolist()
    formats = rng.integers(0, len(DATE_FORMATS), size=n).tolist()
    dates = [first + datetime.timedelta(days=k) for k in days]
    questions = [DATE_FORMATS[f](d) for d, f in zip(dates, formats)]
    return _pairs(questions, [d.isoformat() for d in dates], 10, _DATE_CHARS, 29)


def make_parity(n_samples: int = 1000, length: int = 10, min_length: int | None = None,
                seed: int | np.random.Generator | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Bit strings and whether they hold an odd number of ones: every bit changes the answer.

    Returns ``(X, y)``: X (n, length) int64 tokens, 1 for a 0 bit and 2 for a 1 bit, padded at the
    end with 0 when ``min_length`` < ``length`` (lengths then uniform in [min_length, length]);
    y (n,) int64, 1 when the count of ones is odd.
    """
    n = check_int(n_samples, "n_samples", minimum=1)
    length = check_int(length, "length", minimum=1)
    low = length if min_length is None else check_int(min_length, "min_length", minimum=1)
    if low > length:
        raise ValueError(f"min_length={low} is larger than length={length}")
    rng = as_generator(seed)
    bits = rng.integers(0, 2, size=(n, length))
    real = np.arange(length)[None, :] < rng.integers(low, length + 1, size=n)[:, None]
    X = np.where(real, bits + 1, 0).astype(np.int64)
    y = ((bits * real).sum(axis=1) % 2).astype(np.int64)
    return X, y


def make_noisy_sine(n_steps: int = 2000, period: float = 50.0, noise: float = 0.1,
                    seed: int | np.random.Generator | None = 0, dtype=None) -> tuple[np.ndarray, np.ndarray]:
    """A sine of ``period`` steps plus Gaussian noise: ``xₜ = sin(2πt/period) + ε``, ε ~ N(0, noise²).

    Returns ``(noisy, clean)``, both (n_steps,). A forecaster of the next value cannot beat a mean
    squared error of noise² against ``noisy``; against ``clean`` it can approach 0.
    """
    n = check_int(n_steps, "n_steps", minimum=2)
    noise = _check_noise(noise)
    if not np.isfinite(period) or period <= 0:
        raise ValueError(f"period must be a positive number of steps, got {period!r}")
    rng = as_generator(seed)
    clean = np.sin(2 * np.pi * np.arange(n) / period)
    dt = resolve_dtype(dtype)
    return (clean + noise * rng.standard_normal(n)).astype(dt), clean.astype(dt)
