"""Metrics: numbers that say how good a model is, reported next to the loss by fit and evaluate.

A metric is a function ``metric(y_pred, y_true) -> float``, a mean over the samples, so a mean of
batch values weighted by batch size is the value on the whole set. ``y_pred`` is the model's
prediction (``loss.link(output)``: probabilities for the cross-entropies); the argmax-based metrics
(accuracy on several classes, top-k) also accept raw logits, because softmax keeps the order.

Targets are integer class indices ``(n,)`` or one-hot rows ``(n, k)`` for the classification
metrics, and arrays shaped like ``y_pred`` for the regression ones.

Names for ``compile(metrics=[...])``: "accuracy" (or "acc"), "top_k_accuracy" (k = 5),
"top_<k>_accuracy" such as "top_3_accuracy", "mse", "mae"; or any callable.

Per-class figures for reports: :func:`confusion_matrix` and :func:`precision_recall_f1`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from axon import backend
from axon.validation import check_int

Metric = Callable[[np.ndarray, np.ndarray], float]


def _labels(y_true: np.ndarray) -> np.ndarray:
    """Class indices from integer labels (n,) or one-hot rows (n, k)."""
    y_true = backend.as_array(y_true)
    if y_true.ndim == 2 and y_true.shape[1] > 1:
        return y_true.argmax(axis=1)
    return y_true.reshape(-1)


def accuracy(y_pred: np.ndarray, y_true: np.ndarray) -> float:
    """Fraction of samples whose predicted class is the true class.

    Several classes: prediction = argmax over axis 1 of ``y_pred`` (n, k) (logits or
    probabilities). One output, ``y_pred`` (n,) or (n, 1) holding probabilities: prediction =
    1 if p >= 0.5 else 0. ``y_true``: labels (n,) or one-hot (n, k). Returns a float in [0, 1].
    """
    y_pred = backend.as_array(y_pred)
    if y_pred.ndim == 2 and y_pred.shape[1] > 1:
        pred = y_pred.argmax(axis=1)
        true = _labels(y_true)
    else:
        pred = y_pred.reshape(-1) >= 0.5
        true = backend.as_array(y_true).reshape(-1) >= 0.5
    if pred.shape[0] == 0:
        return 0.0
    return float(np.count_nonzero(pred == true)) / pred.shape[0]


accuracy.scores_ok = True  # type: ignore[attr-defined]  # argmax is the same on logits and on probabilities


def top_k_accuracy(y_pred: np.ndarray, y_true: np.ndarray, k: int = 5) -> float:
    """Fraction of samples whose true class is among the ``k`` highest scores.

    ``y_pred`` (n, c) logits or probabilities, ``y_true`` labels (n,) or one-hot (n, c).
    With k >= c every sample counts as correct. Ties are broken by index (as argpartition does).
    """
    y_pred = backend.as_array(y_pred)
    if y_pred.ndim != 2:
        raise ValueError(f"top_k_accuracy needs scores of shape (n, classes), got {y_pred.shape}")
    n, c = y_pred.shape
    if n == 0:
        return 0.0
    if k >= c:
        return 1.0
    top = np.argpartition(y_pred, c - k, axis=1)[:, c - k:]
    hit = (top == _labels(y_true)[:, None]).any(axis=1)
    return float(np.count_nonzero(hit)) / n


top_k_accuracy.scores_ok = True  # type: ignore[attr-defined]


def make_top_k_accuracy(k: int) -> Metric:
    """``top_k_accuracy`` with a fixed k, named ``top_<k>_accuracy``."""
    k = check_int(k, "top-k accuracy's k", example=5)

    def metric(y_pred: np.ndarray, y_true: np.ndarray) -> float:
        return top_k_accuracy(y_pred, y_true, k=int(k))

    metric.__name__ = f"top_{int(k)}_accuracy"
    metric.__doc__ = f"Fraction of samples whose true class is among the {int(k)} highest scores."
    metric.scores_ok = True  # type: ignore[attr-defined]
    return metric


def mse(y_pred: np.ndarray, y_true: np.ndarray) -> float:
    """Mean squared error over all elements: 1/(n·k) Σ (ŷ − y)². Shapes (n,) or (n, k)."""
    diff = _diff(y_pred, y_true)
    return float(np.vdot(diff, diff)) / diff.size if diff.size else 0.0


def mae(y_pred: np.ndarray, y_true: np.ndarray) -> float:
    """Mean absolute error over all elements: 1/(n·k) Σ |ŷ − y|. Shapes (n,) or (n, k)."""
    diff = _diff(y_pred, y_true)
    return float(np.abs(diff).sum()) / diff.size if diff.size else 0.0


def _diff(y_pred: np.ndarray, y_true: np.ndarray) -> np.ndarray:
    y_pred, y_true = backend.as_array(y_pred), backend.as_array(y_true)
    if y_true.ndim == 1 and y_pred.ndim == 2 and y_pred.shape[1] == 1:
        y_true = y_true.reshape(-1, 1)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"metric: target shape {y_true.shape} does not match prediction shape "
                         f"{y_pred.shape}")
    return y_pred - y_true.astype(y_pred.dtype, copy=False)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int | None = None) -> np.ndarray:
    """Counts ``C[i, j]`` of samples of true class i predicted as class j: int64 (k, k).

    ``y_true`` and ``y_pred`` hold class indices (n,) (or one-hot / score rows (n, k), reduced by
    argmax). ``n_classes`` defaults to 1 + the largest index seen. Row sums are the classes' sizes
    (support), column sums how often each class was predicted, the diagonal the correct ones.
    """
    true = _labels(backend.to_host(y_true)).astype(np.intp)  # a report: counted on the host
    pred = _labels(backend.to_host(y_pred)).astype(np.intp)
    if true.shape != pred.shape:
        raise ValueError(f"confusion_matrix: {true.shape[0]} labels but {pred.shape[0]} predictions")
    k = int(n_classes) if n_classes is not None else int(max(true.max(initial=-1), pred.max(initial=-1)) + 1)
    if true.size and (min(true.min(), pred.min()) < 0 or max(true.max(), pred.max()) >= k):
        raise ValueError(f"confusion_matrix: class indices must be in 0..{k - 1}")
    return np.bincount(true * k + pred, minlength=k * k).reshape(k, k).astype(np.int64)


def precision_recall_f1(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int | None = None
                        ) -> dict[str, np.ndarray]:
    """Per-class precision, recall, F1 and support, from the confusion matrix C (true i, predicted j).

    For class k: precision_k = C[k, k] / Σᵢ C[i, k] (of the samples predicted k, the fraction that
    are k), recall_k = C[k, k] / Σⱼ C[k, j] (of the samples of class k, the fraction found),
    F1_k = 2·precision_k·recall_k / (precision_k + recall_k) (their harmonic mean), support_k =
    Σⱼ C[k, j]. A ratio 0/0 (a class never predicted, or absent) counts as 0, as scikit-learn's
    ``zero_division=0`` does. Returns float64 arrays (k,) under "precision", "recall", "f1" and an
    int64 array under "support".
    """
    C = confusion_matrix(y_true, y_pred, n_classes)
    tp = np.diag(C).astype(np.float64)
    predicted, support = C.sum(axis=0), C.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(tp), where=both > 0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support}


#: Metrics by name, for ``compile(metrics=[...])`` and the command line.
METRICS: dict[str, Metric] = {
    "accuracy": accuracy,
    "acc": accuracy,
    "top_k_accuracy": make_top_k_accuracy(5),
    "mse": mse,
    "mean_squared_error": mse,
    "mae": mae,
    "mean_absolute_error": mae,
}

_TOP_K = re.compile(r"^top_?(\d+)(_accuracy)?$")


def get_metric(spec: str | Metric) -> tuple[str, Metric]:
    """Resolve a metric name or callable to ``(name, function)``.

    The name is the key in ``history.history`` ("accuracy", "val_accuracy"). A callable keeps
    its ``__name__``. Unknown names raise ValueError listing the known ones.
    """
    if callable(spec):
        return getattr(spec, "__name__", type(spec).__name__), spec
    if not isinstance(spec, str):
        raise TypeError(f"metrics must be names or callables, got {type(spec).__name__}")
    key = spec.strip().lower()
    if key in METRICS:
        name = {"acc": "accuracy", "mean_squared_error": "mse", "mean_absolute_error": "mae"}.get(key, key)
        return name, METRICS[key]
    m = _TOP_K.match(key)
    if m:
        fn = make_top_k_accuracy(int(m.group(1)))
        return fn.__name__, fn
    known = ", ".join(sorted(set(METRICS) - {"acc", "mean_squared_error", "mean_absolute_error"}))
    raise ValueError(f"unknown metric {spec!r}; choose one of {known}, top_<k>_accuracy, or pass a function")
