"""What a search is: the objectives, the genetic algorithm (or TPE, or random search), the pruner,
the trial budget and how each trial trains. One :class:`Settings` is stored in the study, so
every worker that joins the study searches the same way.

Objectives (each trial's figures, with the direction the search pushes them):

==================  ==========  ==============================================================
``val_loss``        minimise    the loss on the validation set of the trial's best epoch,
                                without the L1/L2 penalty (the data term only)
``val_accuracy``    maximise    accuracy on the validation set (classification)
``params``          minimise    trainable parameters, Σ over layers of weights and biases
``inference_time``  minimise    milliseconds to predict 1,000 validation samples (best of 3)
==================  ==========  ==============================================================
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from axon.search.space import SearchSpace
from axon.validation import check_int

#: Objective name -> direction.
OBJECTIVES = {"val_loss": "minimize", "val_accuracy": "maximize", "params": "minimize",
              "inference_time": "minimize"}
#: The search strategies: NSGA-II (the genetic algorithm), TPE (Bayesian), random search.
SAMPLERS = ("nsga2", "tpe", "random")
#: NSGA-II crossover name -> Optuna class name (in optuna.samplers.nsgaii).
CROSSOVERS = {"uniform": "UniformCrossover", "blxalpha": "BLXAlphaCrossover", "sbx": "SBXCrossover",
              "vsbx": "VSBXCrossover", "undx": "UNDXCrossover", "spx": "SPXCrossover"}
#: Pruners: Optuna's MedianPruner on the validation loss (:func:`make_pruner`), or none.
PRUNERS = ("median", "none")


def _probability(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Settings:
    """Everything that decides how a study searches (validated on construction).

    ``population`` trials make a generation; the budget is ``population · generations``
    finished trials (completed or pruned). Each trial trains for up to ``epochs`` epochs with
    early stopping after ``patience`` epochs without a better validation loss (0: no early
    stopping), keeping the best epoch's weights, and with the same ``seed`` for every trial
    (weights, shuffling, dropout), so that ``axon train`` with the trial's options and that seed
    trains the same network. ``heartbeat`` (seconds) is how often a running trial tells the
    storage it is alive; a trial silent for 3 heartbeats is failed and retried.
    """

    space: SearchSpace = field(default_factory=SearchSpace)
    objectives: tuple[str, ...] = ("val_loss", "params")
    population: int = 16
    generations: int = 10
    epochs: int = 20
    patience: int = 5
    sampler: str = "nsga2"
    crossover: str = "uniform"
    crossover_prob: float = 0.9
    mutation_prob: float | None = None
    pruner: str = "median"
    seed: int | None = 0
    heartbeat: int = 5
    task: str = "classification"
    standardize: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.space, dict):
            object.__setattr__(self, "space", SearchSpace.from_dict(self.space))
        if not isinstance(self.space, SearchSpace):
            raise TypeError(f"space must be an axon.search.SearchSpace or a dict, got {type(self.space).__name__}")
        objectives = (self.objectives,) if isinstance(self.objectives, str) else tuple(self.objectives)
        if not 1 <= len(objectives) <= 3 or len(set(objectives)) != len(objectives) \
                or not all(o in OBJECTIVES for o in objectives):
            raise ValueError(f"objectives must be 1 to 3 different names of {', '.join(OBJECTIVES)}; "
                             f"got {list(objectives)}, e.g. objectives=('val_loss', 'params')")
        if self.task not in ("classification", "regression"):
            raise ValueError(f"task must be 'classification' or 'regression', got {self.task!r}")
        if "val_accuracy" in objectives and self.task != "classification":
            raise ValueError("objective val_accuracy needs a classification problem; use val_loss for regression")
        object.__setattr__(self, "objectives", objectives)
        for name, low, example in (("population", 2, 16), ("generations", 1, 10), ("epochs", 1, 20),
                                   ("patience", 0, 5), ("heartbeat", 1, 5)):
            object.__setattr__(self, name, check_int(getattr(self, name), name, minimum=low, example=example))
        if self.sampler not in SAMPLERS:
            raise ValueError(f"sampler must be one of {', '.join(SAMPLERS)}, got {self.sampler!r}")
        if self.crossover not in CROSSOVERS:
            raise ValueError(f"crossover must be one of {', '.join(CROSSOVERS)}, got {self.crossover!r}")
        if self.crossover in ("undx", "spx") and self.population < 3:
            raise ValueError(f"crossover {self.crossover} mixes 3 parents: population must be >= 3")
        _probability(self.crossover_prob, "crossover_prob")
        if self.mutation_prob is not None:
            _probability(self.mutation_prob, "mutation_prob")
        if self.pruner not in PRUNERS:
            raise ValueError(f"pruner must be one of {', '.join(PRUNERS)}, got {self.pruner!r}")
        if self.seed is not None:
            object.__setattr__(self, "seed", check_int(self.seed, "seed", minimum=0, example=0))

    @property
    def n_trials(self) -> int:
        """The budget: ``population · generations`` finished trials."""
        return self.population * self.generations

    @property
    def directions(self) -> list[str]:
        """Optuna's direction per objective."""
        return [OBJECTIVES[o] for o in self.objectives]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values; :meth:`from_dict` reads them back."""
        d = asdict(self)
        d["space"] = self.space.to_dict()
        d["objectives"] = list(self.objectives)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Settings:
        """The inverse of :meth:`to_dict` (unknown keys are an error)."""
        names = set(cls.__dataclass_fields__)
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"settings: unknown keys {sorted(unknown)}")
        return cls(**d)

    def identity(self) -> dict[str, Any]:
        """What every worker of one study must share (all but the budget and the heartbeat)."""
        d = self.to_dict()
        for key in ("generations", "heartbeat"):
            d.pop(key)
        return d

    def with_generations(self, generations: int) -> Settings:
        """The same settings with another budget."""
        return replace(self, generations=generations)


def make_sampler(settings: Settings, worker: int = 0) -> Any:
    """The Optuna sampler of ``settings`` for worker number ``worker`` (each worker its own seed,
    so two workers never draw the same random numbers)."""
    from axon.search._optuna import require_optuna

    optuna = require_optuna()
    seed = None if settings.seed is None else settings.seed + worker
    if settings.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if settings.sampler == "tpe":
        return optuna.samplers.TPESampler(n_startup_trials=settings.population, seed=seed)
    crossover = getattr(optuna.samplers.nsgaii, CROSSOVERS[settings.crossover])()
    return optuna.samplers.NSGAIISampler(population_size=settings.population, crossover=crossover,
                                         crossover_prob=settings.crossover_prob,
                                         mutation_prob=settings.mutation_prob, seed=seed)


def make_pruner(settings: Settings) -> Any:
    """Optuna's MedianPruner on the validation loss, or None (``pruner="none"``).

    A trial is stopped at an epoch when its best validation loss so far is worse than the median
    of the completed trials at that epoch; never in its first quarter of epochs, and not before a
    generation's worth of trials has completed.
    """
    if settings.pruner == "none":
        return None
    from axon.search._optuna import require_optuna

    optuna = require_optuna()
    return optuna.pruners.MedianPruner(n_startup_trials=settings.population,
                                       n_warmup_steps=max(1, math.ceil(settings.epochs / 4)))


__all__ = ["CROSSOVERS", "OBJECTIVES", "PRUNERS", "SAMPLERS", "Settings", "make_pruner", "make_sampler"]
