"""How the playground turns its settings into data, features and a network, and the same as a script.

Everything is drawn from the seed ``s`` of the settings, each from its own generator:

- the points: the data set's generator in :mod:`axon.datasets.synthetic` with ``seed=s``, then an
  affine map into the playground's square [-1.25, 1.25]² (the same for every seed);
- the split: ``default_rng(s + 1).permutation(n)``, the first ``ratio`` percent for training;
- the weights: one ``default_rng(s + 2)`` passed to every Dense layer in order;
- the order of the minibatches: ``default_rng(s + 3).permutation(n_train)`` at each epoch's start;
- the dropout masks: one ``default_rng(s + 4)`` shared by every Dropout layer.

So one URL gives one network. :func:`script` writes these steps as a Python program using only
``axon`` and NumPy; run for the same number of epochs with unchanged settings it computes the
same weights as the playground (a test checks it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from axon.studio.settings import FEATURES, Settings

#: Half the side of the square the playground draws: points and heat maps cover [-DOMAIN, DOMAIN]².
DOMAIN = 1.25


@dataclass(frozen=True)
class DataRecipe:
    """One call of an ``axon.datasets`` generator and the map x ↦ x·scale + shift into the square."""

    function: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    scale: float = 1.0
    shift: tuple[float, float] = (0.0, 0.0)

    def call_text(self) -> str:
        """The call as Python source, e.g. ``make_circles(400, noise=0.04, factor=0.5, seed=1)``."""
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"{self.function}({', '.join(parts)})"


def data_recipe(s: Settings) -> DataRecipe:
    """The generator call for the settings' data set, noise (0..50 %) and number of points.

    Noise in percent is turned into each generator's own noise (standard deviations in its units),
    chosen so that 50 % makes the classes overlap clearly and 0 % separates them.
    """
    nu = s.noise / 100.0
    n = s.points
    if s.problem == "regression":
        return DataRecipe("make_surface", (s.dataset, n), {"noise": round(0.5 * nu, 6), "seed": s.seed})
    if s.dataset == "circle":
        return DataRecipe("make_circles", (n,), {"noise": round(0.4 * nu, 6), "factor": 0.5, "seed": s.seed})
    if s.dataset == "xor":  # corners 0/1 -> ±0.8, blobs around them
        return DataRecipe("make_xor", (n,), {"noise": round(0.12 + 0.3 * nu, 6), "seed": s.seed},
                          scale=1.6, shift=(-0.8, -0.8))
    if s.dataset == "gaussians":
        return DataRecipe("make_gaussians", (n, s.n_classes),
                          {"noise": round(0.15 + 0.6 * nu, 6), "radius": 0.8, "seed": s.seed})
    if s.dataset == "spiral":
        return DataRecipe("make_spirals", (n, s.n_classes), {"noise": round(0.25 * nu, 6), "seed": s.seed})
    if s.dataset == "moons":  # x₁ in [-1, 2], x₂ in [-0.5, 1] -> centred in the square
        return DataRecipe("make_moons", (n,), {"noise": round(0.5 * nu, 6), "seed": s.seed},
                          scale=0.6667, shift=(-0.3333, -0.1667))
    raise ValueError(f"dataset: unknown data set {s.dataset!r}")


def make_data(s: Settings) -> tuple[np.ndarray, np.ndarray]:
    """The points X (n, 2) in the square and their targets: int64 labels (n,) or values (n, 1)."""
    from axon import datasets

    r = data_recipe(s)
    X, y = getattr(datasets, r.function)(*r.args, **r.kwargs)
    if r.scale != 1.0 or r.shift != (0.0, 0.0):
        X = X * r.scale + np.array(r.shift, dtype=X.dtype)
    return X, y


#: Each feature as NumPy source over the points ``X`` and as the function computing it.
FEATURE_CODE: dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {
    "x1": ("X[:, 0]", lambda X: X[:, 0]),
    "x2": ("X[:, 1]", lambda X: X[:, 1]),
    "x1sq": ("X[:, 0] ** 2", lambda X: X[:, 0] ** 2),
    "x2sq": ("X[:, 1] ** 2", lambda X: X[:, 1] ** 2),
    "x1x2": ("X[:, 0] * X[:, 1]", lambda X: X[:, 0] * X[:, 1]),
    "sin1": ("np.sin(np.pi * X[:, 0])", lambda X: np.sin(np.pi * X[:, 0])),
    "sin2": ("np.sin(np.pi * X[:, 1])", lambda X: np.sin(np.pi * X[:, 1])),
}


def feature_matrix(X: np.ndarray, features: tuple[str, ...]) -> np.ndarray:
    """The network's input: one column per chosen feature of the points X (n, 2) -> (n, k)."""
    return np.column_stack([FEATURE_CODE[f][1](X) for f in features])


def split(s: Settings) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, test) of the points: a seeded permutation, the first ``n_train`` for training."""
    order = np.random.default_rng(s.seed + 1).permutation(s.points)
    return order[:s.n_train], order[s.n_train:]


def n_outputs(s: Settings) -> int:
    """Output units: one for two classes (a logit) and for regression, else one per class."""
    return s.n_classes if s.n_classes > 2 else 1


def make_loss(s: Settings):
    """BinaryCrossEntropy on a logit (two classes), SoftmaxCrossEntropy (more), MSE (regression)."""
    from axon import losses

    if s.problem == "regression":
        return losses.MSE()
    return losses.SoftmaxCrossEntropy() if s.n_classes > 2 else losses.BinaryCrossEntropy()


_ACT_CLASS = {"tanh": "Tanh", "relu": "ReLU", "leaky_relu": "LeakyReLU", "sigmoid": "Sigmoid", "linear": "Identity"}


def init_for(act: str) -> str:
    """The initialiser of a Dense layer followed by ``act`` (He for the ReLU family, else Glorot)."""
    from axon.architectures import DEFAULT_INIT

    return DEFAULT_INIT.get(act, "xavier")


def make_dense_layers(s: Settings, n_in: int) -> list:
    """The Dense layers, first to output, with weights from ``default_rng(seed + 2)``."""
    from axon.layers import Dense

    rng = np.random.default_rng(s.seed + 2)
    layers, width = [], n_in
    for w, act in zip(s.layers, s.acts):
        layers.append(Dense(width, w, init=init_for(act), l1=s.l1, l2=s.l2, seed=rng))
        width = w
    layers.append(Dense(width, n_outputs(s), init="xavier", l1=s.l1, l2=s.l2, seed=rng))
    return layers


def activation(act: str):
    """A new activation layer for the name ``act``."""
    import axon.layers as L

    return getattr(L, _ACT_CLASS[act])()


def make_optimizer(s: Settings, params: list):
    """The optimizer of the settings bound to ``params`` ("momentum": SGD with momentum 0.9)."""
    from axon import optim

    if s.optimizer == "momentum":
        opt: optim.Optimizer = optim.SGD(lr=s.lr, momentum=0.9)
    else:
        opt = optim.get_optimizer(s.optimizer, lr=s.lr)
    opt.bind(params)
    return opt


# -- the same as a script ------------------------------------------------------------------------
_LOSS_TEXT = {"MSE": "ax.losses.MSE()                    # mean squared error",
              "BinaryCrossEntropy": "ax.losses.BinaryCrossEntropy()     # sigmoid + cross-entropy, from the logit",
              "SoftmaxCrossEntropy": "ax.losses.SoftmaxCrossEntropy()    # softmax + log-likelihood, from logits"}
_OPT_TEXT = {"sgd": "ax.optim.SGD(model.parameters(), lr={lr!r})",
             "momentum": "ax.optim.SGD(model.parameters(), lr={lr!r}, momentum=0.9)",
             "adam": "ax.optim.Adam(model.parameters(), lr={lr!r})",
             "rmsprop": "ax.optim.RMSProp(model.parameters(), lr={lr!r})",
             "adagrad": "ax.optim.AdaGrad(model.parameters(), lr={lr!r})"}


def script(s: Settings, epochs: int, query: str = "") -> str:
    """A Python program that builds the playground's data and network and trains it ``epochs`` epochs.

    ``query`` (the page's URL parameters) goes into the docstring so the script says where it
    came from. The program prints the train and test loss at the end.
    """
    r = data_recipe(s)
    lines = ['"""A network from the axon studio playground: the same data, network and training.', ""]
    if query:
        lines += [f"Playground settings: #{query}", ""]
    lines += ["Run it with: python THIS_FILE.py", '"""', "", "import numpy as np", "", "import axon as ax", "",
              f"EPOCHS = {int(epochs)}", "",
              f"# The data: {s.points} points of {s.dataset!r}, noise {s.noise:g}%, in the square "
              f"[-{DOMAIN}, {DOMAIN}]².",
              f"X, y = ax.datasets.{r.call_text()}"]
    if r.scale != 1.0 or r.shift != (0.0, 0.0):
        lines.append(f"X = X * {r.scale!r} + np.array({list(r.shift)!r}, dtype=X.dtype)")
    cols = ", ".join(FEATURE_CODE[f][0] for f in s.features)
    lines += ["", f"# The input features: {', '.join(FEATURES[f] for f in s.features)}.",
              f"F = np.column_stack([{cols}])", "",
              f"# {s.ratio:g}% of the points for training, the rest for testing.",
              f"order = np.random.default_rng({s.seed + 1}).permutation(len(X))",
              f"train, test = order[:{s.n_train}], order[{s.n_train}:]",
              "X_train, y_train, X_test, y_test = F[train], y[train], F[test], y[test]", ""]
    widths = [len(s.features), *s.layers, n_outputs(s)]
    shape = " -> ".join([f"{widths[0]} features"]
                        + [f"{w} {a}" for w, a in zip(s.layers, s.acts)] + [f"{widths[-1]} output"])
    lines += [f"# The network: {shape}.", f"rng = np.random.default_rng({s.seed + 2})  # the initial weights"]
    if s.dropout:
        lines.append(f"drop = np.random.default_rng({s.seed + 4})  # the dropout masks")
    lines.append("model = ax.Sequential(")
    pen = f", l1={s.l1!r}, l2={s.l2!r}" if (s.l1 or s.l2) else ""
    for i, (w, act) in enumerate(zip(s.layers, s.acts)):
        layer = f"    ax.Dense({widths[i]}, {w}, init={init_for(act)!r}{pen}, seed=rng), ax.{_ACT_CLASS[act]}(),"
        if s.dropout:
            layer += f" ax.Dropout({s.dropout!r}, seed=drop),"
        lines.append(layer)
    lines += [f"    ax.Dense({widths[-2]}, {widths[-1]}, init='xavier'{pen}, seed=rng),", ")",
              f"loss = {_LOSS_TEXT[type(make_loss(s)).__name__]}",
              f"opt = {_OPT_TEXT[s.optimizer].format(lr=s.lr)}", "",
              f"# Training: minibatches of {min(s.batch, s.n_train)}, a new order every epoch.",
              f"shuffle = np.random.default_rng({s.seed + 3})",
              f"batch = {min(s.batch, s.n_train)}",
              "for epoch in range(EPOCHS):",
              "    order = shuffle.permutation(len(X_train))",
              "    for start in range(0, len(X_train), batch):",
              "        idx = order[start:start + batch]",
              "        out = model.forward(X_train[idx], training=True)",
              "        loss.forward(out, y_train[idx])",
              "        model.zero_grad()",
              "        model.backward(loss.backward())",
              "        opt.step()", "",
              "train_loss = loss.forward(model(X_train), y_train)",
              "test_loss = loss.forward(model(X_test), y_test)",
              'print(f"after {EPOCHS} epochs: train loss {train_loss:.4f}, test loss {test_loss:.4f}")',
              "# The weights the playground had when this was exported: model = ax.load(\"playground.axon\")", ""]
    return "\n".join(lines)
