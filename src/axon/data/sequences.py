"""Sequences for the recurrent and attention layers: padding and masks, length buckets, truncated BPTT.

Variable-length batches are padded at the end (right padding) with a padding value, by
convention 0, and the padding mask says which steps are real::

    ids = pad_sequences([[5, 2, 7], [3]])           # [[5, 2, 7], [3, 0, 0]]
    padding_mask([3, 1])                            # [[T, T, T], [T, F, F]]

An ``Embedding(vocab, dim, padding_idx=0)`` makes that mask from the ids by itself and the layers
after it use it (see :mod:`axon.layers.base`), so a padded batch trains and predicts as its
sequences would alone. :func:`bucket_batches` groups sequences of similar lengths so little of
each batch is padding. :func:`bptt_batches` cuts one long series into consecutive chunks for
truncated backpropagation through time with a ``stateful`` recurrent layer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from axon._config import as_generator
from axon.validation import check_int

if TYPE_CHECKING:
    from axon._config import Seed


def pad_sequences(sequences: Iterable[Sequence | np.ndarray], length: int | None = None, value: float = 0,
                  dtype: str | type | np.dtype = np.int64) -> np.ndarray:
    """Stack sequences of different lengths into one array, padded (or cut) at the end.

    Parameters
    ----------
    sequences : n sequences, each of shape (Lᵢ,) (ids) or (Lᵢ, D) (vectors per step).
    length : T, the length of the result; default the longest Lᵢ. Longer sequences keep their first T steps.
    value : what fills the padding (the padding id, 0 by convention).
    dtype : of the result (int64 by default, for ids).

    Returns
    -------
    (n, T) or (n, T, D) array.
    """
    seqs = [np.asarray(s) for s in sequences]
    if not seqs:
        raise ValueError("pad_sequences got no sequences; pass at least one")
    tails = {s.shape[1:] for s in seqs}
    if len(tails) > 1:
        raise ValueError(f"pad_sequences: the steps have different shapes {sorted(tails)}; each sequence "
                         f"must be (length,) or (length, D) with the same D")
    T = max(len(s) for s in seqs) if length is None else int(length)
    if T < 1:
        raise ValueError(f"pad_sequences: length must be at least 1, got {length!r}")
    out = np.full((len(seqs), T, *tails.pop()), value, dtype=dtype)
    for i, s in enumerate(seqs):
        out[i, :min(len(s), T)] = s[:T]
    return out


def padding_mask(lengths: Sequence[int] | np.ndarray, length: int | None = None) -> np.ndarray:
    """The mask (n, T) of right-padded sequences: True at the first ``lengths[i]`` steps of row i."""
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or (lengths.size and lengths.min() < 0):
        raise ValueError(f"padding_mask takes one non-negative length per sequence, got {lengths!r}")
    T = int(lengths.max()) if length is None else int(length)
    return np.arange(T)[None, :] < lengths[:, None]


def sequence_lengths(ids: np.ndarray, padding_idx: int = 0) -> np.ndarray:
    """Real steps per row of a padded batch of ids (n, T): the count of entries != ``padding_idx``."""
    return (np.asarray(ids) != padding_idx).sum(axis=1)


def bucket_batches(sequences: Sequence[Sequence | np.ndarray], y: np.ndarray | None = None, batch_size: int = 32, *,
                   shuffle: bool = True, seed: Seed = None, value: float = 0,
                   dtype: str | type | np.dtype = np.int64) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """Minibatches of sequences of similar lengths, each padded to its own longest: ``(xb, yb)``.

    The sequences are sorted by length (ties in a random order), cut into batches of
    ``batch_size``, and the batches are visited in a random order (``shuffle``, from ``seed``:
    None, the default, draws from axon's generator, so :func:`axon.set_seed` fixes the order; an
    int or a Generator gives the call its own), so every sequence appears once per pass and a
    batch holds little padding. ``xb`` is (B, Tb) or
    (B, Tb, D) padded with ``value`` at the end; ``yb`` the matching rows of ``y`` (None without y).
    """
    batch_size = check_int(batch_size, "bucket_batches batch_size", example=32)
    n = len(sequences)
    if y is not None and len(y) != n:
        raise ValueError(f"{n} sequences but y has {len(y)} rows; they must match")
    rng = as_generator(seed)
    lengths = np.array([len(s) for s in sequences])
    tiebreak = rng.random(n) if shuffle else np.arange(n)
    order = np.lexsort((tiebreak, lengths))
    starts = np.arange(0, n, batch_size)
    if shuffle:
        starts = rng.permutation(starts)
    for start in starts:
        idx = order[start:start + batch_size]
        xb = pad_sequences([sequences[i] for i in idx], value=value, dtype=dtype)
        yield xb, (None if y is None else np.asarray(y)[idx])


def bptt_batches(series: np.ndarray, batch_size: int, steps: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Consecutive chunks of one long series, for truncated BPTT with a stateful recurrent layer.

    The series (L,) or (L, D) is split into ``batch_size`` streams of M = (L − 1) // batch_size
    steps, stream i starting at step i·M (DeZero's SeqDataLoader, in chunks). Batch k holds steps
    [k·steps, (k+1)·steps) of every stream, as ``x`` (B, steps, D), with the targets ``y`` the
    next values (B, steps, D): the series shifted by one. Row i of each batch continues row i
    of the batch before, so a ``stateful=True`` layer carries the right state from batch to batch;
    call ``reset_states(model)`` before each pass. Only whole chunks are yielded.
    """
    s = np.asarray(series)
    if s.ndim == 1:
        s = s[:, None]
    if s.ndim != 2:
        raise ValueError(f"bptt_batches takes a series of shape (L,) or (L, D), got {np.shape(series)}")
    batch_size = check_int(batch_size, "bptt_batches batch_size", example=32)
    steps = check_int(steps, "bptt_batches steps", example=35)
    M = (len(s) - 1) // batch_size
    if M < steps:
        raise ValueError(f"bptt_batches: a series of {len(s)} steps in {batch_size} streams leaves {M} steps "
                         f"each, fewer than steps={steps}; use fewer streams or shorter chunks")
    starts = np.arange(batch_size) * M
    for k in range(M // steps):
        t = starts[:, None] + k * steps + np.arange(steps)[None, :]      # (B, steps) positions
        yield s[t], s[t + 1]
