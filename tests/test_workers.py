"""axon._workers: the batch split over the BLAS thread count, for the compiled loops."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from axon import _workers


def _mark(out: np.ndarray, start: int, stop: int) -> None:
    out[start:stop] += 1
    out[start:stop] *= stop - start  # records which range each sample was in


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("n", [1, 2, 3, 64, 65])
def test_ranges_cover_every_sample_once_and_follow_the_blas_thread_count(threads, n):
    out = np.zeros(n)
    with threadpool_limits(limits=threads, user_api="blas"):
        assert _workers.workers() == min(threads, _workers._cpu_count())
        _workers.split_batch(_mark, n, out)
        parts = min(_workers.workers(), n)
    assert np.all(out > 0) and set(np.unique(out)) <= {n // parts, n // parts + 1}


def test_a_failing_range_raises_in_the_caller():
    def boom(start, stop):
        if start > 0:
            raise ValueError("range failed")
    with threadpool_limits(limits=2, user_api="blas"):
        if _workers.workers() < 2:
            pytest.skip("needs 2 cores")
        with pytest.raises(ValueError, match="range failed"):
            _workers.split_batch(boom, 10)


def test_ranges_run_on_other_threads_and_a_forked_child_gets_a_new_pool(monkeypatch):
    seen = set()

    def record(start, stop):
        seen.add(threading.get_ident())
    with threadpool_limits(limits=2, user_api="blas"):
        if _workers.workers() < 2:
            pytest.skip("needs 2 cores")
        _workers.split_batch(record, 4)
        assert len(seen) == 2
        pool = _workers._executor()
        monkeypatch.setattr(_workers, "_pool_pid", -1)   # as in a child after fork()
        assert _workers._executor() is not pool
