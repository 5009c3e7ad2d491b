"""What a search returns: every finished trial as a :class:`TrialRecord`, the Pareto front, the
chosen model, and the Optuna study itself (:class:`EvolveResult`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from axon.search.settings import Settings
from axon.search.space import Architecture
from axon.search.trial import GENERATION_KEY, OUTCOME_ATTR


@dataclass
class TrialRecord:
    """One finished trial of the study.

    ``values`` maps each objective to the trial's figure; ``figures`` holds all of them
    (``val_loss``, ``val_accuracy`` or ``val_mae``, ``params``, ``inference_time`` in ms per
    1,000 samples, ``epochs_run``, ``seconds``). ``generation`` is NSGA-II's generation (for TPE
    and random search: the finished trials in order, ``population`` at a time). ``pruned_at``
    is the 0-based epoch at which the pruner stopped it, or None. ``same_as`` is the earlier
    trial whose network it drew again (it took that trial's figures and model instead of
    training the same thing twice). ``retry_of`` is the trial whose worker died while running
    it: this one ran it again with the same genes. ``model_path`` is the model
    file (None when it is not on this machine); ``test`` the test figures, filled in for the
    Pareto front and the chosen trial when the data have a test set.
    """

    number: int
    state: str
    generation: int
    architecture: Architecture
    figures: dict[str, float]
    values: dict[str, float]
    pruned_at: int | None = None
    model_path: Path | None = None
    worker: str = ""
    retry_of: int | None = None
    same_as: int | None = None
    test: dict[str, float] | None = None

    @property
    def params(self) -> int:
        """Trainable parameters."""
        return int(self.figures.get("params", 0))

    @property
    def val_loss(self) -> float:
        """Validation loss (data term) of the best epoch."""
        return float(self.figures.get("val_loss", float("nan")))

    def load_model(self) -> Any:
        """The trained model (``ax.load`` of :attr:`model_path`)."""
        if self.model_path is None:
            raise ValueError(f"trial {self.number}: its model file is not on this machine (it was trained by "
                             f"{self.worker or 'another worker'})")
        import axon as ax
        return ax.load(self.model_path)

    @property
    def history(self) -> dict[str, list[float]]:
        """The trial's training history (``history.csv`` beside the model), or {} when absent."""
        from axon import runs

        if self.model_path is None or not (self.model_path.parent / runs.HISTORY_FILE).is_file():
            return {}
        from axon.callbacks import CSVLogger

        return CSVLogger.read(self.model_path.parent / runs.HISTORY_FILE)


@dataclass
class EvolveResult:
    """The outcome of :func:`axon.search.evolve`.

    ``front``: the Pareto-optimal completed trials (no other trial is at least as good in every
    objective and better in one), ordered by the first objective; ``best``: the front's best
    trial in the first objective (fewer parameters break ties), the chosen model; ``trials``:
    every completed or pruned trial, by number; ``failed``: numbers of failed trials (killed
    workers, Ctrl-C); ``study``: the ``optuna.Study``; ``run_dir`` and ``report`` (report.html).
    """

    front: list[TrialRecord]
    best: TrialRecord | None
    trials: list[TrialRecord]
    failed: list[int]
    study: Any
    settings: Settings
    run_dir: Path
    report: Path | None = None
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        best = f"best trial {self.best.number} {self.best.architecture}" if self.best else "no completed trial"
        return (f"EvolveResult({len(self.trials)} trials, {len(self.front)} on the Pareto front, {best}, "
                f"run folder {self.run_dir})")


def _record(t: Any, generation: int, settings: Settings) -> TrialRecord:
    attrs = {**t.user_attrs[OUTCOME_ATTR], "architecture": t.user_attrs["architecture"],
             "worker": t.user_attrs.get("worker", "")}
    figures = {k: attrs[k] for k in ("val_loss", "val_accuracy", "val_mae", "params", "inference_time",
                                     "epochs_run", "seconds") if attrs.get(k) is not None}
    values = ({o: float(v) for o, v in zip(settings.objectives, t.values)} if t.values is not None
              else {o: float(figures[o]) for o in settings.objectives if o in figures})
    path = Path(attrs["model_path"]) if attrs.get("model_path") else None
    return TrialRecord(number=t.number, state=t.state.name, generation=generation,
                       architecture=Architecture.from_dict(attrs["architecture"]), figures=figures,
                       values=values, pruned_at=attrs.get("pruned_at"),
                       model_path=path if path is not None and path.is_file() else None,
                       worker=attrs.get("worker", ""), retry_of=t.system_attrs.get("failed_trial"),
                       same_as=attrs.get("same_as"))


def collect(study: Any, settings: Settings, run_dir: Path) -> EvolveResult:
    """Read the study's finished trials into an :class:`EvolveResult` (front and best included)."""
    from optuna.trial import TrialState

    finished = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
                if "architecture" in t.user_attrs and OUTCOME_ATTR in t.user_attrs]
    finished.sort(key=lambda t: t.number)
    records = []
    for rank, t in enumerate(finished):
        gen = t.system_attrs.get(GENERATION_KEY)
        records.append(_record(t, int(gen) if gen is not None else rank // settings.population, settings))
    by_number = {r.number: r for r in records}
    front_numbers = {t.number for t in study.best_trials} if any(r.state == "COMPLETE" for r in records) else set()
    first = settings.objectives[0]
    sign = -1.0 if settings.directions[0] == "maximize" else 1.0
    ranked = sorted((by_number[n] for n in front_numbers if n in by_number),
                    key=lambda r: (sign * r.values[first], r.params, r.number))
    # A trial that drew an earlier trial's network again is that network: on the front once.
    front, seen = [], set()
    for r in ranked:
        key = json.dumps(r.architecture.to_dict(), sort_keys=True)
        if key not in seen:
            seen.add(key)
            front.append(r)
    failed = [t.number for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,))]
    return EvolveResult(front=front, best=front[0] if front else None, trials=records, failed=failed,
                        study=study, settings=settings, run_dir=Path(run_dir))


__all__ = ["EvolveResult", "TrialRecord", "collect"]
