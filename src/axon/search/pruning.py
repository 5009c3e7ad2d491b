"""Pruning hopeless trials epoch by epoch: a fit callback between axon and an Optuna pruner.

After every epoch the callback records the validation loss (without the L1/L2 penalty) and asks
the pruner (Optuna's MedianPruner, or any ``optuna.pruners.BasePruner``) whether the trial may
go on, showing it this trial's curve and the curves of the completed trials. When the pruner
says stop, the fit ends after this epoch (early stopping then puts back the best epoch's
weights) and :attr:`OptunaPruning.pruned_at` holds the epoch.

The curves travel as one user attribute per trial, ``val_loss_curve``, written when the trial
ends, rather than as Optuna's intermediate values written one epoch at a time: on an SQL
storage each write is a transaction of about 10 ms, which for a small network is as long as an
epoch. The completed trials are read once, when the trial starts. The pruner always judges the
validation loss, a loss to minimise, whatever the objectives of the study.

What a stop means depends on the study. With one objective the trial then raises
``optuna.TrialPruned`` and Optuna records it as PRUNED. Optuna does not prune trials of
multi-objective studies, so there the trial completes with the figures it reached: a network
stopped early is simply a worse individual, it keeps its place in the population, and NSGA-II's
generations stay full.
"""

from __future__ import annotations

from typing import Any

from axon.callbacks import Callback

#: The user attribute of a trial that holds its validation-loss curve, one value per epoch.
CURVE_ATTR = "val_loss_curve"


class _LossView:
    """The study as a pruner of the validation loss sees it: minimise, and each completed trial
    with its ``val_loss_curve`` as its intermediate values (read once, at the trial's start)."""

    def __init__(self, study: Any) -> None:
        import optuna
        from optuna.study import StudyDirection
        from optuna.trial import TrialState

        self.direction = StudyDirection.MINIMIZE
        self._complete = [
            optuna.trial.create_trial(state=TrialState.COMPLETE, values=t.values,
                                      intermediate_values=dict(enumerate(t.user_attrs[CURVE_ATTR])))
            for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)) if CURVE_ATTR in t.user_attrs]

    def get_trials(self, deepcopy: bool = True, states: Any = None) -> list[Any]:
        from optuna.trial import TrialState

        return list(self._complete) if states is None or TrialState.COMPLETE in states else []


class OptunaPruning(Callback):
    """Record ``val_loss`` (data term) per epoch and stop the fit when ``pruner`` prunes the
    trial (see the module docstring).

    Attributes: ``pruned_at`` (0-based epoch of the stop, or None) and ``curve`` (one value per
    epoch, for the trial's ``val_loss_curve`` attribute).
    """

    def __init__(self, trial: Any, pruner: Any) -> None:
        self.trial = trial
        self.pruner = pruner
        self.pruned_at: int | None = None
        self.curve: list[float] = []
        self._view: _LossView | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._view = _LossView(self.trial.study)
        self.curve, self.pruned_at = [], None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        import optuna
        from optuna.trial import TrialState

        if not logs or "val_loss" not in logs:
            return
        self.curve.append(float(logs["val_loss"]) - self.model.penalty())
        me = optuna.trial.create_trial(state=TrialState.RUNNING, intermediate_values=dict(enumerate(self.curve)))
        if self.pruner.prune(self._view, me):
            self.pruned_at = epoch
            self.model.stop_training = True


__all__ = ["CURVE_ATTR", "OptunaPruning"]
