"""``evolve``: search architectures with Optuna, on one machine or many, into a run folder.

The steps of :func:`run`: check the space against the data, create a run folder, open (or
join) the study in its storage, store the settings in it, let the workers spend the trial
budget, then read the Pareto front back, test the front's models, copy the chosen one to
``model.axon`` and write ``metrics.json`` and ``report.html``.

Run folder of a search::

    run.json        the command, the storage (password hidden), the study, the settings, the data
    study.db        the study (SQLite, when no other storage is given)
    trials/NNNN/    model.axon, history.csv, run.json of each trial this machine ran
    model.axon      the chosen model (the front's best in the first objective)
    metrics.json    the chosen model's figures, the trial counts, the wall time
    report.html     the front, the generations, the parameter importances, the test figures
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from axon.search.result import EvolveResult, collect
from axon.search.settings import Settings
from axon.search.space import SearchSpace
from axon.validation import check_int

#: The study's user attributes that hold the settings of the search and its latest budget.
SETTINGS_ATTR = "axon_settings"
GENERATIONS_ATTR = "axon_generations"


def evolve(X: Any, y: Any, *, space: SearchSpace | dict | None = None,
           objectives: tuple[str, ...] | list[str] = ("val_loss", "params"), population: int = 16,
           generations: int = 10, storage: str | None = None, study: str | None = None, seed: int | None = 0,
           validation_data: tuple[Any, Any] | None = None, validation_split: float = 0.1,
           test_data: tuple[Any, Any] | None = None, sampler: str = "nsga2", crossover: str = "uniform",
           crossover_prob: float = 0.9, mutation_prob: float | None = None, epochs: int = 20, patience: int = 5,
           pruner: str = "median", standardize: bool = False, workers: int = 1,
           out: str | Path | None = None, heartbeat: int = 5, verbose: int = 1,
           report: bool = True) -> EvolveResult:
    """Evolve network architectures for (X, y); returns the Pareto front of trained models.

    Each trial draws an architecture from ``space`` (a :class:`SearchSpace`, a dict of its
    fields, or None for the default MLP space), trains it like ``axon train`` for up to
    ``epochs`` epochs with early stopping after ``patience`` epochs (the best epoch's weights
    kept), and is scored on the validation set by ``objectives`` (see
    :mod:`axon.search.settings`: ``val_loss``, ``val_accuracy``, ``params``,
    ``inference_time``). ``population`` trials make a generation; the search runs
    ``population · generations`` trials.

    Parameters
    ----------
    X, y : training inputs (n, features) or images (n, C, H, W), and integer class labels (n,)
        (classification) or float targets (regression).
    validation_data : (X_val, y_val); otherwise ``validation_split`` of (X, y), drawn with ``seed``.
    test_data : (X_test, y_test), evaluated for the front's models only (never for the choice).
    sampler : "nsga2" (the genetic algorithm: Optuna's NSGA-II, whose children mix two parents'
        genes by ``crossover`` with probability ``crossover_prob`` and mutate each gene with
        probability ``mutation_prob``, default 1/number of genes), "tpe" or "random".
    pruner : "median" (stop a trial whose validation loss is worse than the median of completed
        trials at the same epoch) or "none".
    storage, study : an Optuna storage URL (see :mod:`axon.search.storage`) and the study's name;
        None: an SQLite file in the run folder. An existing study is joined (its settings must
        match) and continued up to the budget: several processes or machines may run ``evolve``
        on the same storage and study at once.
    workers : local processes that run trials in parallel (``workers=1``: in this process).
        A script that passes ``workers > 1`` starts them as ``python -m axon.search.workers``.
    out : the run folder (default ``runs/evolve-<time>``; an existing one is never reused).
    standardize : standardise the features (saved in each model), as ``axon train`` does for CSV.
    seed : the split, every trial's weights and shuffling, and the sampler's random numbers.
    heartbeat : seconds between a running trial's heartbeats (SQL storages); a worker silent for
        three of them has its trial failed and run again.
    verbose : 0 silent, 1 one line per trial and a summary.
    report : write report.html.

    Returns
    -------
    :class:`EvolveResult` with ``front`` (Pareto-optimal trials, each with ``model_path`` to its
    model file and ``history``), ``best``, ``trials``, ``study`` (the ``optuna.Study``) and
    ``run_dir``.

    Needs Optuna: ``pip install -e ".[search]"``.
    """
    data = arrays_dataset(X, y, validation_data=validation_data, validation_split=validation_split,
                          test_data=test_data, seed=seed)
    if space is None:
        space = SearchSpace()
    elif isinstance(space, dict):
        space = SearchSpace.from_dict(space)
    settings = Settings(space=space, objectives=tuple(objectives),
                        population=population, generations=generations, epochs=epochs, patience=patience,
                        sampler=sampler, crossover=crossover, crossover_prob=crossover_prob,
                        mutation_prob=mutation_prob, pruner=pruner, seed=seed, heartbeat=heartbeat,
                        task=data.task, standardize=standardize)
    return run(data, settings, storage=storage, study=study, out=out, workers=workers, verbose=verbose,
               report=report)


def arrays_dataset(X: Any, y: Any, *, validation_data: tuple[Any, Any] | None = None,
                   validation_split: float = 0.1, test_data: tuple[Any, Any] | None = None,
                   seed: int | None = 0) -> Any:
    """Arrays as the :class:`axon.cli.data.Dataset` a search trains on.

    Integer labels make a classification problem with classes 0..max; float targets (n,) a
    regression. Without ``validation_data``, the seeded split of :func:`axon.cli.data.split_indices`
    holds out ``validation_split`` of the rows. Raises ValueError for mismatched lengths,
    non-finite values or negative labels.
    """
    from axon.cli.data import Dataset, split_indices
    from axon.validation import as_numeric_array

    X = as_numeric_array(X, "X")
    y = np.asarray(y)
    if X.ndim < 2 or y.shape[:1] != X.shape[:1]:
        raise ValueError(f"X must have shape (n, features...) and y one entry per row; got X {X.shape}, y {y.shape}")
    classification = np.issubdtype(y.dtype, np.integer)
    if classification:
        if y.ndim != 1 or y.min() < 0:
            raise ValueError("y: class labels must be integers 0..k-1 of shape (n,)")
        n_outputs = int(y.max()) + 1
        if n_outputs < 2:
            raise ValueError("y holds a single class; nothing to learn")
    else:
        y = as_numeric_array(y, "y").astype(X.dtype if np.issubdtype(X.dtype, np.floating) else np.float32)
        n_outputs = 1 if y.ndim == 1 else int(y.shape[1])
    if validation_data is not None:
        Xv, yv = as_numeric_array(validation_data[0], "validation_data[0]"), np.asarray(validation_data[1])
        X_tr, y_tr = X, y
    else:
        tr, va = split_indices(len(X), validation_split, 0 if seed is None else seed)
        if not len(va):
            raise ValueError("evolve needs validation data: pass validation_data=(X_val, y_val) or a "
                             "validation_split > 0")
        X_tr, y_tr, Xv, yv = X[tr], y[tr], X[va], y[va]
    Xte, yte = (None, None) if test_data is None else (as_numeric_array(test_data[0], "test_data[0]"),
                                                       np.asarray(test_data[1]))
    task = "classification" if classification else "regression"
    return Dataset(name="arrays", task=task, X_train=X_tr, y_train=y_tr, X_val=Xv, y_val=yv, X_test=Xte,
                   y_test=yte, n_outputs=n_outputs,
                   class_names=[str(k) for k in range(n_outputs)] if classification else None,
                   extra={"validation_split": None if validation_data is not None else validation_split,
                          "seed": seed})


def data_fingerprint(data: Any) -> dict[str, Any]:
    """What identifies the data a study scores its trials on: task, shapes, sizes and a hash of the
    validation set (two workers must not compare figures measured on different rows)."""
    h = hashlib.sha256(np.ascontiguousarray(data.X_val).tobytes())
    h.update(np.ascontiguousarray(data.y_val).tobytes())
    return {"task": data.task, "input_shape": list(data.input_shape), "n_outputs": data.n_outputs,
            "n_train": len(data.X_train), "n_val": len(data.X_val), "validation_sha256": h.hexdigest()[:16]}


def data_options(data: Any) -> dict[str, Any]:
    """How ``axon evolve`` loads ``data`` again: the ``--dataset`` spec, ``--target``,
    ``--validation-split`` and ``--seed`` (a worker that joins takes those it is not given)."""
    csv = str(data.name).startswith("csv:")
    return {"dataset": data.name, "target": data.target_name if csv else None,
            "validation_split": data.extra.get("validation_split"), "seed": data.extra.get("seed")}


def _join(optuna: Any, storage: Any, name: str, settings: Settings, data: Any, url_shown: str) -> Any:
    """Create the study ``name`` with ``settings``, or load it and check that its settings and data
    match (one attribute holds both, written once, so a joiner never sees half of them)."""
    mine = {**settings.identity(), "data": data_fingerprint(data), "data_options": data_options(data)}
    try:
        study = optuna.create_study(storage=storage, study_name=name, directions=settings.directions)
        study.set_user_attr(SETTINGS_ATTR, mine)
        return study
    except optuna.exceptions.DuplicatedStudyError:
        pass
    study = optuna.load_study(study_name=name, storage=storage)
    stored = None
    for _ in range(20):  # another worker may have created it an instant ago and not yet stored its settings
        stored = study.user_attrs.get(SETTINGS_ATTR)
        if stored is not None:
            break
        time.sleep(0.1)
    if stored is None:
        raise ValueError(f"study {name!r} in {url_shown} was not made by axon evolve; choose another --study name")
    if stored.get("data") != mine["data"]:
        raise ValueError(f"study {name!r} in {url_shown} scores its trials on other data (study: "
                         f"{stored.get('data')}, here: {mine['data']}); use the same --dataset, --validation-split "
                         f"and --seed to join it, or another --study name")
    differ = sorted(k for k in set(stored) | set(mine) if k != "data_options" and stored.get(k) != mine.get(k))
    if differ:
        shown = ", ".join(f"{k}: study has {stored.get(k)!r}, here {mine.get(k)!r}" for k in differ[:4])
        raise ValueError(f"study {name!r} in {url_shown} searches with other settings ({shown}); use the same "
                         f"options to join it, or another --study name")
    return study


def stored_settings(url: str, study: str) -> tuple[Settings, dict[str, Any]] | None:
    """The settings and data options (:func:`data_options`) of the study ``study`` at ``url`` (from
    :func:`axon.search.storage.resolve_url`), or None when there is no such study yet: what a
    joining worker uses for the options it was not given."""
    from axon.search._optuna import require_optuna
    from axon.search.storage import open_storage

    optuna = require_optuna()
    try:
        loaded = optuna.load_study(study_name=study, storage=open_storage(url))
    except KeyError:
        return None
    stored = dict(loaded.user_attrs.get(SETTINGS_ATTR) or {})
    if not stored:
        return None
    stored.pop("data", None)
    options = stored.pop("data_options", None) or {}
    settings = Settings.from_dict({**stored, "generations": loaded.user_attrs.get(GENERATIONS_ATTR, 1)})
    return settings, options


def run(data: Any, settings: Settings, *, storage: str | None = None, study: str | None = None,
        out: str | Path | None = None, run_dir: Path | None = None, workers: int = 1, verbose: int = 1,
        report: bool = True, command: str | None = None, threads: int = 1,
        info: dict[str, Any] | None = None) -> EvolveResult:
    """Search on ``data`` (an :class:`axon.cli.data.Dataset`) with ``settings``; see :func:`evolve`.

    ``run_dir`` continues in an existing run folder (``--resume``); otherwise a new one is made at
    ``out``. ``info`` adds entries to run.json (the CLI's data options, for ``--resume``).
    """
    from axon import runs
    from axon.search._optuna import require_optuna
    from axon.search.storage import display_url, open_storage, resolve_url, sqlite_path
    from axon.search.workers import WorkerJob, run_worker, start_workers, wait_workers

    optuna = require_optuna()
    workers = check_int(workers, "workers", example=2)
    if data.X_val is None or len(data.X_val) == 0:
        raise ValueError("evolve needs a validation set to score the trials: use a validation split > 0")
    if storage is not None and study is None:
        raise ValueError("with a storage URL, name the study (study='NAME', --study NAME) so that other "
                         "workers can join it")
    settings.space.check_fits(data.input_shape, data.n_outputs)
    if run_dir is None:
        run_dir = runs.new_run_dir(out if out is not None else Path("runs") / runs.default_run_name("evolve"))
    run_dir = Path(run_dir)
    url = resolve_url(storage, run_dir)
    name = study or run_dir.name
    store = open_storage(url, settings.heartbeat)
    the_study = _join(optuna, store, name, settings, data, display_url(url))
    the_study.set_user_attr(GENERATIONS_ATTR, settings.generations)
    default_db = sqlite_path(url) == (run_dir / "study.db").resolve()
    run_info = {"kind": "evolve", "command": command or "axon.search.evolve(...)",
                "storage": None if default_db else display_url(url), "study": name, "workers": workers,
                "settings": settings.to_dict(), "dataset": data.name, "task": data.task,
                "target_name": data.target_name, "feature_names": data.feature_names,
                "class_names": data.class_names, "input_shape": list(data.input_shape),
                "image_shape": list(data.image_shape) if data.image_shape else None,
                "config": {"dataset": data.name, "seed": data.extra.get("seed"),
                           "validation_split": data.extra.get("validation_split")},
                **(info or {})}
    info_path = run_dir / runs.RUN_INFO_FILE
    if info_path.is_file():  # a resumed run remembers how it was started
        previous = runs.read_json(info_path)
        run_info["earlier_commands"] = [*previous.get("earlier_commands", []), previous.get("command", "")]
    runs.write_json(info_path, run_info)
    if verbose:
        print(f"axon evolve: study {name!r} in {display_url(url)}; {settings.n_trials} trials "
              f"({settings.population} x {settings.generations} generations), {settings.sampler}, "
              f"objectives {', '.join(settings.objectives)}; {workers} worker{'s' if workers > 1 else ''}",
              flush=True)
        print(f"run folder: {run_dir}", flush=True)
    job = WorkerJob(url=url, study=name, settings=settings, data=data, run_dir=run_dir, verbose=verbose,
                    threads=threads)
    start = time.perf_counter()
    if workers == 1:
        run_worker(job)
    else:
        wait_workers(start_workers(job, workers), verbose=verbose)
    seconds = time.perf_counter() - start
    result = collect(the_study, settings, run_dir)
    result.seconds = seconds
    _finish(result, data, run_info, report=report, verbose=verbose)
    return result


def _finish(result: EvolveResult, data: Any, run_info: dict[str, Any], *, report: bool, verbose: int) -> None:
    """Test the front's models, copy the chosen one, write metrics.json and report.html."""
    from axon import runs
    from axon.search.trial import data_loss

    for r in result.front:
        if data.X_test is not None and r.model_path is not None:
            model = r.load_model()
            r.test = data_loss(model, data.X_test, data.y_test)
    best = result.best
    metrics: dict[str, Any] = {"task": data.task, "dataset": data.name, "study": run_info["study"],
                               "trials": len(result.trials),
                               "pruned": sum(r.pruned_at is not None or r.state == "PRUNED" for r in result.trials),
                               "failed": len(result.failed), "front_size": len(result.front),
                               "seconds": round(result.seconds, 2), "workers": run_info["workers"]}
    if best is not None:
        metrics["best"] = {"trial": best.number, "generation": best.generation,
                           "architecture": best.architecture.to_dict(), "params": best.params,
                           "command": best.architecture.train_command(
                               data.name, epochs=result.settings.epochs, patience=result.settings.patience,
                               seed=result.settings.seed)}
        metrics["val"] = {k: v for k, v in best.figures.items() if k.startswith("val_")}
        if best.test is not None:
            metrics["test"] = best.test
        if best.model_path is not None:
            shutil.copyfile(best.model_path, result.run_dir / runs.MODEL_FILE)
    runs.write_json(result.run_dir / runs.METRICS_FILE, metrics)
    if report:
        from axon.search.report import write_report
        result.report = write_report(result.run_dir / runs.REPORT_FILE, result, data, run_info)
    if verbose:
        _summary(result, metrics)


def _summary(result: EvolveResult, metrics: dict[str, Any]) -> None:
    out = sys.stdout
    print(f"{metrics['trials']} trials ({metrics['pruned']} stopped by the pruner, {metrics['failed']} failed) in "
          f"{result.seconds:.1f} s; {len(result.front)} on the Pareto front", file=out)
    best = result.best
    if best is None:
        print("no trial completed", file=out)
        return
    acc = best.figures.get("val_accuracy")
    test = best.test or {}
    print(f"chosen: trial {best.number} {best.architecture}: validation loss {best.val_loss:.4f}"
          + (f", accuracy {acc:.4f}" if acc is not None else "")
          + (f"; test accuracy {test['accuracy']:.4f}" if "accuracy" in test else "")
          + f"; {best.params:,} parameters", file=out)
    print(f"run folder: {result.run_dir}  (model.axon, metrics.json, report.html, trials/)", file=out)


__all__ = ["GENERATIONS_ATTR", "SETTINGS_ATTR", "arrays_dataset", "data_fingerprint", "data_options", "evolve", "run", "stored_settings"]
