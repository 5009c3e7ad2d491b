"""Evolving architectures: let the network design itself (``ax.search``, extra ``[search]``).

The course asks "how many layers, how many neurons?" and answers: by experiment, or
automatically, with evolutionary algorithms over network structures. :func:`evolve` runs such a
search with Optuna: its NSGA-II sampler is the genetic algorithm (each child mixes two parents'
genes, crossover, and changes some at random, mutation; the fittest of parents and children
by Pareto rank and crowding survive), with several objectives at once (validation loss and
size, by default), pruning of hopeless trials per epoch, and a study in a database that
workers on one machine or many share::

    import axon as ax
    (X, y), (X_test, y_test) = ax.datasets.load_digits()
    result = ax.search.evolve(X, y, test_data=(X_test, y_test), population=8, generations=4)
    result.front          # the Pareto-optimal trials, each with its model file and history
    result.best.load_model()

``axon evolve`` does the same from the command line on the data sets of ``axon train``.
Optuna is imported when a search starts; without it the error names ``pip install -e ".[search]"``.
See docs/search.md.
"""

from __future__ import annotations

from axon.search.evolve import evolve
from axon.search.result import EvolveResult, TrialRecord
from axon.search.settings import OBJECTIVES, Settings
from axon.search.space import Architecture, SearchSpace

__all__ = ["OBJECTIVES", "Architecture", "EvolveResult", "SearchSpace", "Settings", "TrialRecord", "evolve"]
