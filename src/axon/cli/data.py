"""The data sets the command line trains and evaluates on: ``--dataset digits|mnist|fashion-mnist|csv:PATH``.

:func:`load_dataset` returns a :class:`Dataset`: training, validation and (when the data set has
one) test arrays, whether it is a classification or a regression problem, and what the report
needs to draw it (image shape, class names). The validation set is a seeded random fraction of
the training rows (:func:`split_indices`), so the same ``--seed`` gives the same split.

A CSV target with whole-number values (or text) is a classification problem with classes
0..k-1; any other numeric target is a regression problem.
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
                 need_target: bool = True) -> Dataset:
    """Load the data set ``spec`` and split off a validation fraction of the training rows.

    ``kind="cnn"`` gives images as NCHW ``(n, 1, h, w)``, ``"mlp"`` flat rows. ``data_dir`` is a
    folder holding the MNIST-style IDX files (default: axon's cache). Raises ValueError (with the
    fix) for an unknown data set, a missing ``--target``, or a CNN on a CSV file.
    """
    name, path = parse_dataset_spec(spec)
    if name == "csv":
        if kind == "cnn":
            raise ValueError("--model cnn needs image data (digits, mnist, fashion-mnist), not a CSV table; "
                             "use --model mlp")
        return _load_csv(spec, path, target, validation_split, seed, need_target)
    if target is not None:
        raise ValueError(f"--target is for CSV files (--dataset csv:PATH); {name} has its own labels")
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
                   target_name="label")


def _load_csv(spec: str, path: Path, target: str | None, validation_split: float, seed: int,
              need_target: bool) -> Dataset:
    from axon.datasets import load_csv

    if target is None and need_target:
        raise ValueError(f"--target: name the column to predict, e.g. --dataset {spec} --target COLUMN")
    if not path.exists():
        raise ValueError(f"--dataset: no such file {str(path)!r}")
    data = load_csv(path, target=target)
    y = data.y
    if data.target_is_integral:
        task = "classification"
        labels = y.astype(np.int64)
        if data.classes is not None:
            class_names = list(data.classes)
        else:
            if labels.min() < 0:
                raise ValueError(f"{path}: column {data.target_name!r} holds whole numbers read as class "
                                 f"labels, but {int(labels.min())} is negative; labels must be 0..k-1")
            class_names = [str(k) for k in range(int(labels.max()) + 1)]
        if len(class_names) < 2:
            raise ValueError(f"{path}: column {data.target_name!r} has a single class; nothing to learn")
        y, n_outputs = labels, len(class_names)
    else:
        task, class_names, n_outputs = "regression", None, 1
    tr, va = split_indices(len(data.X), validation_split, seed)
    X = data.X
    return Dataset(name=spec, task=task, X_train=X[tr], y_train=y[tr],
                   X_val=X[va] if len(va) else None, y_val=y[va] if len(va) else None,
                   n_outputs=n_outputs, class_names=class_names, feature_names=list(data.feature_names),
                   target_name=data.target_name)
