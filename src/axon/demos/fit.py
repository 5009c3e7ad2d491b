"""Demo ``fit``: the course's seed story. A piecewise-linear curve is a constant plus hard sigmoids,
and any such curve is approximated by a sum of sigmoids, y = b + Σᵢ cᵢ σ(bᵢ + wᵢ x) (lecture 1).
More sigmoids fit it better; a hard sigmoid is also two ReLUs, c·[ReLU(w(x − a)) − ReLU(w(x − a′))],
so k ReLU pairs (2k ReLU units) do the same job.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from axon.datasets import make_curve
from axon.demos._common import DemoResult, new_figure, save
from axon.layers import Dense, ReLU, Sigmoid
from axon.losses import MSE
from axon.model import Sequential
from axon.optim import SGD

KS = (1, 3, 10)
STEPS = 4000


def sum_of_units(k: int, unit: str, rng: np.random.Generator, lo: float, hi: float) -> Sequential:
    """x (n, 1) → Dense(1, m) → Sigmoid or ReLU → Dense(m, 1): y = b + Σᵢ cᵢ f(bᵢ + wᵢ x).

    m = k sigmoids or 2k ReLUs (k pairs). Each unit starts with a random slope wᵢ and its centre
    −bᵢ/wᵢ spread evenly over [lo, hi], so every unit begins where the data is (with all biases 0,
    every unit would bend at x = 0 and gradient descent would have to move them all apart).
    """
    m = k if unit == "sigmoid" else 2 * k
    first, last = Dense(1, m, seed=rng), Dense(m, 1, seed=rng)
    scale = (3.0 if unit == "sigmoid" else 1.0) * 6.0 / (hi - lo)  # slopes for the width of the data
    w = rng.choice([-1.0, 1.0], m) * rng.uniform(0.5 * scale, 1.5 * scale, m)
    centre = np.linspace(lo, hi, m + 2)[1:-1] + rng.normal(0.0, 0.2, m)
    assert first.bias is not None
    first.weight.data[0] = w
    first.bias.data[:] = -w * centre
    return Sequential(first, Sigmoid() if unit == "sigmoid" else ReLU(), last)


def components(model: Sequential, x: np.ndarray) -> np.ndarray:
    """Each unit's contribution cᵢ f(bᵢ + wᵢ x), shape (len(x), m)."""
    first, act, last = model.layers
    assert isinstance(last, Dense)
    hidden = act.forward(first.forward(x))
    return hidden * last.weight.data[:, 0]


def run(out_dir: Path, seed: int = 0) -> DemoResult:
    """Fit the curve with 1, 3 and 10 sigmoids and as many ReLU pairs; one figure of the fits and
    their component units. Numbers: the final training MSE for each k and unit type."""
    x, y = make_curve("piecewise", 200, noise=0.05, seed=seed, dtype=np.float32)
    lo, hi = float(x.min()), float(x.max())
    grid = np.linspace(lo, hi, 400, dtype=np.float32)[:, None]
    rng = np.random.default_rng(seed)
    loss = MSE()
    mse: dict[str, dict[int, float]] = {"sigmoid": {}, "relu": {}}
    fig, axes = new_figure(2, len(KS), size=(4.0 * len(KS), 6.5), sharex=True)
    for row, unit in enumerate(("sigmoid", "relu")):
        for col, k in enumerate(KS):
            model = sum_of_units(k, unit, rng, lo, hi)
            opt = SGD(model.parameters(), lr=0.1 if unit == "sigmoid" else 0.01, momentum=0.9)
            for _ in range(STEPS):  # full-batch gradient descent: θ ← θ − η·g
                loss.forward(model.forward(x), y)
                model.zero_grad()
                model.backward(loss.backward())
                opt.step()
            mse[unit][k] = float(loss.forward(model.forward(x), y))
            ax = axes[row, col]
            ax.scatter(x[:, 0], y[:, 0], s=6, color="0.6", label="data")
            parts = components(model, grid)
            out_layer = model.layers[2]
            assert isinstance(out_layer, Dense) and out_layer.bias is not None
            bias = float(out_layer.bias.data[0])
            for j in range(parts.shape[1]):
                ax.plot(grid[:, 0], parts[:, j], lw=0.8, ls="--", alpha=0.7)
            ax.plot(grid[:, 0], model.forward(grid)[:, 0], color="crimson", lw=2, label="b + Σ components")
            name = f"{k} sigmoid{'s' * (k > 1)}" if unit == "sigmoid" else f"{k} ReLU pair{'s' * (k > 1)}"
            ax.set_title(f"{name}: MSE {mse[unit][k]:.4f}")
            ax.axhline(bias, color="0.3", lw=0.6, label="b (the constant)")
    axes[0, 0].set_ylabel(r"dashed: $c_i\,\sigma(b_i + w_i x)$")
    axes[1, 0].set_ylabel(r"dashed: $c_j\,\mathrm{ReLU}(b_j + w_j x)$")
    axes[0, 0].legend(loc="upper left", fontsize=8)
    fig.suptitle("A curve as a constant plus a sum of sigmoids (top) or of ReLU pairs (bottom)")
    files = [save(fig, out_dir, "fit.png")]
    text = ("fit: a piecewise-linear curve fitted by y = b + Σ cᵢ σ(bᵢ + wᵢ x).\n"
            + "\n".join(f"  {unit:>7}: " + ", ".join(f"k={k} MSE {v:.4f}" for k, v in mse[unit].items())
                        for unit in mse)
            + "\nMore units give a more flexible model (less model bias): the error falls as k grows.")
    return DemoResult("fit", files, {"mse": {u: {str(k): v for k, v in d.items()} for u, d in mse.items()},
                                     "ks": list(KS), "steps": STEPS}, text)

