"""One trial: draw an architecture, train it as ``axon train`` would, save it, return its figures.

Each trial writes ``trials/NNNN/`` in the run folder (NNNN = the trial's number in the study):
``model.axon`` (the best epoch's weights), ``history.csv`` (one row per epoch) and ``run.json``
(the trial's options in ``axon train``'s layout, so ``axon evaluate trials/NNNN/model.axon``
finds the same data and split). The trial's user attributes in the study hold the
architecture and which worker (host:pid) runs it (written when it starts), then the
``outcome``: the figures, the model file's path, the epochs run and the seconds it took.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import Any

import numpy as np

from axon.search.settings import Settings, make_pruner

#: The study's system attribute that holds a trial's generation under NSGA-II.
GENERATION_KEY = "NSGAIISampler:generation"
#: The user attribute of a finished trial with its figures, model file and timings.
OUTCOME_ATTR = "outcome"
#: The folder of a run that holds one subfolder per trial (``trials/0007/``: model, history, run.json).
TRIALS_DIR = "trials"


def worker_name() -> str:
    """``host:pid`` of this process (a trial's ``worker`` attribute)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def trial_dir(run_dir: Path, number: int) -> Path:
    """The folder of trial ``number`` in ``run_dir``."""
    return Path(run_dir) / TRIALS_DIR / f"{number:04d}"


def inference_ms(model: Any, X: np.ndarray, repeats: int = 3) -> float:
    """Milliseconds to predict 1,000 samples of ``X`` (the best of ``repeats`` passes)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict(X)
        best = min(best, time.perf_counter() - start)
    return 1000.0 * best * 1000.0 / max(len(X), 1)


def data_loss(model: Any, X: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """``model.evaluate`` on (X, y) with the L1/L2 penalty taken out of the loss (the data term)."""
    figures = model.evaluate(X, y)
    figures["loss"] = float(figures["loss"]) - model.penalty()
    return figures


class TrialRunner:
    """The Optuna objective: ``runner(trial)`` trains one architecture and returns the objectives.

    ``lock`` (a :class:`axon.search.storage.StudyLock`) is released first thing: the worker held
    it while the trial was being created. ``data`` is an :class:`axon.cli.data.Dataset` whose
    ``extra`` holds ``validation_split`` and ``seed`` of its split.
    """

    def __init__(self, settings: Settings, data: Any, run_dir: Path, lock: Any, *, verbose: int = 1,
                 prefix: str = "") -> None:
        self.settings, self.data, self.run_dir, self.lock = settings, data, Path(run_dir), lock
        self.verbose, self.prefix = verbose, prefix
        self.pruner = make_pruner(settings)

    def __call__(self, trial: Any) -> float | tuple[float, ...]:
        self.lock.release()
        from axon.search._optuna import require_optuna

        optuna = require_optuna()
        import axon as ax
        from axon import runs
        from axon.callbacks import CSVLogger
        from axon.search.pruning import CURVE_ATTR, OptunaPruning
        from axon.training import TrainingDivergedError

        s, data = self.settings, self.data
        start = time.perf_counter()
        arch = s.space.suggest(trial)
        trial.set_user_attr("architecture", arch.to_dict())
        trial.set_user_attr("worker", worker_name())
        twin = self._twin(trial, arch)
        if twin is not None:
            return self._copy(trial, arch, twin, start)
        ax.set_seed(s.seed)
        model = arch.build(data.input_shape, data.n_outputs)
        if s.standardize:
            from axon.preprocessing import Standardizer
            model.preprocessor = Standardizer().fit(data.X_train)
        kwargs: dict[str, Any] = {"lr": arch.lr}
        if arch.optimizer == "sgd":
            kwargs["momentum"] = 0.9  # as axon train
        classification = s.task == "classification"
        model.compile(loss="cross_entropy" if classification else "mse",
                      optimizer=ax.optim.get_optimizer(arch.optimizer, **kwargs),
                      metrics=["accuracy"] if classification else ["mae"])
        callbacks: list[Any] = []
        if s.patience:
            callbacks.append(ax.callbacks.EarlyStopping(monitor="val_loss", patience=s.patience, restore_best=True))
        pruning = OptunaPruning(trial, self.pruner) if self.pruner is not None else None
        if pruning is not None:
            callbacks.append(pruning)
        try:
            history = model.fit(data.X_train, data.y_train, epochs=s.epochs, batch_size=arch.batch_size,
                                validation_data=(data.X_val, data.y_val), callbacks=callbacks, shuffle=True,
                                seed=s.seed, verbose=0)
        except TrainingDivergedError as e:
            trial.set_user_attr("diverged", str(e))
            self._say(trial, arch, None, f"diverged: {e}")
            raise optuna.TrialPruned(f"training diverged: {e}") from None
        if getattr(history, "interrupted", False):
            raise KeyboardInterrupt
        figures = data_loss(model, data.X_val, data.y_val)
        n_params = model.count_params()
        ms = inference_ms(model, data.X_val)
        folder = trial_dir(self.run_dir, trial.number)
        folder.mkdir(parents=True, exist_ok=True)
        ax.save(model, folder / runs.MODEL_FILE)
        CSVLogger.write(folder / runs.HISTORY_FILE, history.history)
        runs.write_json(folder / runs.RUN_INFO_FILE, self._run_info(trial.number, arch))
        pruned_at = pruning.pruned_at if pruning is not None else None
        attrs: dict[str, Any] = {"val_loss": figures["loss"], "params": n_params, "inference_time": ms,
                 "epochs_run": len(history.epoch), "pruned_at": pruned_at,
                 "model_path": str((folder / runs.MODEL_FILE).resolve()),
                 "seconds": round(time.perf_counter() - start, 3)}
        if classification:
            attrs["val_accuracy"] = float(figures["accuracy"])
        else:
            attrs["val_mae"] = float(figures["mae"])
        # Few attributes, each one write: on an SQL storage every write is a transaction.
        trial.set_user_attr(OUTCOME_ATTR, attrs)
        if pruning is not None:
            trial.set_user_attr(CURVE_ATTR, pruning.curve)
        self._say(trial, arch, attrs)
        if pruned_at is not None and len(s.objectives) == 1:
            raise optuna.TrialPruned(f"pruned at epoch {pruned_at + 1}")
        values = tuple(float(attrs[o]) for o in s.objectives)
        return values[0] if len(values) == 1 else values

    def _twin(self, trial: Any, arch: Any) -> Any:
        """A completed trial of this study, trained to the end, with the same architecture (a child
        that inherited every gene that matters from one parent), or None."""
        from optuna.trial import TrialState

        mine = arch.to_dict()
        for t in trial.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            outcome = t.user_attrs.get(OUTCOME_ATTR)
            if (outcome and outcome.get("pruned_at") is None and outcome.get("same_as") is None
                    and t.user_attrs.get("architecture") == mine and Path(outcome["model_path"]).is_file()):
                return t
        return None

    def _copy(self, trial: Any, arch: Any, twin: Any, start: float) -> float | tuple[float, ...]:
        """Take a twin's figures and model file: training is deterministic (one seed for every
        trial), so training the same network again would give the same numbers."""
        from axon.search.pruning import CURVE_ATTR

        attrs = {**twin.user_attrs[OUTCOME_ATTR], "same_as": twin.number,
                 "seconds": round(time.perf_counter() - start, 3)}
        trial.set_user_attr(OUTCOME_ATTR, attrs)
        if CURVE_ATTR in twin.user_attrs:
            trial.set_user_attr(CURVE_ATTR, twin.user_attrs[CURVE_ATTR])
        self._say(trial, arch, attrs, f"same network as trial {twin.number}: its figures")
        values = tuple(float(attrs[o]) for o in self.settings.objectives)
        return values[0] if len(values) == 1 else values

    def _run_info(self, number: int, arch: Any) -> dict[str, Any]:
        s, data = self.settings, self.data
        image = any(t.startswith("conv") for t in arch.layers.split(","))
        config = {"dataset": data.name, "model": "cnn" if image else "mlp", "layers": arch.layers,
                  "activation": arch.activations[0] if arch.activations else "relu",
                  "dropout": arch.dropout, "optimizer": arch.optimizer, "lr": arch.lr, "momentum": 0.9,
                  "batch_size": arch.batch_size, "l1": arch.l1, "l2": arch.l2, "epochs": s.epochs,
                  "early_stopping": s.patience, "seed": data.extra.get("seed", s.seed),
                  "validation_split": data.extra.get("validation_split"), "standardize": s.standardize,
                  "target": data.target_name if str(data.name).startswith("csv:") else None}
        return {"command": arch.train_command(data.name, epochs=s.epochs, patience=s.patience, seed=s.seed),
                "config": config, "task": data.task, "dataset": data.name, "target_name": data.target_name,
                "feature_names": data.feature_names, "class_names": data.class_names,
                "input_shape": list(data.input_shape),
                "image_shape": list(data.image_shape) if data.image_shape else None,
                "trial": number, "architecture": arch.to_dict()}

    def _say(self, trial: Any, arch: Any, attrs: dict[str, Any] | None, note: str = "") -> None:
        if not self.verbose:
            return
        gen = trial.storage.get_trial_system_attrs(trial._trial_id).get(GENERATION_KEY)
        head = f"{self.prefix}trial {trial.number:>4}" + (f"  gen {gen:>2}" if gen is not None else "")
        if attrs is None or note:
            print(f"{head}  {arch}  {note}", flush=True)
            return
        acc = f"  acc {attrs['val_accuracy']:.3f}" if "val_accuracy" in attrs else ""
        stop = f" (pruned at {attrs['pruned_at'] + 1})" if attrs["pruned_at"] is not None else ""
        print(f"{head}  {arch}  ->  val_loss {attrs['val_loss']:.4f}{acc}  {attrs['params']:,} params  "
              f"{attrs['epochs_run']} epochs{stop}  {attrs['seconds']:.1f} s", flush=True)


__all__ = ["GENERATION_KEY", "OUTCOME_ATTR", "TrialRunner", "data_loss", "inference_ms", "trial_dir", "worker_name"]
