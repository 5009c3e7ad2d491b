"""``axon train``: train a model on a data set and write a run folder with a report.

Steps: resolve the options (defaults < ``--config`` file < flags), load the data and split off a
validation set, build the model (:func:`axon.architectures.build_model`), compile it, create a new
run folder, ``fit`` with a checkpoint every epoch (and early stopping when asked), then write the
model file, ``metrics.json``, ``history.csv`` and ``report.html`` and print the figures.

Regression (a CSV target that is not whole numbers): the features are standardised by an
:class:`axon.preprocessing.Standardizer` stored in the model (``model.preprocessor``), and the
network is trained on the standardised target t = (y - m)/s, which keeps the output layer's
scale near 1 whatever the target's units. After training, the inverse y = s·t + m is folded into
the last Dense layer (W ← s·W, b ← s·b + m), so the saved model predicts y itself and needs
nothing beside it. The training curves are therefore in standardised units (MSE of t = MSE of
y / s²); the final figures are in the target's units. A linear least-squares fit on the same
split is printed as a baseline.
"""

from __future__ import annotations

import argparse
import datetime
import shlex
import sys
from pathlib import Path
from typing import Any

import numpy as np

from axon._config import blas_threads
from axon.cli import config as C

EPILOG = """\
examples:
  axon train                                   # MLP on the bundled 8x8 digits, report in runs/
  axon train --layers 128 --epochs 20 --lr 3e-3 --out runs/small
  axon train --model cnn --epochs 10           # a small CNN on the digits
  axon train --dataset mnist --layers 256,128 --dropout 0.2 --early-stopping 5
  axon train --dataset csv:covid.train.csv --target tested_positive
  axon train --config experiment.toml --lr 3e-3   # flags override the file
  axon train --resume runs/digits-20250101-120000 --epochs 60   # continue a run

--layers takes comma-separated tokens, read left to right; the output layer is added:
  128          Dense with 128 units, then the activation (and Dropout with --dropout)
  conv32x3     Conv2D, 32 filters of 3x3, "same" padding, then the activation
  conv32x3s2   the same with stride 2
  maxpool2     MaxPool2D 2x2, stride 2 (maxpool3s2: 3x3 windows, stride 2); avgpool2 likewise
  bn           BatchNorm; right after a conv or Dense token it sits before the activation
  flatten      inserted by itself before the first Dense after image layers
  e.g. --layers conv32x3,bn,maxpool2,conv64x3,bn,maxpool2,128

A --config file holds the same options as TOML keys, e.g.:
  dataset = "digits"
  layers = "256,128"
  lr = 1e-3
  epochs = 40

The run folder gets model.axon, checkpoint.axon, run.json, metrics.json, history.csv and
report.html; an existing folder is never reused (NAME-2, NAME-3, ... instead).
Ctrl-C stops after the current batch, keeps the checkpoint and exits with status 130.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``axon train`` with every option of :data:`axon.cli.config.OPTIONS`."""
    p = sub.add_parser("train", help="train a model and write a run folder with a report",
                       description="Train a model; write the model file, metrics, history and report.html.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    C.add_train_options(p)
    p.add_argument("--config", metavar="FILE.toml", help="options from a TOML file (flags override it)")
    p.add_argument("--out", metavar="DIR", help="run folder (default runs/<dataset>-<time>)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR from its checkpoint")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar, only the final figures")
    p.add_argument("--studio", action="store_true",
                   help="watch this run live in `axon studio` (Train page): curves, pause, stop, learning rate")
    p.set_defaults(func=run)


# -- the run --------------------------------------------------------------------------------------
def _resolve(args: argparse.Namespace, task: str | None, resumed: dict[str, Any] | None) -> dict[str, Any]:
    user: dict[str, Any] = {}
    if resumed is not None:
        user.update(resumed)
    if args.config:
        user.update(C.read_config_file(args.config))
    user.update(C.given(args))
    dataset = user.get("dataset", C.BASE_DEFAULTS["dataset"])
    if dataset.startswith("csv:"):  # absolute, so that run.json works from any folder
        user["dataset"] = "csv:" + str(Path(dataset[4:]).expanduser().resolve())
    return {**C.defaults_for(user.get("dataset", dataset), task or user.get("task"),
                             user.get("model", "mlp")), **user}


def _check_choices(cfg: dict[str, Any]) -> None:
    """The checks of ``cfg`` that need no data (run before the data set loads, so a typo costs nothing)."""
    if cfg["model"] not in ("mlp", "cnn"):
        raise ValueError(f"--model must be mlp or cnn, got {cfg['model']!r}")
    from axon.architectures import activation_name, parse_tokens
    try:
        activation_name(cfg["activation"])
    except ValueError as e:
        raise ValueError(f"--activation: {e}") from None
    if cfg["layers"] is not None:
        parse_tokens(cfg["layers"])


def _check_against_data(cfg: dict[str, Any], data: Any) -> None:
    """The checks of ``cfg`` that depend on the data: conv and pool layers need images."""
    from axon.architectures import has_image_layers, parse_tokens
    if cfg["layers"] is not None and has_image_layers(parse_tokens(cfg["layers"])) and data.image_shape is None:
        raise ValueError(f"--layers {cfg['layers']}: conv and pool layers need images, but {data.name} is a "
                         f"table of {data.input_shape[0]} features; use Dense sizes, e.g. --layers 64")


def _loss_and_output(cfg: dict[str, Any], task: str) -> tuple[Any, str | None]:
    """The loss for ``cfg`` and the activation to put after the output layer (None: the loss has a link).

    Classification trains on class indices: with cross_entropy the network ends with logits (the
    loss's softmax); mse and quadratic compare an output activation (sigmoid by default, Nielsen's
    chapter 1) with one-hot targets; bce and the book's cross-entropy cost use the sigmoid of
    their logits. Regression: any loss but cross_entropy.
    """
    import axon as ax

    name = cfg["loss"] or ("cross_entropy" if task == "classification" else "mse")
    loss = ax.losses.get_loss(name)
    kind = type(loss).__name__
    output = cfg["output_activation"]
    if kind == "SoftmaxCrossEntropy" and task != "classification":
        raise ValueError(f"--loss {name}: cross-entropy compares class probabilities with class labels, but "
                         f"the target is a quantity (regression); use --loss mse or quadratic, or "
                         f"--task classification if the values are classes")
    if kind in ("MSE", "QuadraticCost") and task == "classification":
        output = output or "sigmoid"
    elif output not in (None, "none"):
        raise ValueError(f"--output-activation {output}: the loss {kind} applies its own link to the raw "
                         f"outputs; it goes with --loss mse or quadratic on classes")
    return loss, None if output == "none" else output


def build(cfg: dict[str, Any], data: Any) -> Any:
    """The model for ``cfg`` and ``data``, compiled with the loss, optimizer and metrics."""
    import axon as ax
    from axon.architectures import ACTIVATIONS, build_model

    loss, output = _loss_and_output(cfg, data.task)
    model = build_model(cfg["layers"], data.input_shape, data.n_outputs, kind=cfg["model"],
                        activation=cfg["activation"], dropout=cfg["dropout"], l1=cfg["l1"], l2=cfg["l2"])
    if output is not None:
        model.add(ACTIVATIONS[output]() if output != "softmax" else ax.Softmax())
    opt_kwargs: dict[str, Any] = {"lr": cfg["lr"]}
    if cfg["optimizer"].lower() == "sgd":
        opt_kwargs["momentum"] = cfg["momentum"]
    optimizer = ax.optim.get_optimizer(cfg["optimizer"], **opt_kwargs)
    metrics = ["accuracy"] if data.task == "classification" else ["mae"]
    model.compile(loss=loss, optimizer=optimizer, metrics=metrics)
    return model


def _fold_target_scale(model: Any, mean: float, scale: float) -> None:
    """Make the last Dense layer output y = scale·t + mean instead of t (exact, in place)."""
    last = model.layers[-1]
    last.weight.data *= scale
    if getattr(last, "bias", None) is not None:
        last.bias.data *= scale
        last.bias.data += mean


def lstsq_baseline(X_train: np.ndarray, y_train: np.ndarray, X_val: np.ndarray, y_val: np.ndarray) -> float:
    """Validation MSE of the linear least-squares fit y ≈ [X, 1]·w on the training rows (float64)."""
    A = np.c_[X_train.astype(np.float64), np.ones(len(X_train))]
    w, *_ = np.linalg.lstsq(A, y_train.astype(np.float64), rcond=None)
    pred = np.c_[X_val.astype(np.float64), np.ones(len(X_val))] @ w
    return float(np.mean((pred - y_val) ** 2))


def _regression_figures(pred: np.ndarray, y: np.ndarray) -> dict[str, float]:
    err = pred.astype(np.float64) - y.astype(np.float64)
    var = float(np.var(y))
    return {"mse": float(np.mean(err ** 2)), "mae": float(np.mean(np.abs(err))),
            "r2": 1.0 - float(np.mean(err ** 2)) / var if var > 0 else float("nan")}


def _evaluate(model: Any, data: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Final figures on validation and test, and the predictions the report draws."""
    figures: dict[str, Any] = {}
    preds: dict[str, np.ndarray] = {}
    for split in ("val", "test"):
        X, y = getattr(data, f"X_{split}"), getattr(data, f"y_{split}")
        if X is None or len(X) == 0:
            continue
        out = model.predict(X)
        if data.task == "classification":
            figures[split] = model.evaluate(X, y)
            preds[split] = out
        else:
            out = out.reshape(len(X))
            figures[split] = _regression_figures(out, y)
            preds[split] = out
    return figures, preds


def _previous_run(run_dir: Path) -> tuple[dict[str, Any], Any]:
    """run.json and the checkpoint of a run folder to resume; ValueError when it cannot be resumed."""
    import axon as ax
    from axon import runs

    info_path, ckpt = run_dir / runs.RUN_INFO_FILE, run_dir / runs.CHECKPOINT_FILE
    if not ckpt.is_file() or not info_path.is_file():
        raise ValueError(f"--resume {run_dir}: no {runs.CHECKPOINT_FILE} and {runs.RUN_INFO_FILE} "
                         f"there; give a run folder written by axon train")
    return runs.read_json(info_path), ax.load_checkpoint(ckpt)


def run(args: argparse.Namespace) -> int:
    """Run ``axon train``; returns the exit status (0, or 130 when interrupted)."""
    from axon import runs
    from axon.cli.data import load_dataset

    command = "axon " + shlex.join(sys.argv[1:]) if sys.argv[1:2] == ["train"] else "axon train"
    resumed = previous = checkpoint = None
    history_of_commands: list[str] = []
    run_dir: Path | None = None
    if args.resume:
        if args.out:
            raise ValueError("--resume continues in the run's own folder; leave out --out")
        run_dir = Path(args.resume)
        previous, checkpoint = _previous_run(run_dir)
        resumed = previous.get("config", {})
        history_of_commands = [*previous.get("earlier_commands", []), previous.get("command", "")]
    cfg = _resolve(args, None, resumed)
    _check_choices(cfg)  # before the data loads: a typo in --model costs no MNIST load
    from axon import backend
    cfg["device"] = backend.check_device(cfg["device"])  # a missing GPU is said before the data loads
    data = load_dataset(cfg["dataset"], target=cfg["target"], kind=cfg["model"], task=cfg["task"],
                        validation_split=cfg["validation_split"], seed=cfg["seed"], data_dir=cfg["data_dir"],
                        delimiter=cfg["delimiter"], drop=cfg["drop"])
    cfg = _resolve(args, data.task, resumed)  # now with the defaults of the task
    _check_against_data(cfg, data)
    if cfg["layers"] is None:  # record the architecture actually built
        from axon.architectures import DEFAULT_MLP, default_cnn_spec
        cfg["layers"] = default_cnn_spec(data.input_shape) if cfg["model"] == "cnn" else DEFAULT_MLP
    if checkpoint is not None:
        done = checkpoint.epoch
        if checkpoint.extra.get("stop_training"):
            print(f"axon train: the run in {run_dir} stopped early after epoch {done}; nothing to resume "
                  f"(start a new run to train it longer)", file=sys.stderr)
            return 0
        if cfg["epochs"] <= done:
            raise ValueError(f"--resume {run_dir}: the run has done {done} epochs, and --epochs {cfg['epochs']} "
                             f"is the total, not the number left; give --epochs {done + 1} or more to train further "
                             f"(nothing was changed)")
    quiet = args.quiet

    import axon as ax
    ax.set_seed(cfg["seed"])
    model = build(cfg, data)

    y_train, y_val = data.y_train, data.y_val
    target_scale = None
    if cfg["standardize"]:
        from axon.preprocessing import Standardizer
        model.preprocessor = Standardizer().fit(data.X_train)
    if data.task == "regression":
        m, s = float(np.mean(y_train)), float(np.std(y_train)) or 1.0
        target_scale = {"mean": m, "scale": s}
        y_train = ((y_train - m) / s).astype(y_train.dtype)
        y_val = None if y_val is None else ((y_val - m) / s).astype(y_val.dtype)

    if run_dir is None:
        run_dir = runs.new_run_dir(args.out or Path("runs") / runs.default_run_name(cfg["dataset"]))
    info = {"command": command, "config": cfg, "task": data.task, "task_reason": data.task_reason,
            "dataset": data.name, "target_name": data.target_name, "feature_names": data.feature_names,
            "class_names": data.class_names, "input_shape": list(data.input_shape),
            "image_shape": list(data.image_shape) if data.image_shape else None,
            "target_scale": target_scale,
            "n_train": len(data.X_train), "n_val": 0 if data.X_val is None else len(data.X_val),
            "n_test": 0 if data.X_test is None else len(data.X_test)}
    if history_of_commands:  # a resumed run remembers how it was started
        info["earlier_commands"] = history_of_commands
    # A resumed run keeps its start; a new one, or one written before run.json had "started", gets now.
    info["started"] = (previous or {}).get("started") or datetime.datetime.now().isoformat(timespec="seconds")
    runs.write_json(run_dir / runs.RUN_INFO_FILE, info)

    callbacks: list[Any] = [ax.callbacks.CSVLogger(run_dir / runs.HISTORY_FILE),
                            ax.callbacks.ModelCheckpoint(run_dir / runs.CHECKPOINT_FILE)]
    stopper = None
    if cfg["early_stopping"]:
        monitor = "val_loss" if data.X_val is not None else "loss"
        stopper = ax.callbacks.EarlyStopping(monitor=monitor, patience=cfg["early_stopping"], restore_best=True)
        callbacks.append(stopper)
    if cfg["grad_stats"]:
        callbacks.append(ax.callbacks.GradientStats())
    studio = None
    if getattr(args, "studio", False):  # a live feed in the run folder (axon/studio/live.py)
        from axon.studio.live import StudioFeed
        studio = StudioFeed(run_dir)
        callbacks.append(studio)

    say = (lambda *a: None) if quiet else print
    inferred = "" if cfg["task"] or not data.task_reason or data.name in ("digits", "mnist", "fashion-mnist") \
        else f" (inferred: {data.task_reason}; say --task to choose)"
    say(f"axon train: {data.name}, {data.task}{inferred}, {len(data.X_train)} training / "
        f"{0 if data.X_val is None else len(data.X_val)} validation"
        + (f" / {len(data.X_test)} test" if data.X_test is not None else "") + " samples")
    say(model.summary())
    say(f"run folder: {run_dir}")
    finish = _Finish(run_dir, model, data, info, stopper)
    try:
        with blas_threads(cfg["threads"]):
            history = model.fit(
                data.X_train, y_train, epochs=cfg["epochs"], batch_size=cfg["batch_size"],
                validation_data=None if data.X_val is None else (data.X_val, y_val),
                callbacks=callbacks, shuffle=True, seed=cfg["seed"], verbose=0 if quiet else 1,
                resume_from=(run_dir / runs.CHECKPOINT_FILE) if checkpoint is not None else None,
                device=cfg["device"])
    except ax.training.TrainingDivergedError as e:
        finish.write("diverged", ax.callbacks.CSVLogger.read(run_dir / runs.HISTORY_FILE), None,
                     note=f"{e}", save_model=False)
        raise
    if target_scale is not None:  # the saved model predicts y itself (the checkpoint keeps t)
        _fold_target_scale(model, target_scale["mean"], target_scale["scale"])
    if history.interrupted and not (studio is not None and studio.stopped):  # the studio's stop: finish
        ckpt = history.checkpoint_path or run_dir / runs.CHECKPOINT_FILE
        note = f"checkpoint kept in {ckpt}; continue with: axon train --resume {run_dir}"
        finish.write("interrupted", history.history, history.elapsed, note=note, save_model=True)
        print(f"axon: interrupted; {note}", file=sys.stderr)
        return 130
    status = "stopped" if history.interrupted else "stopped_early" if history.stopped_early else "completed"
    metrics = finish.write(status, history.history, history.elapsed, save_model=True)
    _print_figures(metrics, data.task)
    print(f"run folder: {run_dir}  (model.axon, metrics.json, history.csv, report.html)")
    return 0


class _Finish:
    """What every end of a run writes: model.axon (when its weights are usable), metrics.json with
    the status, and report.html saying how the run ended."""

    def __init__(self, run_dir: Path, model: Any, data: Any, info: dict[str, Any], stopper: Any) -> None:
        self.run_dir, self.model, self.data, self.info, self.stopper = run_dir, model, data, info, stopper

    def write(self, status: str, history: dict[str, list[float]], seconds: float | None, *,
              note: str | None = None, save_model: bool) -> dict[str, Any]:
        import axon as ax
        from axon import runs
        from axon.report import write_report

        data, model = self.data, self.model
        model.to("cpu")  # a GPU run ends on the host: the report reads the weights as NumPy arrays
        if save_model:
            ax.save(model, self.run_dir / runs.MODEL_FILE)
        figures, preds = _evaluate(model, data) if status in ("completed", "stopped_early", "stopped") else ({}, {})
        epochs = len(next(iter(history.values()), []))
        metrics: dict[str, Any] = {"status": status, "task": data.task, "dataset": data.name,
                                   "epochs_run": epochs, "stopped_early": status == "stopped_early",
                                   "train_seconds": None if seconds is None else round(seconds, 3), **figures}
        if note:
            metrics["note"] = note
        if data.task == "regression" and data.X_val is not None and figures:
            metrics["baseline"] = {"lstsq_val_mse": lstsq_baseline(data.X_train, data.y_train,
                                                                    data.X_val, data.y_val)}
        runs.write_json(self.run_dir / runs.METRICS_FILE, metrics)
        best = getattr(self.stopper, "best_epoch", None)
        write_report(self.run_dir / runs.REPORT_FILE, model=model, data=data, history=history,
                     metrics=metrics, predictions=preds, info=self.info,
                     date=_started(self.info),
                     status=status, status_note=note, best_epoch=None if best is None else best + 1,
                     monitor=getattr(self.stopper, "monitor", None),
                     restored_best=self.stopper is not None and self.stopper.best_weights is not None
                     and status in ("completed", "stopped_early", "stopped"))
        return metrics


def _started(info: dict[str, Any]) -> datetime.datetime | None:
    """When the run started, from ``info["started"]``; None (the report says now) when absent."""
    started = info.get("started")
    return datetime.datetime.fromisoformat(started) if started else None


def _print_figures(metrics: dict[str, Any], task: str) -> None:
    names = {"val": "validation", "test": "test"}
    for split in ("val", "test"):
        if split not in metrics:
            continue
        f = metrics[split]
        if task == "classification":
            print(f"{names[split]} accuracy: {f['accuracy']:.4f}   {names[split]} loss: {f['loss']:.4f}")
        else:
            print(f"{names[split]} MSE: {f['mse']:.4f}   MAE: {f['mae']:.4f}   R^2: {f['r2']:.4f}")
    if "baseline" in metrics:
        b = metrics["baseline"]["lstsq_val_mse"]
        print(f"linear least-squares baseline on the same split: validation MSE {b:.4f}")
