"""Demo ``evolve``: can the structure be found automatically? A population of small MLPs on the two
moons evolves with NSGA-II (:func:`axon.search.evolve`) towards low validation loss and few
parameters; the pictures are the Pareto front and the decision boundaries of the front's networks,
from the smallest (a straight line) to the best. Needs Optuna (``pip install -e ".[search]"``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from axon.datasets import make_moons
from axon.demos._common import DemoResult, new_figure, save
from axon.demos.boundary import _draw, _grid

#: Networks per generation.
POPULATION = 8
#: Generations of NSGA-II.
GENERATIONS = 3
#: Most epochs per network (early stopping after 10 without a better validation loss).
EPOCHS = 40
#: Decision boundaries drawn: front members from the smallest to the best.
SHOWN = 4


def run(out_dir: Path, seed: int = 0) -> DemoResult:
    """Evolve 2-D classifiers on the moons; write ``evolve_front.png`` (validation loss against
    parameters, every trial coloured by generation, the front in red) and
    ``evolve_boundaries.png``. Numbers: the front (layers, parameters, validation loss and
    accuracy) and the best validation accuracy of each generation."""
    from axon.search import SearchSpace, evolve

    X, y = make_moons(300, noise=0.2, seed=seed, dtype=np.float32)
    space = SearchSpace(depth=(0, 2), units=(2, 4, 8, 16, 32), activations=("tanh", "relu"), dropout=(0.0, 0.0),
                        batch_norm=(False,), optimizers=("adam",), lr=(3e-3, 3e-2), batch_size=(32,), l2=(0.0,))
    result = evolve(X, y, space=space, population=POPULATION, generations=GENERATIONS, epochs=EPOCHS, patience=10,
                    validation_split=0.3, seed=seed, out=Path(out_dir) / "evolve-run", verbose=0, report=False)
    trials, front = result.trials, result.front

    fig, axes = new_figure(size=(6.0, 4.2))
    ax = axes[0, 0]
    sc = ax.scatter([t.params for t in trials], [t.val_loss for t in trials], c=[t.generation for t in trials],
                    cmap="viridis", s=22, alpha=0.85)
    fig.colorbar(sc, ax=ax, label="generation")
    ax.plot([t.params for t in sorted(front, key=lambda t: t.params)],
            [t.val_loss for t in sorted(front, key=lambda t: t.params)], "o-", color="red", mfc="none", ms=9,
            label="Pareto front")
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlabel("parameters")
    ax.set_ylabel("validation loss")
    ax.set_title("Each dot a trained network: smaller or better, not both")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    files = [save(fig, out_dir, "evolve_front.png")]

    by_size = sorted(front, key=lambda t: t.params)
    picks = by_size if len(by_size) <= SHOWN else [by_size[round(i * (len(by_size) - 1) / (SHOWN - 1))]
                                                    for i in range(SHOWN)]
    fig, axes = new_figure(1, len(picks), size=(3.0 * len(picks), 3.2))
    grid = _grid(X)
    for ax, t in zip(axes[0], picks):
        acc = t.figures.get("val_accuracy", float("nan"))
        _draw(ax, t.load_model(), X, y, grid, f"[{t.architecture.layers or 'linear'}] {t.architecture.activation}\n"
                                              f"{t.params} params, val acc {acc:.2f}")
    fig.suptitle("The front's networks: a straight line first, then bent by hidden units")
    files.append(save(fig, out_dir, "evolve_boundaries.png"))

    per_gen: dict[int, float] = {}
    for t in trials:
        per_gen[t.generation] = max(per_gen.get(t.generation, 0.0), float(t.figures.get("val_accuracy", 0.0)))
    front_rows = [{"trial": t.number, "layers": t.architecture.layers, "activation": t.architecture.activation,
                   "params": t.params, "val_loss": round(t.val_loss, 4),
                   "val_accuracy": round(float(t.figures.get("val_accuracy", np.nan)), 4)} for t in by_size]
    numbers = {"front": front_rows, "trials": len(trials),
               "best_val_accuracy_per_generation": [round(per_gen[g], 4) for g in sorted(per_gen)]}
    text = (f"evolve: {len(trials)} networks in {GENERATIONS} generations of {POPULATION} (NSGA-II, objectives "
            f"validation loss and parameters); {len(front)} on the Pareto front:\n"
            + "\n".join(f"  [{f['layers'] or 'linear'}] {f['activation']:>5}: {f['params']:>5} params, validation "
                        f"loss {f['val_loss']:.3f}, accuracy {f['val_accuracy']:.2f}" for f in front_rows))
    return DemoResult("evolve", files, numbers, text)
