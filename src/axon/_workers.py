"""Split a batch over threads: the compiled loops (:mod:`axon.layers.compiled`) on all cores.

NumPy runs its matrix products on the BLAS library's threads but every other loop on one core.
The compiled loops release the GIL, so a batch can be cut into contiguous ranges of samples, one
per thread. The number of threads follows the BLAS setting (``axon train --threads``,
``threadpoolctl``, ``OPENBLAS_NUM_THREADS``): one knob for all of axon's parallel work.

Results do not depend on the split: every loop writes only the samples of its own range, and sums
over the batch are taken afterwards, in one fixed order, by the caller.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_pid = 0
_blas: Any = None  # threadpoolctl's controller of NumPy's BLAS (False: none found)


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def workers() -> int:
    """How many threads the batch is split over: the thread count NumPy's BLAS runs with now."""
    global _blas
    if _blas is None:
        from threadpoolctl import ThreadpoolController
        blas = [c for c in ThreadpoolController().lib_controllers if c.user_api == "blas"]
        ours = [c for c in blas if "numpy" in c.filepath] or blas
        _blas = ours[0] if ours else False
    n = _blas.get_num_threads() if _blas else _cpu_count()
    return max(1, min(int(n), _cpu_count()))


def _executor() -> ThreadPoolExecutor:
    global _pool, _pool_pid
    from concurrent.futures import ThreadPoolExecutor  # on the first split only: import axon stays light
    with _lock:
        if _pool is None or _pool_pid != os.getpid():  # a forked child has no threads of its parent's pool
            _pool = ThreadPoolExecutor(max_workers=max(1, _cpu_count() - 1), thread_name_prefix="axon")
            _pool_pid = os.getpid()
        return _pool


def split_batch(loop: Callable[..., None], n: int, *args: Any) -> None:
    """Run ``loop(*args, start, stop)`` over contiguous ranges covering ``range(n)``, one range per
    thread (:func:`workers`); the calling thread takes the first range. Returns when all are done."""
    parts = min(workers(), n)
    if parts <= 1:
        loop(*args, 0, n)
        return
    bounds = [n * k // parts for k in range(parts + 1)]
    pool = _executor()
    futures = [pool.submit(loop, *args, bounds[k], bounds[k + 1]) for k in range(1, parts)]
    try:
        loop(*args, bounds[0], bounds[1])
    finally:
        for f in futures:
            f.result()
