"""The data sets the command line trains and evaluates on: ``--dataset digits|mnist|fashion-mnist|csv:PATH``.

:func:`load_dataset` returns a :class:`Dataset`: training, validation and (when the data set has
one) test arrays, whether it is a classification or a regression problem, and what the report
needs to draw it (image shape, class names). The validation set is a seeded random fraction of
the training rows (:func:`split_indices`), so the same ``--seed`` gives the same split.

A CSV target is a classification or a regression problem as :func:`axon.datasets.infer_task`
reads it (text or a few whole numbers: classes; decimals or many whole numbers: a quantity), or as
``--task`` says. Classes are numbered 0..k-1 in sorted order of their values or names; a CSV file
loaded for an existing run (``class_names``) numbers them as that run did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

IMAGE_DATASETS = ("digits", "mnist", "fashion-mnist")


@dataclass
class Dataset:
    """Arrays and facts about one data set, as the CLI uses them.

    ``X_*`` have shape ``(n, *input_shape)``; ``y_*`` hold int64 class indices (classification)
    or floats of shape ``(n,)`` (regression). ``X_test`` is None for CSV files (no test split:
    the validation figures are the held-out ones).
    """

    name: str
    task: str  # "classification" or "regression"
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray | None
    y_val: np.ndarray | None
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    n_outputs: int = 1
    image_shape: tuple[int, int] | None = None
    class_names: list[str] | None = None
    feature_names: list[str] | None = None
    target_name: str | None = None
    #: Why the task is what it is: "given with --task", or what infer_task read in the target.
    task_reason: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """One sample's shape, e.g. ``(64,)`` or ``(1, 8, 8)``."""
        return tuple(self.X_train.shape[1:])


def split_indices(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, val)`` of a seeded random split: ``round(fraction·n)`` rows to validation.

    The permutation comes from ``np.random.default_rng(seed)``, so the split is reproducible (the
    tests recompute it to fit their least-squares baseline on exactly the same rows).
    """
    if not 0 <= fraction < 1:
        raise ValueError(f"--validation-split must be in [0, 1), got {fraction!r}; try 0.1")
    n_val = int(round(fraction * n))
    if fraction > 0 and (n_val < 1 or n - n_val < 1):
        raise ValueError(f"--validation-split {fraction} leaves no rows for training or validation "
                         f"out of {n}; choose a fraction between 1/{n} and 1 - 1/{n}")
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def parse_dataset_spec(spec: str) -> tuple[str, Path | None]:
    """``"digits"`` -> ("digits", None); ``"csv:PATH"`` -> ("csv", Path); anything else a ValueError."""
    if spec.startswith("csv:"):
        path = spec[4:]
        if not path:
            raise ValueError("--dataset csv: needs a file, e.g. --dataset csv:covid.train.csv --target COL")
        return "csv", Path(path).expanduser()
    name = spec.lower().replace("_", "-")
    if name == "fashion":
        name = "fashion-mnist"
    if name not in IMAGE_DATASETS:
        if spec.endswith(".csv"):
            raise ValueError(f"--dataset: unknown data set {spec!r}; for a CSV file write --dataset csv:{spec}")
        raise ValueError(f"--dataset: unknown data set {spec!r}; choose digits, mnist, fashion-mnist "
                         f"or csv:PATH")
    return name, None


def load_dataset(spec: str, *, target: str | None = None, kind: str = "mlp", validation_split: float = 0.1,
                 seed: int = 0, data_dir: str | None = None, download: bool = True,
                 task: str | None = None, delimiter: str = ",",
                 drop: list[str] | None = None, class_names: list[str] | None = None) -> Dataset:
    """Load the data set ``spec`` and split off a validation fraction of the training rows.

    ``kind="cnn"`` gives images as NCHW ``(n, 1, h, w)``, ``"mlp"`` flat rows. ``data_dir`` is a
    folder holding the MNIST-style IDX files (default: axon's cache). For a CSV file, ``task``
    ("classification", "regression" or None: inferred), ``delimiter`` and ``drop`` (columns left
    out of the features) apply, and ``class_names`` (the classes of the run the file is loaded
    for) numbers a classification target as that run did: label ``class_names[k]`` is class k,
    whichever labels this file holds. Raises ValueError (with the fix) for an unknown data set, a
    missing ``--target``, a CNN on a CSV file, CSV options on an image data set, or a label that
    is not in ``class_names``.
    """
    name, path = parse_dataset_spec(spec)
    if task not in (None, "classification", "regression"):
        raise ValueError(f"--task must be classification or regression, got {task!r}")
    if name == "csv":
        if kind == "cnn":
            raise ValueError("--model cnn needs image data (digits, mnist, fashion-mnist), not a CSV table; "
                             "use --model mlp")
        assert path is not None
        return _load_csv(spec, path, target, validation_split, seed, task, delimiter, drop or [], class_names)
    if target is not None:
        raise ValueError(f"--target is for CSV files (--dataset csv:PATH); {name} has its own labels")
    if task == "regression":
        raise ValueError(f"--task regression: {name} is a classification data set (its labels are classes)")
    if drop or delimiter != ",":
        raise ValueError(f"--drop and --delimiter are for CSV files (--dataset csv:PATH), not {name}")
    flatten = kind != "cnn"
    class_names = [str(k) for k in range(10)]
    if name == "digits":
        from axon.datasets import load_digits
        (X, y), (Xt, yt) = load_digits(flatten=flatten)
        image_shape = (8, 8)
    else:
        from axon import datasets
        loader = datasets.load_mnist if name == "mnist" else datasets.load_fashion_mnist
        (X, y), (Xt, yt) = loader(data_dir, download=download, flatten=flatten)
        image_shape = (28, 28)
        if name == "fashion-mnist":
            class_names = list(datasets.FASHION_MNIST_CLASSES)
    tr, va = split_indices(len(X), validation_split, seed)
    return Dataset(name=name, task="classification", X_train=X[tr], y_train=y[tr],
                   X_val=X[va] if len(va) else None, y_val=y[va] if len(va) else None,
                   X_test=Xt, y_test=yt, n_outputs=10, image_shape=image_shape, class_names=class_names,
                   target_name="label", task_reason=f"{name} holds labelled images")


def _load_csv(spec: str, path: Path, target: str | None, validation_split: float, seed: int,
              task: str | None, delimiter: str, drop: list[str], known: list[str] | None) -> Dataset:
    from axon.datasets import infer_task, load_csv

    if target is None:
        raise ValueError(f"--target: name the column to predict, e.g. --dataset {spec} --target COLUMN")
    if not path.exists():
        raise ValueError(f"--dataset: no such file {str(path)!r}")
    if len(delimiter) != 1:
        raise ValueError(f"--delimiter must be one character, e.g. --delimiter ';', got {delimiter!r}")
    data = load_csv(path, target=target, delimiter=delimiter, drop=drop)
    y = data.y
    assert y is not None
    if task is not None:
        reason = "given with --task"
    else:
        task, reason = infer_task(data)
    if task == "classification":
        if data.classes is not None:
            class_names = list(data.classes)
        else:
            if known is None and not data.target_is_integral:
                raise ValueError(f"--task classification: column {data.target_name!r} holds decimal numbers, "
                                 f"not class labels; use --task regression")
            values, y = np.unique(y, return_inverse=True)
            class_names = [f"{v:g}" for v in values]
        if known is not None:  # the run's numbering, whichever of its classes this file holds
            y, class_names = _renumber(y, class_names, list(known), path, data.target_name), list(known)
        elif len(class_names) < 2:
            raise ValueError(f"{path}: column {data.target_name!r} has a single class; nothing to learn")
        y, n_outputs = y.astype(np.int64), len(class_names)
    else:
        if data.classes is not None:
            raise ValueError(f"--task regression: column {data.target_name!r} holds text labels, not numbers; "
                             f"use --task classification")
        class_names, n_outputs = None, 1
    tr, va = split_indices(len(data.X), validation_split, seed)
    X = data.X
    return Dataset(name=spec, task=task, X_train=X[tr], y_train=y[tr],
                   X_val=X[va] if len(va) else None, y_val=y[va] if len(va) else None,
                   n_outputs=n_outputs, class_names=class_names, feature_names=list(data.feature_names),
                   target_name=data.target_name, task_reason=reason)


def _renumber(y: np.ndarray, names: list[str], known: list[str], path: Path, column: str | None) -> np.ndarray:
    """Class indices into ``names`` as indices into ``known``; ValueError naming a label not in ``known``."""
    index = {name: k for k, name in enumerate(known)}
    unknown = [name for name in names if name not in index]
    if unknown:
        shown = ", ".join(known[:20]) + (", ..." if len(known) > 20 else "")
        raise ValueError(f"{path}: column {column!r} has the label {unknown[0]!r}, which the model was not "
                         f"trained on; its classes are {shown}; evaluate on data with those labels")
    return np.array([index[name] for name in names], dtype=np.int64)[y]
