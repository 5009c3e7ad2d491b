"""The MNIST-sized MLP 784-256-128-10 (ReLU, softmax cross-entropy, batch 128), one epoch each in
axon (explicit loop and ``fit``), PyTorch, scikit-learn's MLPClassifier, and the matrix-product
ceiling: NumPy float32 products of exactly the shapes one training step performs.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.common import clock, timed

FEATURES, HIDDEN, CLASSES, BATCH = 784, (256, 128), 10, 128

#: name -> (axon/torch keyword arguments, scikit-learn keyword arguments)
OPTIMIZERS: dict[str, tuple[dict, dict]] = {
    "sgd-momentum": ({"lr": 0.01, "momentum": 0.9},
                     {"solver": "sgd", "learning_rate_init": 0.01, "momentum": 0.9,
                      "nesterovs_momentum": False, "learning_rate": "constant"}),
    "adam": ({"lr": 1e-3}, {"solver": "adam", "learning_rate_init": 1e-3}),
}


def make_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic MNIST-shaped data: (n, 784) float32 standard normal, labels in [0, 10)."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, FEATURES), dtype=np.float32), rng.integers(0, CLASSES, n)


def _axon_model():
    import axon as ax
    ax.set_seed(0)
    sizes = (FEATURES, *HIDDEN)
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [ax.Dense(a, b, init="he"), ax.ReLU()]
    return ax.Sequential(*layers, ax.Dense(sizes[-1], CLASSES))


def _axon_optimizer(name: str, params=None):
    import axon as ax
    kw = OPTIMIZERS[name][0]
    return ax.optim.SGD(params, **kw) if name == "sgd-momentum" else ax.optim.Adam(params, **kw)


@dataclass
class Runner:
    """One contestant: ``epoch(X, y, seed)`` trains one epoch and returns its seconds; ``model`` is
    the axon model it trains (None for the other libraries)."""
    name: str
    epoch: Callable[[np.ndarray, np.ndarray, int], float]
    model: Any = None


def axon_loop(opt_name: str, input_grad: bool = False) -> Runner:
    """The explicit loop of the README's quick start, as written: ``model.backward(loss.backward())``
    computes the parameters' gradients only, as ``fit`` does. ``input_grad=True`` also computes the
    ∂C/∂input nobody needs (the tests check it changes no weight; the bench does not time it)."""
    import axon as ax
    model = _axon_model()
    loss = ax.losses.SoftmaxCrossEntropy()
    opt = _axon_optimizer(opt_name, model.parameters())

    def epoch(X, y, seed):
        start = clock()
        for xb, yb in ax.data.batches(X, y, batch_size=BATCH, shuffle=True, seed=seed):
            out = model.forward(xb, training=True)
            loss.forward(out, yb)
            model.zero_grad()
            if input_grad:
                model.backward(loss.backward(), input_grad=True)
            else:
                model.backward(loss.backward())  # the README's line
            opt.step()
        return clock() - start

    label = "axon loop, input_grad=True" if input_grad else "axon loop"
    return Runner(label, epoch, model)


def axon_fit(opt_name: str, setup_times: list[float]) -> Runner:
    """``model.fit(epochs=1)``; the epoch is timed by a callback, the call's setup goes to ``setup_times``."""
    import axon as ax

    class EpochTimer(ax.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = clock()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds = clock() - self.start

    model = _axon_model()
    model.compile(loss=ax.losses.SoftmaxCrossEntropy(), optimizer=_axon_optimizer(opt_name))

    def epoch(X, y, seed):
        timer = EpochTimer()
        total = timed(lambda: model.fit(X, y, epochs=1, batch_size=BATCH, shuffle=True, seed=seed,
                                        verbose=0, callbacks=[timer]))
        setup_times.append(total - timer.seconds)
        return timer.seconds

    return Runner("axon fit", epoch, model)


def torch_loop(opt_name: str) -> Runner | None:
    """The usual PyTorch loop on the same arrays (shared memory, no copy), indices shuffled."""
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(0)
    sizes = (FEATURES, *HIDDEN)
    layers: list = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers, torch.nn.Linear(sizes[-1], CLASSES))
    kw = OPTIMIZERS[opt_name][0]
    opt = (torch.optim.SGD(model.parameters(), **kw) if opt_name == "sgd-momentum"
           else torch.optim.Adam(model.parameters(), **kw))
    loss_fn = torch.nn.CrossEntropyLoss()

    def epoch(X, y, seed):
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        start = clock()
        order = torch.from_numpy(np.random.default_rng(seed).permutation(len(X)))
        for lo in range(0, len(X), BATCH):
            idx = order[lo:lo + BATCH]
            xb, yb = Xt[idx], yt[idx]
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
        return clock() - start

    return Runner("PyTorch", epoch)


def sklearn_mlp(opt_name: str) -> Runner | None:
    """scikit-learn's MLPClassifier, same architecture and solver; one ``partial_fit`` is one epoch."""
    try:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier
    except ImportError:
        return None
    clf = MLPClassifier(hidden_layer_sizes=HIDDEN, activation="relu", batch_size=BATCH, alpha=0.0,
                        shuffle=True, random_state=0, **OPTIMIZERS[opt_name][1])
    classes = np.arange(CLASSES)

    def epoch(X, y, seed):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = clock()
            clf.partial_fit(X, y, classes=classes)
            return clock() - start

    return Runner("scikit-learn", epoch)


def ceiling() -> Runner:
    """NumPy float32 products of exactly the shapes of one training step, into preallocated arrays.

    Per batch of m rows: forward aˡ·Wˡ for the three layers, BP4 aᵀ·δ for the three weights and
    BP2 δ·Wᵀ for the two hidden layers (nobody needs ∂C/∂x of the input). Nothing else: no
    activation, no loss, no update, no gather. The time of this is the most a NumPy MLP could reach.
    """
    rng = np.random.default_rng(1)
    sizes = (FEATURES, *HIDDEN, CLASSES)
    W = [rng.standard_normal((a, b), dtype=np.float32) * 0.05 for a, b in zip(sizes[:-1], sizes[1:])]
    gW = [np.empty_like(w) for w in W]
    cache: dict[int, tuple] = {}

    def buffers(m):
        if m not in cache:
            a = [rng.standard_normal((m, s), dtype=np.float32) for s in sizes]
            cache[m] = (a, [np.empty((m, s), dtype=np.float32) for s in sizes])
        return cache[m]

    def epoch(X, y, seed):
        n = len(X)
        start = clock()
        for lo in range(0, n, BATCH):
            m = min(BATCH, n - lo)
            a, d = buffers(m)
            for i in range(3):
                np.matmul(a[i], W[i], out=d[i + 1])      # forward
            for i in (2, 1, 0):
                np.matmul(a[i].T, a[i + 1], out=gW[i])   # ∂C/∂W = aᵀ·δ
                if i:
                    np.matmul(a[i + 1], W[i].T, out=d[i])  # δ·Wᵀ
        return clock() - start

    return Runner("NumPy matmul ceiling", epoch)


def flops_per_epoch(n: int) -> float:
    """Floating-point operations of the products of one epoch: 2·k·l per row for each (k, l) product."""
    sizes = (FEATURES, *HIDDEN, CLASSES)
    weights = [a * b for a, b in zip(sizes[:-1], sizes[1:])]
    return 2.0 * n * (3 * sum(weights) - weights[0])  # forward, aᵀ·δ, and δ·Wᵀ but for the first layer


def run(n: int, rounds: int, thread_counts: tuple[int, ...], optimizers: tuple[str, ...],
        log: Callable[[str], None] = print) -> list[dict]:
    """Epoch seconds of every contestant for each (threads, optimizer), all interleaved.

    Each round runs one epoch of every contestant of every configuration, so a slow period of the
    machine falls on all of them instead of on one configuration's rows. Per row: the median
    seconds, every epoch (``"all"``, paired by round), and ``"other_load"``, the median share of
    the CPU other processes took during that configuration's rounds.
    """
    from bench.common import OtherLoad, median, threads
    X, y = make_data(n)
    warm_X, warm_y = X[:8 * BATCH], y[:8 * BATCH]
    configs = []
    for nt in thread_counts:
        for opt_name in optimizers:
            setup: list[float] = []
            runners = [r for r in (axon_loop(opt_name), axon_fit(opt_name, setup), torch_loop(opt_name),
                                   sklearn_mlp(opt_name), ceiling()) if r is not None]
            with threads(nt):
                for r in runners:  # first-call costs (allocation, scikit-learn's initialisation)
                    r.epoch(warm_X, warm_y, 0)
            setup.clear()
            configs.append({"threads": nt, "optimizer": opt_name, "runners": runners, "setup": setup,
                            "times": {r.name: [] for r in runners}, "load": []})
    for k in range(rounds):
        for c in configs:
            with threads(c["threads"]), OtherLoad() as load:
                for r in c["runners"]:
                    c["times"][r.name].append(r.epoch(X, y, 100 + k))
            c["load"].append(load.share)
            log(f"  round {k + 1}/{rounds}, threads={c['threads']} {c['optimizer']}: " +
                ", ".join(f"{name} {v[-1]:.3f}s" for name, v in c["times"].items()) +
                ("" if load.share is None else f" (others used {load.share:.0%} of the CPU)"))
    return [{"threads": c["threads"], "optimizer": c["optimizer"], "n": n,
             "seconds": {name: median(v) for name, v in c["times"].items()}, "all": c["times"],
             "fit_setup": median(c["setup"]) if c["setup"] else None,
             "other_load": median(c["load"]) if None not in c["load"] else None} for c in configs]


def profile_epoch(n: int, threads_n: int, top: int = 14) -> str:
    """cProfile of one axon epoch (the README's explicit loop, SGD momentum): where time goes."""
    import cProfile
    import io
    import pstats

    from bench.common import threads
    X, y = make_data(n)
    r = axon_loop("sgd-momentum")
    with threads(threads_n):
        r.epoch(X[:8 * BATCH], y[:8 * BATCH], 0)
        prof = cProfile.Profile()
        prof.enable()
        r.epoch(X, y, 1)
        prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).strip_dirs().sort_stats("tottime").print_stats(top)
    lines = [ln for ln in out.getvalue().splitlines() if ln.strip()]
    start = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls")), 0)
    return "\n".join(lines[start:])
