"""scikit-learn estimators: an axon multilayer perceptron behind ``fit`` / ``predict``.

:class:`AxonClassifier` and :class:`AxonRegressor` build a :class:`~axon.Sequential` of
``Dense → activation (→ Dropout)`` blocks, one per entry of ``hidden_layer_sizes``, and a
``Dense`` output layer, and train it with :func:`axon.training.fit` (minibatch gradient descent;
early stopping with :class:`axon.callbacks.EarlyStopping` on a stratified validation split). They behave as any
scikit-learn estimator: cloneable, usable in a ``Pipeline`` and ``GridSearchCV``, and they pass
scikit-learn's own estimator checks. The trained network is ``est.model_``, so it can be saved
(``ax.save(est.model_, path)``), inspected (``ax.trace``) or exported (``ax.export_onnx``).

Example::

    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from axon.sklearn import AxonClassifier

    clf = make_pipeline(StandardScaler(), AxonClassifier(hidden_layer_sizes=(64,), epochs=30))
    clf.fit(X_train, y_train).score(X_test, y_test)

scikit-learn is an optional dependency (``pip install "axon-nn[sklearn]"``); ``import axon`` does
not import this module.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

import axon.optim as optim
from axon import functions as F
from axon._config import resolve_dtype
from axon.architectures import activation_name, build_mlp
from axon.losses import MSE, Loss, SoftmaxCrossEntropy
from axon.model import Sequential
from axon.validation import check_int

__all__ = ["AxonClassifier", "AxonRegressor"]


def _make_rng(random_state: Any) -> np.random.Generator:
    """A NumPy Generator from scikit-learn's ``random_state`` (None, int, RandomState or Generator).

    None draws fresh entropy (never NumPy's global state); an int seeds the generator; a
    RandomState instance supplies one seed (so it advances, as scikit-learn expects).
    """
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return np.random.default_rng(int(random_state))
    return np.random.default_rng(check_random_state(random_state).randint(np.iinfo(np.int32).max))


class _AxonMLP(BaseEstimator):
    """Shared hyperparameters, validation, network construction and the training loop.

    Subclasses validate and encode the targets (``_targets``), choose the output width and the
    loss (``_loss``). No work happens in ``__init__`` (scikit-learn's clone contract).
    """

    def __init__(self, hidden_layer_sizes: tuple[int, ...] = (100,), activation: str = "relu",
                 optimizer: str = "adam", lr: float = 1e-3, batch_size: int = 32, epochs: int = 200,
                 l2: float = 0.0, dropout: float = 0.0, early_stopping: bool = False,
                 validation_fraction: float = 0.1, n_iter_no_change: int = 10, tol: float = 1e-4,
                 random_state: Any = None, verbose: int = 0, dtype: str = "float32") -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.lr = lr
        self.batch_size = batch_size
        self.epochs = epochs
        self.l2 = l2
        self.dropout = dropout
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.random_state = random_state
        self.verbose = verbose
        self.dtype = dtype

    # -- validation ------------------------------------------------------------------------
    def _hidden_sizes(self) -> list[int]:
        sizes: Any = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral) and not isinstance(sizes, bool):
            sizes = (sizes,)
        try:
            sizes = list(sizes)
        except TypeError:
            sizes = [sizes]
        return [check_int(s, "each of hidden_layer_sizes", example=(100,)) for s in sizes]

    def _check_params(self) -> None:
        if not isinstance(self.activation, str):
            raise ValueError(f"activation must be a name such as 'relu', got {self.activation!r}")
        activation_name(self.activation)  # ValueError listing the choices
        try:
            resolve_dtype(self.dtype)
        except (TypeError, ValueError):
            raise ValueError(f"dtype must be 'float32' or 'float64', got {self.dtype!r}") from None
        if not isinstance(self.optimizer, str):
            raise ValueError(f"optimizer must be a name such as 'adam' or 'sgd', got {self.optimizer!r}")
        checks = [("lr", self.lr, lambda v: v > 0, "a positive number, e.g. 1e-3"),
                  ("l2", self.l2, lambda v: v >= 0, "a number >= 0"),
                  ("dropout", self.dropout, lambda v: 0 <= v < 1, "a probability in [0, 1)"),
                  ("validation_fraction", self.validation_fraction, lambda v: 0 < v < 1,
                   "a fraction in (0, 1), e.g. 0.1"),
                  ("tol", self.tol, lambda v: v >= 0, "a number >= 0")]
        for name, value, ok, what in checks:
            if isinstance(value, bool) or not isinstance(value, numbers.Real) \
                    or not np.isfinite(value) or not ok(value):
                raise ValueError(f"{name} must be {what}, got {value!r}")
        for name in ("batch_size", "epochs", "n_iter_no_change"):
            check_int(getattr(self, name), name)

    # -- subclass hooks --------------------------------------------------------------------
    def _loss(self) -> Loss:
        raise NotImplementedError

    # -- building and training -------------------------------------------------------------
    def _build(self, n_inputs: int, n_outputs: int, rng: np.random.Generator) -> Sequential:
        return build_mlp(n_inputs, self._hidden_sizes(), n_outputs, activation=self.activation,
                         dropout=self.dropout, l2=self.l2, dtype=self.dtype, seed=rng)

    def _initialize(self, n_features: int, n_outputs: int) -> None:
        """Fresh network, optimizer, generator and curves (the start of ``fit`` or a first ``partial_fit``)."""
        self._check_params()
        self._rng = _make_rng(self.random_state)
        self.model_ = self._build(n_features, n_outputs, self._rng)
        self.model_.compile(loss=self._loss(), optimizer=optim.get_optimizer(self.optimizer, lr=float(self.lr)))
        self.optimizer_ = self.model_.optimizer
        self.loss_curve_: list[float] = []
        self.n_iter_ = 0

    def _run_fit(self, X: np.ndarray, T: np.ndarray, epochs: int, **kwargs: Any) -> Any:
        """``epochs`` epochs of :func:`axon.training.fit`, seeded from the estimator's generator
        (shuffling and dropout masks), continuing from the current weights and optimizer state."""
        history = self.model_.fit(X, T, epochs=epochs, batch_size=int(self.batch_size), shuffle=True,
                                  seed=int(self._rng.integers(2**63)), verbose=min(int(self.verbose), 2),
                                  **kwargs)
        self.loss_curve_ += [float(v) for v in history.history["loss"]]
        self.n_iter_ += len(history.epoch)
        return history

    def _train(self, X: np.ndarray, T: np.ndarray, stratify: np.ndarray | None) -> None:
        """Run ``epochs`` epochs; with early stopping, hold out a validation fraction, stop when its
        loss has not improved by ``tol`` for ``n_iter_no_change`` epochs, and keep the best weights."""
        if not self.early_stopping:
            self._run_fit(X, T, int(self.epochs))
            return
        from axon.callbacks import EarlyStopping

        seed = int(self._rng.integers(np.iinfo(np.int32).max))
        try:
            X, Xv, T, Tv = train_test_split(X, T, test_size=self.validation_fraction,
                                            random_state=seed, stratify=stratify)
        except ValueError as err:
            raise ValueError(f"early_stopping: cannot hold out validation_fraction="
                             f"{self.validation_fraction!r} of {len(X)} samples ({err}); "
                             "use more data or early_stopping=False") from err
        stopper = EarlyStopping(monitor="val_loss", patience=int(self.n_iter_no_change),
                                min_delta=float(self.tol), restore_best=True)
        history = self._run_fit(X, T, int(self.epochs), validation_data=(Xv, Tv), callbacks=[stopper])
        self.validation_loss_curve_ = [float(v) for v in history.history["val_loss"]]
        self.best_validation_loss_ = float(stopper.best) if stopper.best is not None else float("nan")

    def _forward(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        return self.model_.forward(X)


class AxonClassifier(ClassifierMixin, _AxonMLP):
    """A multilayer perceptron classifier: softmax output trained with cross-entropy.

    The network is ``x → [Dense → activation (→ Dropout)] × len(hidden_layer_sizes) → Dense(k)``
    with k = number of classes, trained on ``C = −1/n Σ ln softmax(z)ᵧ`` (+ the L2 penalty
    ``l2/2 · Σ W²``). Labels may be of any type (ints, strings…); ``classes_`` holds them sorted
    and ``predict`` returns them. Two classes use a 2-unit softmax.

    Parameters
    ----------
    hidden_layer_sizes : units of each hidden layer, e.g. (100,) or (256, 128); () gives
        multinomial logistic regression.
    activation : "relu" (default), "leaky_relu", "tanh", "sigmoid"/"logistic" or "identity".
    optimizer : "adam" (default), "sgd", "adamw", "rmsprop" or "adagrad" (from :mod:`axon.optim`).
    lr : learning rate η.
    batch_size : minibatch size (a smaller last batch is kept).
    epochs : passes over the training data (the most, with early stopping).
    l2 : L2 penalty strength of every Dense layer (biases excluded).
    dropout : dropout probability after each hidden activation (0 disables it).
    early_stopping : hold out ``validation_fraction`` of the training data (stratified), stop
        when its loss has not improved by ``tol`` for ``n_iter_no_change`` epochs, and restore
        the best weights.
    validation_fraction, n_iter_no_change, tol : see ``early_stopping``.
    random_state : None, int, RandomState or Generator; seeds the initial weights, the shuffling,
        the dropout masks and the validation split (an int makes ``fit`` reproducible).
    verbose : 0 silent (default), 1 a progress bar per epoch, 2 one line per epoch (as ``fit``).
    dtype : "float32" (default, fast) or "float64", the dtype of the weights and computations.
        In float32 a row predicted alone can differ from the same row predicted in a batch by
        float32 rounding (~1e-7 relative: BLAS sums a lone row in another order); float64 makes that ~1e-16.

    Attributes
    ----------
    classes_ : (k,) the class labels.  n_features_in_ : number of input features.
    model_ : the trained :class:`axon.Sequential` (outputs logits; ``model_.loss`` is set).
    optimizer_ : its optimizer.  loss_curve_ : training loss per epoch.  n_iter_ : epochs run.
    validation_loss_curve_, best_validation_loss_ : with ``early_stopping``.
    """

    def _loss(self) -> Loss:
        return SoftmaxCrossEntropy()

    def _targets(self, X: Any, y: Any, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        X, y = validate_data(self, X, y, reset=reset, dtype=(np.float64, np.float32))
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        return X, y

    def _encode(self, y: np.ndarray) -> np.ndarray:
        idx = np.searchsorted(self.classes_, y)
        idx = np.clip(idx, 0, len(self.classes_) - 1)
        unseen = self.classes_[idx] != y
        if unseen.any():
            raise ValueError(f"y contains labels not in classes_: {np.unique(y[unseen])[:5].tolist()}; "
                             f"pass every class to the first partial_fit(..., classes=...)")
        return idx

    def fit(self, X: Any, y: Any) -> AxonClassifier:
        """Train a fresh network on X (n_samples, n_features) and labels y (n_samples,); returns self."""
        X, y = self._targets(X, y, reset=True)
        self.classes_ = unique_labels(y)
        self._initialize(X.shape[1], len(self.classes_))
        self._train(X, self._encode(y), stratify=y)
        return self

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> AxonClassifier:
        """One epoch over (X, y), continuing from the current weights (and optimizer state).

        The first call must give ``classes``, every label that will ever appear (as scikit-learn's
        incremental learners do); later calls may leave it out. Early stopping does not apply.
        """
        first = not hasattr(self, "model_")
        if first and classes is None:
            raise ValueError("classes must be given on the first call to partial_fit, "
                             "e.g. partial_fit(X, y, classes=np.unique(y_all))")
        if not first and classes is not None and not np.array_equal(unique_labels(classes), self.classes_):
            raise ValueError(f"classes={classes!r} differs from the classes of the first partial_fit "
                             f"call ({self.classes_!r})")
        X, y = self._targets(X, y, reset=first)
        if first:
            self.classes_ = unique_labels(classes)
            self._initialize(X.shape[1], len(self.classes_))
        self._run_fit(X, self._encode(y), 1)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities softmax(z), shape (n_samples, n_classes), columns in ``classes_`` order."""
        # Softmax in float64 so every row sums to 1 to double precision.
        return F.softmax(self._forward(X).astype(np.float64), axis=-1)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """log of :meth:`predict_proba`, computed stably as z − logsumexp(z)."""
        return F.log_softmax(self._forward(X).astype(np.float64), axis=-1)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class label for each row of X, shape (n_samples,)."""
        scores = self._forward(X)  # first: it raises NotFittedError before classes_ is read
        return self.classes_[np.argmax(scores, axis=1)]


class AxonRegressor(RegressorMixin, _AxonMLP):
    """A multilayer perceptron regressor trained with mean squared error.

    The network is ``x → [Dense → activation (→ Dropout)] × len(hidden_layer_sizes) → Dense(m)``
    with m the number of targets (multi-output regression: y of shape (n_samples, m)), trained on
    ``L = 1/(n·m) Σ (ŷ − y)²`` (+ ``l2/2 · Σ W²``). The output is linear. Targets are used as
    given: scale them (e.g. ``TransformedTargetRegressor``) when they are large.

    Parameters and attributes are those of :class:`AxonClassifier` (no ``classes_``);
    ``n_outputs_`` is m.
    """

    def _loss(self) -> Loss:
        return MSE()

    def _targets(self, X: Any, y: Any, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        X, y = validate_data(self, X, y, reset=reset, dtype=(np.float64, np.float32),
                             multi_output=True, y_numeric=True)
        if reset:
            self._y_1d = y.ndim == 1
        elif (y.ndim == 1) != self._y_1d and not (y.ndim == 2 and y.shape[1] == 1 and self._y_1d):
            raise ValueError(f"y has shape {y.shape} but the model was fitted on "
                             f"{'1-D' if self._y_1d else '2-D'} targets")
        T = y.reshape(len(y), -1).astype(X.dtype, copy=False)
        if not reset and T.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {T.shape[1]} targets but the model was fitted on {self.n_outputs_}")
        return X, T

    def fit(self, X: Any, y: Any) -> AxonRegressor:
        """Train a fresh network on X (n_samples, n_features) and y (n_samples,) or (n_samples, m)."""
        X, T = self._targets(X, y, reset=True)
        self.n_outputs_ = T.shape[1]
        self._initialize(X.shape[1], self.n_outputs_)
        self._train(X, T, stratify=None)
        return self

    def partial_fit(self, X: Any, y: Any) -> AxonRegressor:
        """One epoch over (X, y), continuing from the current weights (and optimizer state)."""
        first = not hasattr(self, "model_")
        X, T = self._targets(X, y, reset=first)
        if first:
            self.n_outputs_ = T.shape[1]
            self._initialize(X.shape[1], self.n_outputs_)
        self._run_fit(X, T, 1)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predictions ŷ, shape (n_samples,) for 1-D training targets, else (n_samples, m)."""
        out = self._forward(X).astype(np.float64)
        return out.ravel() if self._y_1d else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
