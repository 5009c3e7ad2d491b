"""Costs: how good a function is. MSE, QuadraticCost, BinaryCrossEntropy, CrossEntropyCost, SoftmaxCrossEntropy.

Every loss has ``forward(output, target) -> float`` (a mean over the batch) and ``backward() ->
∂C/∂output`` for the last forward, and ``link(output)``: what ``predict`` reports (probabilities
for the cross-entropies, the raw output otherwise). Targets are cast to the output's dtype;
integer class indices (n,) for an output of k > 1 columns are compared with their one-hot rows.
"""

from __future__ import annotations

import numpy as np

from axon import backend
from axon import functions as F

#: Loss classes by name, for model files and the command line.
LOSS_REGISTRY: dict[str, type[Loss]] = {}


def _register(cls):
    LOSS_REGISTRY[cls.__name__] = cls
    return cls


class Loss:
    """Base class: subclasses implement ``forward`` and ``backward``; ``link`` defaults to identity."""

    def forward(self, output: np.ndarray, target: np.ndarray) -> float:
        raise NotImplementedError

    def backward(self) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, output: np.ndarray, target: np.ndarray) -> float:
        return self.forward(output, target)

    def link(self, output: np.ndarray) -> np.ndarray:
        """The prediction reported for a network output (identity for regression losses)."""
        return output

    def get_config(self) -> dict:
        """Constructor arguments (JSON-serialisable)."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

    def _check(self, output: np.ndarray, target) -> np.ndarray:
        target = backend.to_device_of(target, output)  # NumPy targets meet a GPU output there
        if target.ndim == 1 and output.ndim == 2 and output.shape[1] == 1:
            target = target.reshape(-1, 1)
        elif target.ndim == 1 and output.ndim == 2 and target.dtype.kind in "iu":
            target = F.one_hot(target, output.shape[1], output.dtype)  # class indices: compare with e_y
        if target.shape != output.shape:
            raise ValueError(f"{type(self).__name__}: target shape {target.shape} does not match "
                             f"output shape {output.shape}")
        return target.astype(output.dtype, copy=False)


@_register
class MSE(Loss):
    """Mean squared error over all elements: L = 1/(n·k) Σ (a − y)², as PyTorch and Keras define it.

    Shapes: output and target (n, k) or (n,). Gradient ∂L/∂a = 2(a − y)/(n·k).
    """

    def forward(self, output: np.ndarray, target: np.ndarray) -> float:
        self._diff = output - self._check(output, target)
        return float(np.vdot(self._diff, self._diff)) / self._diff.size

    def backward(self) -> np.ndarray:
        return self._diff * (2.0 / self._diff.size)


@_register
class QuadraticCost(Loss):
    """Nielsen's quadratic cost C = 1/(2n) Σₓ ‖y(x) − a(x)‖²: half the squared error summed over
    outputs, mean over the n samples. Gradient ∂C/∂a = (a − y)/n, the ∇ₐC of BP1.
    """

    def forward(self, output: np.ndarray, target: np.ndarray) -> float:
        self._diff = output - self._check(output, target)
        return 0.5 * float(np.vdot(self._diff, self._diff)) / output.shape[0]

    def backward(self) -> np.ndarray:
        return self._diff * (1.0 / self._diff.shape[0])


@_register
class BinaryCrossEntropy(Loss):
    """Binary cross-entropy C = −1/N Σ [y ln a + (1 − y) ln(1 − a)], mean over all N elements.

    N = n·k for an output of n samples and k outputs: the mean over the outputs as well as the
    samples, as PyTorch's ``BCEWithLogitsLoss`` and Keras' ``binary_crossentropy`` define it.
    (Nielsen's cost sums over the outputs: that is :class:`CrossEntropyCost`, k times this.)

    ``from_logits=True`` (default): the output is z and a = σ(z), computed stably as
    max(z, 0) − z·y + ln(1 + e^(−|z|)); the fused gradient is ∂C/∂z = (σ(z) − y)/N (no σ′ factor:
    that is how cross-entropy cures the learning slowdown). ``from_logits=False``: the output is a
    probability a; ln is clamped at −100 (as PyTorch) so a = 0 or 1 stays finite; ∂C/∂a =
    (a − y)/(a(1 − a)N). Targets in [0, 1], shape like the output ((n,) or (n, k)).
    """

    def __init__(self, from_logits: bool = True) -> None:
        self.from_logits = bool(from_logits)

    def _terms(self, output: np.ndarray) -> int:
        """The divisor of the sum: N, every element (a mean over samples and outputs)."""
        return output.size

    def forward(self, output: np.ndarray, target: np.ndarray) -> float:
        y = self._check(output, target)
        self._y, self._out = y, output
        per = (F.binary_cross_entropy_with_logits(output, y) if self.from_logits
               else F.binary_cross_entropy(output, y))
        return float(per.sum()) / self._terms(output)

    def backward(self) -> np.ndarray:
        scale = 1.0 / self._terms(self._out)
        if self.from_logits:
            return (F.sigmoid(self._out) - self._y) * scale
        a = self._out
        return (a - self._y) / np.maximum(a * (1 - a), 1e-12) * scale

    def link(self, output: np.ndarray) -> np.ndarray:
        return F.sigmoid(output) if self.from_logits else output

    def get_config(self) -> dict:
        return {"from_logits": self.from_logits}


@_register
class CrossEntropyCost(BinaryCrossEntropy):
    """Nielsen's cross-entropy cost (his ``CrossEntropyCost``, chapter 3), in the book's own form:

        C = −1/n Σₓ Σⱼ [yⱼ ln aⱼ + (1 − yⱼ) ln(1 − aⱼ)]

    summed over the k outputs j, mean over the n samples x of the batch. The same terms as
    :class:`BinaryCrossEntropy`, divided by n instead of n·k, so it is k times that loss, and
    with it the book's η and λ mean what the book says: ``SGD(lr=η)`` and ``Dense(l2=λ/n_train)``
    (n_train: the training set's size, the book's n in λ/n) give, for a mini-batch of m, his update
    w ← (1 − ηλ/n_train)·w − (η/m) Σₓ ∂Cₓ/∂w exactly (docs/course.md, section 16).

    ``from_logits=True`` (default): the output is z (a network ending with a Dense layer) and
    a = σ(z), computed stably; the fused gradient is ∂C/∂z = (a − y)/n, the book's
    δᴸ = a − y for each sample. ``from_logits=False``: the output is a = σ(z) from a final
    Sigmoid layer; ∂C/∂a = (a − y)/(a(1 − a)n), and the Sigmoid's σ′ = a(1 − a) cancels to the same
    δᴸ. ``link`` (what ``predict`` reports) is σ(z), as for BinaryCrossEntropy.

    Shapes: output and target (n, k) or (n,); targets in [0, 1]; for classes give one-hot rows,
    ``np.eye(k)[labels]``, as the book does.
    """

    def _terms(self, output: np.ndarray) -> int:
        """The divisor of the sum: n, the samples (the outputs are summed, as the book does)."""
        return output.shape[0]


@_register
class SoftmaxCrossEntropy(Loss):
    """Softmax with log-likelihood, from logits: C = −1/n Σₓ ln aᵧ(x), a = softmax(z).

    ln aᵧ = zᵧ − logsumexp(z), so logits of ±1e4 give a finite value. The fused gradient is
    ∂C/∂z = (a − y)/n with y one-hot. Output (n, k) logits; target (n,) integer class indices
    in [0, k) or (n, k) one-hot (or any probability rows).
    """

    _labels: np.ndarray | None  # the last forward's class indices, or its one-hot rows
    _onehot: np.ndarray | None

    def forward(self, output: np.ndarray, target: np.ndarray) -> float:
        if output.ndim != 2:
            raise ValueError(f"SoftmaxCrossEntropy expects logits of shape (n, k), got {output.shape}")
        n, k = output.shape
        target = backend.to_device_of(target, output)
        logp = F.log_softmax(output, axis=1)
        if target.ndim == 1:
            if target.shape[0] != n:
                raise ValueError(f"SoftmaxCrossEntropy: {target.shape[0]} labels for {n} outputs")
            idx = target.astype(np.intp, copy=False)
            if idx.size and (idx.min() < 0 or idx.max() >= k):
                raise ValueError(f"SoftmaxCrossEntropy: labels must be in [0, {k}), "
                                 f"got values from {idx.min()} to {idx.max()}")
            self._labels, self._onehot = idx, None
            xp = backend.namespace(logp)
            value = -float(logp[xp.arange(n), idx].sum()) / n  # sum / n: .mean() costs 5 µs more
        else:
            y = self._check(output, target)
            self._labels, self._onehot = None, y
            value = -(y * logp).sum() / n
        self._logp = logp
        return float(value)

    def backward(self) -> np.ndarray:
        a = np.exp(self._logp)
        n = a.shape[0]
        if self._onehot is None:
            xp = backend.namespace(a)  # NumPy, or CuPy for an output on the GPU
            a[xp.arange(n), self._labels] -= 1
        else:
            a -= self._onehot
        a *= 1.0 / n
        return a

    def link(self, output: np.ndarray) -> np.ndarray:
        return F.softmax(output, axis=-1)


#: Every name :func:`get_loss` accepts (compile and the command line's ``--loss`` go through it):
#: axon's short names, the class names in lower case (added below), and Keras' names.
LOSS_NAMES: dict[str, type[Loss]] = {
    "mse": MSE, "mean_squared_error": MSE,
    "quadratic": QuadraticCost, "quadratic_cost": QuadraticCost,
    "bce": BinaryCrossEntropy, "binary_cross_entropy": BinaryCrossEntropy,
    "binary_crossentropy": BinaryCrossEntropy,
    "cross_entropy_cost": CrossEntropyCost, "nielsen_cross_entropy": CrossEntropyCost,
    "cross_entropy": SoftmaxCrossEntropy, "softmax_cross_entropy": SoftmaxCrossEntropy,
    "categorical_crossentropy": SoftmaxCrossEntropy, "sparse_categorical_crossentropy": SoftmaxCrossEntropy,
}
LOSS_NAMES.update({name.lower(): cls for name, cls in LOSS_REGISTRY.items()})


def get_loss(spec: str | Loss) -> Loss:
    """A loss from an instance (returned as it is) or a name (case does not matter).

    ======================================================  ==========================================
    name                                                    loss
    ======================================================  ==========================================
    "mse", "mean_squared_error" (Keras)                     ``MSE()``: 1/(n·k) Σ (a − y)²
    "quadratic", "quadratic_cost"                           ``QuadraticCost()``: Nielsen's 1/(2n) Σₓ ‖y − a‖²
    "bce", "binary_cross_entropy", "binary_crossentropy"    ``BinaryCrossEntropy()``: from logits, mean
    (Keras)                                                 over samples and outputs
    "cross_entropy_cost", "nielsen_cross_entropy"           ``CrossEntropyCost()``: Nielsen's, from logits,
                                                            summed over outputs, mean over samples
    "cross_entropy", "softmax_cross_entropy",               ``SoftmaxCrossEntropy()``: softmax +
    "categorical_crossentropy" (Keras, one-hot targets),    log-likelihood, from logits; labels (n,) or
    "sparse_categorical_crossentropy" (Keras, labels)       one-hot (n, k)
    ======================================================  ==========================================

    The class names in lower case ("crossentropycost", ...) work too. Unlike Keras, where
    ``categorical_crossentropy`` and ``binary_crossentropy`` take probabilities by default, axon's
    cross-entropies take **logits**: end the model with its last Dense layer, not with Softmax or
    Sigmoid (``BinaryCrossEntropy(from_logits=False)`` and ``CrossEntropyCost(from_logits=False)``
    take probabilities). Raises ValueError for an unknown name, listing every name.
    """
    if isinstance(spec, Loss):
        return spec
    key = str(spec).lower()
    if key not in LOSS_NAMES:
        raise ValueError(f"unknown loss {spec!r}; choose one of {', '.join(sorted(LOSS_NAMES))}, "
                         "or pass a loss object from axon.losses")
    return LOSS_NAMES[key]()
