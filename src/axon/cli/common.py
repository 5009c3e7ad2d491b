"""Helpers the subcommands share: loading a model file, matching data to it, default losses."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from axon.validation import n_outputs


def load_model(path: str):
    """``ax.load(path)`` with a clear error for a missing file (ModelFileError is a ValueError)."""
    import axon as ax

    if not Path(path).exists():
        raise ValueError(f"MODEL: no such file {path!r}; give a model file such as runs/NAME/model.axon")
    if Path(path).is_dir():
        candidate = Path(path) / "model.axon"
        if candidate.is_file():
            path = str(candidate)
        else:
            raise ValueError(f"MODEL: {path!r} is a folder without model.axon; give a model file")
    return ax.load(path), path


def model_kind(model) -> str:
    """"cnn" when the model takes images (a 3-number input shape), else "mlp"."""
    shape = getattr(model, "input_shape", None)
    return "cnn" if shape is not None and len(shape) == 3 else "mlp"


def conform(X: np.ndarray, model, what: str = "the data") -> np.ndarray:
    """Reshape X to the model's input shape when only the layout differs (flat rows vs images).

    Raises ValueError naming both shapes when the data cannot fit the model.
    """
    shape = getattr(model, "input_shape", None)
    if shape is None:
        return X
    shape = tuple(shape)
    if tuple(X.shape[1:]) == shape:
        return X
    if math.prod(X.shape[1:]) == math.prod(shape):
        return X.reshape((len(X), *shape))
    raise ValueError(f"the model takes samples of shape {shape} but {what} has samples of shape "
                     f"{tuple(X.shape[1:])}; use the data set the model was trained on")


def ensure_compiled(model, task: str | None = None) -> None:
    """Give an uncompiled model a loss (cross-entropy for classification, MSE otherwise) and metrics."""
    if getattr(model, "loss", None) is not None:
        return
    out = n_outputs(model)
    if task is None:
        task = "classification" if out and out > 1 else "regression"
    if task == "classification":
        model.compile(loss="cross_entropy", metrics=["accuracy"])
    else:
        model.compile(loss="mse", metrics=["mae"])


def task_of(model, info: dict[str, Any] | None) -> str:
    """The task a model was trained for: from ``run.json`` or guessed from the loss."""
    if info and info.get("task") in ("classification", "regression"):
        return info["task"]
    name = type(getattr(model, "loss", None)).__name__
    if name in ("SoftmaxCrossEntropy", "BinaryCrossEntropy", "CrossEntropyCost"):
        return "classification"
    if name in ("MSE", "QuadraticCost"):
        return "regression"
    out = n_outputs(model)
    return "classification" if out and out > 1 else "regression"


def dataset_for_model(spec: str | None, model, info: dict[str, Any] | None, target: str | None,
                      data_dir: str | None, split: str = "test"):
    """Load ``spec`` (default: the data set of the run) and return (X, y, Dataset) for ``split``.

    ``split``: "test" (image data sets' test images; a whole CSV file), "val" or "train" (the
    run's split, seed and fraction from ``run.json``) or "all". A CSV file is read with the run's
    task, delimiter and dropped columns, and its labels are numbered by the run's ``class_names``.
    """
    from axon.cli.data import load_dataset

    if spec is None:
        spec = (info or {}).get("dataset")
        if spec is None:
            raise ValueError("--dataset: which data? e.g. --dataset digits or --dataset csv:PATH --target COL")
    if spec.startswith("csv:") and target is None and info and info.get("dataset", "").startswith("csv:"):
        target = info.get("target_name")
    csv = spec.startswith("csv:")
    cfg = (info or {}).get("config", {}) if (info or {}).get("dataset") == spec else {}
    # The run's own split (seed and fraction from run.json) so that "val" means the same rows.
    fraction = 0.0 if split == "all" or (csv and split == "test") else float(cfg.get("validation_split") or 0.1)
    run = info or {}
    # A CSV file loaded for a run (its own file or another): the run's task, format and class numbers.
    run_cfg = run.get("config") or {}
    task = run.get("task") if csv and run.get("task") in ("classification", "regression") else None
    classes = run.get("class_names") if task == "classification" else None
    if classes and not str(run.get("dataset", "")).startswith("csv:"):
        classes = [str(k) for k in range(len(classes))]  # an image data set's labels are the class numbers
    data = load_dataset(spec, target=target, kind=model_kind(model), data_dir=data_dir,
                        validation_split=fraction, seed=int(cfg.get("seed", 0)),
                        task=task,
                        delimiter=(run_cfg.get("delimiter") or ",") if csv else ",",
                        drop=run_cfg.get("drop") if csv else None, class_names=classes or None)
    X: np.ndarray | None
    y: np.ndarray | None
    if split == "all" or (csv and split == "test"):  # a CSV file has no test split: all of it
        if data.X_val is None or data.y_val is None:
            X, y = data.X_train, data.y_train
        else:
            X, y = np.concatenate([data.X_train, data.X_val]), np.concatenate([data.y_train, data.y_val])
    elif split == "train":
        X, y = data.X_train, data.y_train
    elif split == "val":
        X, y = data.X_val, data.y_val
    else:
        X, y = data.X_test, data.y_test
    if X is None or y is None:
        raise ValueError(f"--split {split}: {spec} has no {split} rows; choose another --split")
    return conform(X, model, f"--dataset {spec}"), y, data
