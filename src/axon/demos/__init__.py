"""The course's examples, with pictures: ``axon demo NAME`` or ``axon.demos.DEMOS[NAME](out_dir)``.

Each demo trains small models with the explicit loop of the course, writes PNG figures (matplotlib,
imported only when a demo runs) into ``out_dir`` and returns a :class:`DemoResult` with the files,
the numbers behind the pictures and a short text.

==============  ===========================================================================
``fit``         a piecewise-linear curve fitted by 1, 3, 10 sigmoids and as many ReLU pairs
``xor``         the 3-4-1 sigmoid network of "a neural network in 11 lines" on XOR
``slowdown``    quadratic against cross-entropy cost from a saturated neuron (Nielsen ch. 3)
``activations`` sigmoid, tanh, ReLU, LeakyReLU and their derivatives
``vanishing``   gradient norm per layer, deep sigmoid net against ReLU net (Nielsen ch. 5)
``boundary``    decision boundaries on xor, moons and spirals taking shape over epochs
``overfit``     training against validation loss: none, L2, dropout, early stopping
``evolve``      NSGA-II evolves MLPs on the moons: the Pareto front and its boundaries
``rnn-vanishing`` gradient reaching each step and recall over T steps, plain RNN against LSTM
==============  ===========================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from axon.demos import activations, boundary, evolve, fit, overfit, rnn_vanishing, slowdown, vanishing, xor
from axon.demos._common import DemoResult

#: Demo name → ``run(out_dir: Path, seed: int = 0) -> DemoResult``.
DEMOS: dict[str, Callable[..., DemoResult]] = {
    "fit": fit.run,
    "xor": xor.run,
    "slowdown": slowdown.run,
    "activations": activations.run,
    "vanishing": vanishing.run,
    "boundary": boundary.run,
    "overfit": overfit.run,
    "evolve": evolve.run,
    "rnn-vanishing": rnn_vanishing.run,
}


def run_demo(name: str, out_dir: str | Path = ".", seed: int = 0) -> DemoResult:
    """Run the demo ``name`` (see :data:`DEMOS`), writing its figures into ``out_dir``."""
    if name not in DEMOS:
        raise ValueError(f"unknown demo {name!r}; choose one of {', '.join(DEMOS)}")
    return DEMOS[name](Path(out_dir), seed=seed)


__all__ = ["DEMOS", "DemoResult", "run_demo"]
