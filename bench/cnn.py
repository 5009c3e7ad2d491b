"""A LeNet-like CNN on 28×28 synthetic images, batch 64: seconds per epoch, axon against PyTorch (CPU).

Network (both libraries, same initial weights)::

    conv 6@5×5 pad 2 → ReLU → maxpool 2 → conv 16@5×5 → ReLU → maxpool 2 → flatten 400
    → 120 → ReLU → 84 → ReLU → 10, softmax cross-entropy, SGD momentum 0.9, lr 0.01

Contestants: axon as installed (Numba's compiled loops for the first convolution, both poolings and
the optimizer step; see ``axon.fast``), axon on its NumPy code only (the same layers with the
compiled loops switched off, as with ``AXON_KERNELS=numpy`` or without Numba) and PyTorch.

The contestants alternate epoch by epoch (interleaved rounds) so that a busy machine slows both
alike; the figure is the median epoch time per contestant, the ratio the median of axon / PyTorch
within each round.
Run ``python -m bench.cnn [--quick]``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bench.common import OtherLoad, median, threads, timed

BATCH, CLASSES = 64, 10


def make_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic MNIST-shaped images (n, 1, 28, 28) float32 in [0, 1) and labels in [0, 10)."""
    rng = np.random.default_rng(seed)
    return rng.random((n, 1, 28, 28), dtype=np.float32), rng.integers(0, CLASSES, n)


def axon_model():
    """The LeNet-like network in axon."""
    import axon as ax
    ax.set_seed(0)
    return ax.Sequential(
        ax.Conv2D(1, 6, 5, padding=2), ax.ReLU(), ax.MaxPool2D(2),
        ax.Conv2D(6, 16, 5), ax.ReLU(), ax.MaxPool2D(2), ax.Flatten(),
        ax.Dense(400, 120, init="he"), ax.ReLU(), ax.Dense(120, 84, init="he"), ax.ReLU(),
        ax.Dense(84, CLASSES))


def torch_model(model):
    """The same network in PyTorch, with the axon model's initial weights copied in."""
    import torch
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                        nn.Linear(84, CLASSES))
    ours = [layer for layer in model.layers if layer.parameters()]
    theirs = [m for m in net if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        for a, t in zip(ours, theirs):
            w = a.weight.data if isinstance(t, nn.Conv2d) else a.weight.data.T  # Dense is (in, out)
            t.weight.copy_(torch.from_numpy(np.ascontiguousarray(w)))
            t.bias.copy_(torch.from_numpy(a.bias.data))
    return net


def axon_epoch(compiled_loops: bool = True) -> Callable[[np.ndarray, np.ndarray, int], float] | None:
    """One epoch of the explicit loop (API.md) over shuffled batches; returns its seconds.

    ``compiled_loops=False``: the compiled loops switched off for the epoch (axon without
    Numba). None when they are asked for and Numba is not installed.
    """
    import axon as ax
    from axon import fast
    from axon.layers import compiled
    if compiled_loops and fast.loops(compiled.LOOPS) is None:
        return None
    model = axon_model()
    loss = ax.losses.SoftmaxCrossEntropy()
    opt = ax.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def epoch(X, y, seed):
        def run():
            for xb, yb in ax.data.batches(X, y, BATCH, shuffle=True, seed=seed):
                loss.forward(model.forward(xb, training=True), yb)
                model.zero_grad()
                model.backward(loss.backward())
                opt.step()
        with fast.enabled(compiled_loops):
            return timed(run)
    return epoch


def torch_epoch() -> Callable[[np.ndarray, np.ndarray, int], float] | None:
    """The same epoch in PyTorch (None when torch is not installed)."""
    try:
        import torch
    except ImportError:
        return None
    net = torch_model(axon_model())
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    lossf = torch.nn.CrossEntropyLoss()

    def epoch(X, y, seed):
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

        def run():
            order = torch.from_numpy(np.random.default_rng(seed).permutation(len(X)))
            for start in range(0, len(X), BATCH):
                idx = order[start:start + BATCH]
                opt.zero_grad()
                lossf(net(Xt[idx]), yt[idx]).backward()
                opt.step()
        return timed(run)
    return epoch


def run(quick: bool = False, log: Callable[[str], None] = print) -> dict:
    """Median seconds per epoch of axon and PyTorch, interleaved, for 1 (and 2) threads.

    ``quick``: 512 images, 3 rounds, 1 thread (a smoke run); otherwise 4,096 images, 5 rounds,
    1 and 2 threads. Returns ``{"n", "batch", "rounds", "rows": [{"threads", "seconds": {name: s},
    "ratio", "all"}]}`` with names "axon", "axon NumPy only" and "torch", where ratio = axon /
    PyTorch (None without torch); "axon" is left out when Numba is not installed.
    """
    n, rounds, thread_counts = (512, 3, (1,)) if quick else (4096, 5, (1, 2))
    try:
        import torch  # noqa: F401  (imported first, so that threads() limits its pool too)
    except ImportError:
        pass
    X, y = make_data(n)
    rows = []
    for nt in thread_counts:
        with threads(nt):
            runners = {"axon": axon_epoch(), "axon NumPy only": axon_epoch(compiled_loops=False),
                       "torch": torch_epoch()}
            runners = {k: v for k, v in runners.items() if v is not None}
            for fn in runners.values():            # warm-up: allocation, first-call costs
                fn(X[:4 * BATCH], y[:4 * BATCH], 0)
            times: dict[str, list[float]] = {k: [] for k in runners}
            loads = []
            for r in range(rounds):
                with OtherLoad() as load:
                    for name, fn in runners.items():
                        times[name].append(fn(X, y, 100 + r))
                loads.append(load.share)
                log(f"  cnn threads={nt} round {r + 1}/{rounds}: " +
                    ", ".join(f"{k} {v[-1]:.3f}s" for k, v in times.items()))
            seconds = {k: median(v) for k, v in times.items()}
            # the median of the per-round ratios: a slow minute of the machine cancels out
            ours = "axon" if "axon" in times else "axon NumPy only"
            ratio = median([a / t for a, t in zip(times[ours], times["torch"])]) if "torch" in times else None
            rows.append({"threads": nt, "seconds": seconds, "ratio": ratio, "all": times,
                         "other_load": median(loads) if None not in loads else None})
    return {"n": n, "batch": BATCH, "rounds": rounds, "rows": rows}


if __name__ == "__main__":
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    result = run(parser.parse_args().quick)
    for row in result["rows"]:
        ratio = f"{row['ratio']:.2f}x" if row["ratio"] is not None else "n/a"
        print(f"threads={row['threads']}: " + ", ".join(f"{k} {v:.3f} s/epoch" for k, v in
                                                     row["seconds"].items()) + f"  axon/torch {ratio}")
