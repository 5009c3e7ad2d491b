"""The optimizer step alone, on the parameters of the MNIST-sized MLP 784-256-128-10 (235,146 numbers).

Where an epoch's time goes outside the matrix products, the update is the largest part, so it is
timed by itself: axon's SGD with momentum and Adam against PyTorch's, with PyTorch's default
implementation (one kernel per operation, as axon's NumPy code) and its ``fused=True`` kernels (one
pass over the weights, which NumPy cannot express). *axon* is the NumPy code (what an MLP runs:
it never loads Numba), *axon one pass* the compiled loop of ``axon.optim.compiled_loops`` (what runs
once Numba is loaded, e.g. by a CNN's convolution; the same bits). Gradients are fixed random arrays; the figure is
microseconds per ``step()``, the median of interleaved rounds.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bench.common import clock, median, threads

SHAPES = [(784, 256), (256,), (256, 128), (128,), (128, 10), (10,)]
KWARGS = {"sgd-momentum": {"lr": 0.01, "momentum": 0.9}, "adam": {"lr": 1e-3}}


def _arrays(seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s, dtype=np.float32) for s in SHAPES]


def _per_step(opt, compiled: bool | None = None) -> Callable[[int], float]:
    """``run(steps)``: seconds per ``opt.step()`` over ``steps`` calls; ``compiled`` switches axon's
    compiled loops on or off for the run (None: leave them)."""
    def run(steps: int) -> float:
        import contextlib

        from axon import fast
        with fast.enabled(compiled) if compiled is not None else contextlib.nullcontext():
            start = clock()
            for _ in range(steps):
                opt.step()
            return (clock() - start) / steps

    return run


def axon_step(opt_name: str, one_pass: bool = False) -> Callable[[int], float] | None:
    """axon's optimizer: seconds per step over ``steps`` steps, on the NumPy code or (``one_pass``)
    the compiled loop, which loads Numba; None when Numba is not installed."""
    import axon as ax
    from axon import fast
    if one_pass and fast.loops("axon.optim.compiled_loops") is None:
        return None
    params = [ax.Parameter(a) for a in _arrays()]
    for p, g in zip(params, _arrays(1)):
        p.accumulate(g)
    cls = ax.optim.SGD if opt_name == "sgd-momentum" else ax.optim.Adam
    opt = cls(params, **KWARGS[opt_name])

    return _per_step(opt, compiled=one_pass)


def torch_step(opt_name: str, fused: bool) -> Callable[[int], float] | None:
    """PyTorch's optimizer (default or ``fused=True``); None without torch."""
    try:
        import torch
    except ImportError:
        return None
    params = [torch.nn.Parameter(torch.from_numpy(a)) for a in _arrays()]
    for p, g in zip(params, _arrays(1)):
        p.grad = torch.from_numpy(g)
    cls = torch.optim.SGD if opt_name == "sgd-momentum" else torch.optim.Adam
    opt = cls(params, **KWARGS[opt_name], **({"fused": True} if fused else {}))

    return _per_step(opt)


def run(steps: int, rounds: int, thread_counts: tuple[int, ...],
        log: Callable[[str], None] = print) -> list[dict]:
    """Seconds per step of each contestant, per (threads, optimizer); rounds interleaved."""
    rows = []
    for nt in thread_counts:
        with threads(nt):
            for opt_name in KWARGS:
                runners = {"axon": axon_step(opt_name), "axon one pass": axon_step(opt_name, one_pass=True),
                           "PyTorch": torch_step(opt_name, False), "PyTorch fused": torch_step(opt_name, True)}
                runners = {k: v for k, v in runners.items() if v is not None}
                for r in runners.values():
                    r(20)
                times: dict[str, list[float]] = {k: [] for k in runners}
                for _ in range(rounds):
                    for k, r in runners.items():
                        times[k].append(r(steps))
                row = {"threads": nt, "optimizer": opt_name, "steps": steps,
                       "seconds": {k: median(v) for k, v in times.items()}, "all": times}
                log(f"  optimizer step, {nt} thread(s), {opt_name}: " +
                    ", ".join(f"{k} {v * 1e6:.0f} µs" for k, v in row["seconds"].items()))
                rows.append(row)
    return rows
