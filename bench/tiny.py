"""Framework overhead: tiny sigmoid nets where a step is mostly Python and call overhead.

- 3-4-1: three inputs, four hidden sigmoid units, one sigmoid output, the full batch of 4 samples
  (the classic "network in a few lines"), MSE, plain SGD.
- 64-30-10: the bundled digits through Nielsen's sigmoid network (30 hidden units), quadratic
  cost, minibatches of 10, plain SGD.

Each runs ``steps`` gradient steps; the figure is seconds per step.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bench.common import clock, median

NETS = {"3-4-1, batch 4": ((3, 4, 1), 4, 4), "64-30-10, batch 10": ((64, 30, 10), None, 10)}


def _data(sizes, n):
    if n is None:  # the digits, one-hot targets
        import axon as ax
        (X, y), _ = ax.datasets.load_digits()
        X = np.asarray(X, dtype=np.float32).reshape(len(X), -1)
        Y = np.eye(sizes[-1], dtype=np.float32)[np.asarray(y)]
        return X, Y
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, (n, sizes[0])).astype(np.float32)
    return X, rng.integers(0, 2, (n, sizes[-1])).astype(np.float32)


def axon_steps(sizes, n, batch) -> Callable[[int], float]:
    import axon as ax
    X, Y = _data(sizes, n)
    ax.set_seed(0)
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [ax.Dense(a, b), ax.Sigmoid()]
    model = ax.Sequential(*layers)
    loss = ax.losses.QuadraticCost() if n is None else ax.losses.MSE()
    opt = ax.optim.SGD(model.parameters(), lr=0.5)

    def run(steps):
        done = 0
        start = clock()
        while done < steps:
            for xb, yb in ax.data.batches(X, Y, batch_size=batch, shuffle=False):
                out = model.forward(xb, training=True)
                loss.forward(out, yb)
                model.zero_grad()
                model.backward(loss.backward())
                opt.step()
                done += 1
                if done == steps:
                    break
        return (clock() - start) / steps

    return run


def torch_steps(sizes, n, batch) -> Callable[[int], float] | None:
    try:
        import torch
    except ImportError:
        return None
    X, Y = (torch.from_numpy(a) for a in _data(sizes, n))
    torch.manual_seed(0)
    layers: list = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.Sigmoid()]
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    quadratic = n is None

    def run(steps):
        done = 0
        start = clock()
        while done < steps:
            for lo in range(0, len(X), batch):
                xb, yb = X[lo:lo + batch], Y[lo:lo + batch]
                opt.zero_grad()
                out = model(xb)
                loss = (0.5 * ((out - yb) ** 2).sum(dim=1).mean() if quadratic
                        else torch.nn.functional.mse_loss(out, yb))
                loss.backward()
                opt.step()
                done += 1
                if done == steps:
                    break
        return (clock() - start) / steps

    return run


def run(steps: int, rounds: int, log: Callable[[str], None] = print) -> list[dict]:
    """Median seconds per step for axon and PyTorch (1 thread each: the nets are too small for more)."""
    from bench.common import threads
    rows = []
    with threads(1):
        for name, (sizes, n, batch) in NETS.items():
            runners = {"axon": axon_steps(sizes, n, batch), "PyTorch": torch_steps(sizes, n, batch)}
            runners = {k: v for k, v in runners.items() if v is not None}
            for r in runners.values():
                r(50)
            times: dict[str, list[float]] = {k: [] for k in runners}
            for _ in range(rounds):
                for k, r in runners.items():
                    times[k].append(r(steps))
            row = {"net": name, "steps": steps, "seconds": {k: median(v) for k, v in times.items()},
                   "all": times}
            log(f"  {name}: " + ", ".join(f"{k} {v * 1e6:.1f} µs/step" for k, v in row["seconds"].items()))
            rows.append(row)
    return rows
