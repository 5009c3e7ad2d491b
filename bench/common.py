"""Timing, thread limits and the description of the machine, shared by every benchmark."""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

clock = time.perf_counter  # wall time: what a user waits for


def timed(fn: Callable[[], Any]) -> float:
    """Seconds one call of ``fn`` takes (wall clock)."""
    start = clock()
    fn()
    return clock() - start


def median(values: list[float]) -> float:
    """The median, robust to the one epoch another process slowed down."""
    return statistics.median(values)


@contextlib.contextmanager
def threads(n: int) -> Iterator[None]:
    """Limit NumPy's BLAS (threadpoolctl) and PyTorch's intra-op pool to ``n`` threads."""
    from threadpoolctl import threadpool_limits
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n):
            yield
    finally:
        if torch is not None and before is not None:
            torch.set_num_threads(before)


class OtherLoad:
    """Share of the machine's CPU time that other processes (and the hypervisor) took meanwhile.

    ``with OtherLoad() as load: ...`` then ``load.share``: (busy CPU seconds of the whole machine,
    steal included, minus this process's) / (wall seconds × cores), from /proc/stat; None where
    that file is missing. Rows measured while others used the cores say more about the machine
    than about the libraries.
    """

    share: float | None = None

    @staticmethod
    def _busy() -> float | None:
        try:
            with open("/proc/stat") as f:
                fields = [int(v) for v in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        busy = sum(fields[:8]) - idle  # user nice system idle iowait irq softirq steal
        return busy / os.sysconf("SC_CLK_TCK")

    def __enter__(self) -> OtherLoad:
        self._start = (clock(), self._busy(), sum(os.times()[:2]))
        return self

    def __exit__(self, *exc: object) -> None:
        wall0, busy0, own0 = self._start
        busy1 = self._busy()
        if busy0 is None or busy1 is None:
            return
        wall = clock() - wall0
        others = (busy1 - busy0) - (sum(os.times()[:2]) - own0)
        self.share = max(0.0, others / (wall * (os.cpu_count() or 1))) if wall > 0 else None


def cpu_model() -> str:
    """The CPU's model name with its family and model numbers (/proc/cpuinfo; a bare "AMD EPYC"
    says little), for the tables that must name their machine."""
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("model name", "cpu family", "model") and key not in fields:
                    fields[key] = value.strip()
                if not line.strip() and fields:
                    break
    except OSError:
        pass
    name = fields.get("model name") or platform.processor() or platform.machine()
    if "cpu family" in fields and "model" in fields:
        name += f" (family {fields['cpu family']}, model {fields['model']})"
    return name


def git_commit() -> str:
    """The measured commit (``git describe --always --dirty``), or "unknown" outside a checkout."""
    try:
        return subprocess.run(["git", "describe", "--always", "--dirty"], cwd=Path(__file__).parent,
                              capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def load_average() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def environment() -> dict[str, Any]:
    """Machine, versions and BLAS kernels, for RESULTS.md."""
    import numpy as np
    from threadpoolctl import threadpool_info

    info: dict[str, Any] = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "commit": git_commit(),
        "load average at start": load_average(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
        "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE", "(unset)"),
    }
    info["AXON_KERNELS"] = os.environ.get("AXON_KERNELS", "(unset)")
    for name in ("axon", "torch", "sklearn", "threadpoolctl", "numba"):
        try:
            mod = __import__(name)
            info[name] = getattr(mod, "__version__", "?")
        except ImportError:
            info[name] = "not installed"
    try:
        import torch  # noqa: F401  (so threadpoolctl also lists torch's pools)
    except ImportError:
        pass
    pools = []
    for pool in threadpool_info():
        arch = pool.get("architecture") or pool.get("threading_layer") or ""
        pools.append(f"{pool['internal_api']} {pool.get('version') or ''} {arch} "
                     f"({os.path.basename(pool['filepath'])}, {pool['num_threads']} threads)")
    info["thread pools"] = pools
    return info
