"""``axon demo NAME``: the course's examples, with pictures (see :mod:`axon.demos`)."""

from __future__ import annotations

import argparse
from pathlib import Path

EPILOG = """\
demos:
  fit          a piecewise-linear curve fitted by 1, 3 and 10 sigmoids and ReLU pairs (lecture 1)
  xor          the 3-4-1 sigmoid net learning XOR, loss per iteration
  slowdown     quadratic against cross-entropy cost from a saturated neuron (Nielsen ch. 3)
  activations  sigmoid, tanh, ReLU, LeakyReLU and their derivatives
  vanishing    gradient norm per layer, deep sigmoid net against ReLU net (Nielsen ch. 5)
  boundary     decision boundaries on xor, moons and spirals over the epochs
  overfit      training against validation curves: none, L2, dropout, early stopping
  evolve       a population of MLPs evolved on the moons: Pareto front and boundaries
  rnn-vanishing  the gradient reaching each step back in time, plain RNN against LSTM

examples:
  axon demo --list
  axon demo fit
  axon demo vanishing --out figures --seed 1
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``axon demo NAME [--out DIR] [--seed N]``."""
    p = sub.add_parser("demo", help="run one of the course's demos and write its figures",
                       description="Run a demo of the course; PNG figures go into --out.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name", metavar="NAME", nargs="?", help="the demo (see below, or --list)")
    p.add_argument("--out", metavar="DIR", default=None, help="folder for the figures (default demo-NAME)")
    p.add_argument("--seed", type=int, default=0, metavar="N")
    p.add_argument("--list", action="store_true", help="list the demos")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run one of :data:`axon.demos.DEMOS` and print where its pictures are; returns the exit status."""
    from axon.demos import DEMOS

    if args.list:
        for name in DEMOS:
            print(name)
        return 0
    if not args.name:  # a usage error: one line that lists the demos and shows how to run one
        raise ValueError(f"which demo? choose one of {', '.join(DEMOS)}, e.g. `axon demo fit` "
                         f"(what each shows: `axon demo --help`)")
    if args.name not in DEMOS:
        raise ValueError(f"unknown demo {args.name!r}; choose one of {', '.join(DEMOS)}")
    out = Path(args.out or f"demo-{args.name}")
    out.mkdir(parents=True, exist_ok=True)
    result = DEMOS[args.name](out, seed=args.seed)
    print(result.text)
    for f in result.files:
        print(f"wrote {f}")
    return 0
