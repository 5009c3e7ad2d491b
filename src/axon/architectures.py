"""Ready-made models from a short text spec, as the command line's ``--layers`` takes it.

The spec is a comma-separated list of hidden layers; each integer is a Dense layer of that many
units followed by the activation (and Dropout when ``dropout`` > 0). The output layer (``n_outputs``
units, no activation: the loss adds the link) is appended. ``"256,128"`` with 784 inputs and 10
outputs gives 784 → 256 → 128 → 10.
"""

from __future__ import annotations

from axon.layers import Dense, Dropout, LeakyReLU, ReLU, Sigmoid, Tanh
from axon.layers.base import Layer
from axon.model import Sequential

ACTIVATIONS: dict[str, type[Layer]] = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh, "leaky_relu": LeakyReLU}

#: The default initialiser for each activation (He for the ReLU family, Glorot for squashing units).
DEFAULT_INIT = {"relu": "he", "leaky_relu": "he", "sigmoid": "xavier", "tanh": "xavier"}


def parse_hidden(spec: str | list[int] | tuple[int, ...]) -> list[int]:
    """Hidden layer sizes from ``"256,128"`` (or a list); raises ValueError naming a bad token."""
    if isinstance(spec, (list, tuple)):
        tokens = [str(t) for t in spec]
    else:
        tokens = [t.strip() for t in str(spec).split(",") if t.strip()]
    sizes = []
    for t in tokens:
        if not t.isdigit() or int(t) < 1:
            raise ValueError(f"--layers: {t!r} is not a positive layer size; write e.g. --layers 256,128")
        sizes.append(int(t))
    return sizes


def build_mlp(n_inputs: int, hidden: str | list[int] | tuple[int, ...], n_outputs: int, *,
              activation: str = "relu", dropout: float = 0.0, l1: float = 0.0, l2: float = 0.0,
              init: str | None = None) -> Sequential:
    """A multilayer perceptron: [Dense → activation (→ Dropout)] per hidden size, then Dense(n_outputs)."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
    init = init or DEFAULT_INIT[activation]
    layers: list[Layer] = []
    width = n_inputs
    for size in parse_hidden(hidden):
        layers += [Dense(width, size, init=init, l1=l1, l2=l2), ACTIVATIONS[activation]()]
        if dropout:
            layers.append(Dropout(dropout))
        width = size
    layers.append(Dense(width, n_outputs, init="xavier", l1=l1, l2=l2))
    return Sequential(*layers)
