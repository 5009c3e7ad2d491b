"""ax.data.batches: a permutation per epoch, one gather per batch, views without shuffling."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import axon as ax


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 50), batch_size=st.integers(1, 20), seed=st.integers(0, 100))
def test_every_sample_exactly_once(n, batch_size, seed):
    X = np.arange(n, dtype=np.float32).reshape(n, 1)
    y = np.arange(n)
    seen = []
    for xb, yb in ax.data.batches(X, y, batch_size=batch_size, shuffle=True, seed=seed):
        assert len(xb) <= batch_size
        np.testing.assert_array_equal(xb[:, 0], yb)  # rows stay paired with their labels
        seen.extend(yb.tolist())
    assert sorted(seen) == list(range(n))


def test_same_seed_same_order_and_no_shuffle_gives_views():
    X = np.arange(20.0).reshape(10, 2)
    a = [yb.tolist() for _, yb in ax.data.batches(X, np.arange(10), 3, seed=4)]
    b = [yb.tolist() for _, yb in ax.data.batches(X, np.arange(10), 3, seed=4)]
    assert a == b and a != [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    xb, yb = next(ax.data.batches(X, None, 4, shuffle=False))
    assert yb is None and np.shares_memory(xb, X)


@pytest.mark.parametrize("bs", [0, -1, 2.5, True])
def test_bad_batch_size(bs):
    with pytest.raises((TypeError, ValueError), match="batch_size"):  # TypeError for 2.5 and True
        next(ax.data.batches(np.zeros((3, 1)), None, bs))


def test_length_mismatch():
    with pytest.raises(ValueError, match="X has 3 samples but y has 2"):
        next(ax.data.batches(np.zeros((3, 1)), np.zeros(2), 2))


def test_bundled_digits_split():
    (X, y), (Xt, yt) = ax.datasets.load_digits()
    assert X.shape == (1438, 64) and Xt.shape == (359, 64) and X.dtype == np.float32
    assert 0 <= X.min() and X.max() == 1.0
    assert set(np.unique(yt)) == set(range(10))
    # stratified: each class is about 20% of its images in test
    for c in range(10):
        share = (yt == c).sum() / ((y == c).sum() + (yt == c).sum())
        assert share == pytest.approx(0.2, abs=0.01)
    (Xi, _), _ = ax.datasets.load_digits(flatten=False)
    assert Xi.shape == (1438, 1, 8, 8)
