"""Demo ``activations``: sigmoid, tanh, ReLU and LeakyReLU with their derivatives, drawn from the
same functions the layers use (:mod:`axon.functions`).

Look at the derivatives: σ′ is at most ¼ and vanishes for |z| > 5 (saturation); tanh′ peaks at 1;
ReLU′ is 1 for z > 0 and 0 otherwise (a unit that never fires is dead); LeakyReLU′ is never 0.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from axon import functions as F
from axon.demos._common import DemoResult, new_figure, save

ALPHA = 0.1  # LeakyReLU slope for z < 0, larger than the layer's default 0.01 so it shows in the picture
#: Each function's title in the figure: the parameter it is drawn with is part of the name.
TITLES = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU", "leaky_relu": f"LeakyReLU (α = {ALPHA:g})"}

FUNCTIONS = {
    "sigmoid": (F.sigmoid, F.sigmoid_prime),
    "tanh": (F.tanh, F.tanh_prime),
    "relu": (F.relu, F.relu_prime),
    "leaky_relu": (lambda z: F.leaky_relu(z, ALPHA), lambda z: F.leaky_relu_prime(z, ALPHA)),
}


def run(out_dir: Path, seed: int = 0) -> DemoResult:
    """Plot each activation and its derivative on z in [−6, 6]; numbers: each derivative's maximum
    and its value at z = ±5. ``seed`` is accepted for a uniform interface (no randomness here)."""
    z = np.linspace(-6, 6, 601)
    fig, axes = new_figure(2, 4, size=(15, 6), sharex=True)
    numbers: dict[str, dict[str, float]] = {}
    for col, (name, (f, fprime)) in enumerate(FUNCTIONS.items()):
        a, d = f(z), fprime(z)
        axes[0, col].plot(z, a, color="navy")
        axes[0, col].set_title(TITLES[name])
        axes[1, col].plot(z, d, color="crimson")
        axes[1, col].set_title(f"{TITLES[name]}: derivative", fontsize=10)
        axes[1, col].set_xlabel("z")
        for row in (0, 1):
            axes[row, col].axhline(0, color="0.7", lw=0.6)
            axes[row, col].axvline(0, color="0.7", lw=0.6)
        edge = fprime(np.array([-5.0, 5.0]))
        numbers[name] = {"max_derivative": float(d.max()), "derivative_at_-5": float(edge[0]),
                         "derivative_at_5": float(edge[1])}
    numbers["leaky_relu"]["alpha"] = ALPHA
    axes[0, 0].set_ylabel("a = f(z)")
    axes[1, 0].set_ylabel("f′(z)")
    files = [save(fig, out_dir, "activations.png")]
    text = ("activations: " + "; ".join(f"max {n}′ = {v['max_derivative']:.3g}" for n, v in numbers.items())
            + f".\n  σ′(5) = {numbers['sigmoid']['derivative_at_5']:.4f}: a saturated sigmoid passes almost no gradient."
            + f"\n  LeakyReLU is drawn with α = {ALPHA:g} (slope for z < 0; the layer's default is 0.01).")
    return DemoResult("activations", files, numbers, text)
