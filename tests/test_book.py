"""Nielsen's set-ups reproduce as written: chapter 1 and chapter 3 of *Neural Networks and Deep
Learning*, trained through axon on the bundled digits, beside the book's update rule.

The reference below is written from the book's formulas, in the book's notation (column vectors,
wˡ of shape (nˡ, nˡ⁻¹), z = w·a + b), vectorised over the mini-batch; it is not the book's code.
For a mini-batch of m samples x out of a training set of n, with learning rate η and L2 strength λ:

    BP1  δᴸ = ∇ₐCₓ ⊙ σ′(zᴸ)          quadratic cost Cₓ = ½‖y − a‖²: ∇ₐCₓ = a − y
                                      cross-entropy cost: δᴸ = a − y (σ′ cancels)
    BP2  δˡ = ((wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ′(zˡ)
    BP3  ∂Cₓ/∂bˡ = δˡ
    BP4  ∂Cₓ/∂wˡ = δˡ (aˡ⁻¹)ᵀ
    w ← (1 − ηλ/n)·w − (η/m) Σₓ ∂Cₓ/∂w,     b ← b − (η/m) Σₓ ∂Cₓ/∂b

axon's exact equivalent (the same weights in float64, to 1e-10):

- The book's quadratic cost is ``QuadraticCost()`` = 1/(2m) Σₓ ‖y − a‖² on a mini-batch, whose
  gradient is already (1/m) Σₓ ∂Cₓ/∂w, so ``SGD(lr=η)`` and ``l2 = λ/n``. (``MSE()`` =
  1/(m·k) Σ (a − y)² is 2/k times it: ``SGD(lr=k·η/2)`` and ``l2 = 2λ/(k·n)``.)
- The book's cross-entropy cost is ``CrossEntropyCost()`` (summed over the k outputs, mean over
  the mini-batch), so again ``SGD(lr=η)``; its L2 term λ/(2n)·Σw² is ``Dense(l2=λ/n)`` on every
  layer, n the size of the training set (not of the mini-batch): axon adds l2·w to each weight's
  gradient, so a step is w ← (1 − η·l2)·w − η·(1/m) Σₓ ∂Cₓ/∂w, the book's update.
- ``BinaryCrossEntropy()`` is the same cost divided by k (a mean over the outputs too): it
  reproduces the book with ``SGD(lr=k·η)`` and ``l2 = λ/(k·n)``; at the book's ``lr = η`` and
  ``l2 = λ/n`` it is the book's rule with η/k and k·λ (learning k times slower, regularised k
  times harder).
- Initialisation: chapter 1 draws weights and biases from N(0, 1): ``Dense(..., init="standard_normal",
  bias_init="standard_normal")``; chapter 3 draws weights from N(0, 1/n_in) and biases from N(0, 1):
  ``init="lecun", bias_init="standard_normal"``.
- The output neurons are sigmoids: a final ``Sigmoid()`` layer, or the last Dense layer's logits
  with a loss that applies σ itself (``CrossEntropyCost()``, from logits, the default).
- Targets are one-hot rows, ``np.eye(10)[labels]``, as the book's ``vectorized_result``.
"""

from __future__ import annotations

import numpy as np
import pytest

import axon as ax
from axon.losses import MSE, BinaryCrossEntropy, CrossEntropyCost, QuadraticCost
from test_digits_cnn import load_example

K = 10                      # outputs: the ten digits
(X_TRAIN, LABELS), _ = ax.datasets.load_digits(dtype=np.float64)
Y_TRAIN = np.eye(K)[LABELS]
N = len(X_TRAIN)            # 1,438: the book's n in λ/n
M = 10                      # the book's mini-batch size


# -- the book's rule, from the formulas ---------------------------------------------------------
def _sigma(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


class BookNetwork:
    """Sigmoid layers z = w·a + b, a = σ(z), trained by the book's mini-batch update rule."""

    def __init__(self, weights: list[np.ndarray], biases: list[np.ndarray], cost: str) -> None:
        self.weights = [w.copy() for w in weights]      # (n_out, n_in)
        self.biases = [b.copy() for b in biases]        # (n_out, 1)
        self.cost = cost                                # "quadratic" or "cross-entropy"

    def update_mini_batch(self, X: np.ndarray, Y: np.ndarray, eta: float, lmbda: float, n: int) -> None:
        m = X.shape[0]
        a, activations, zs = X.T, [X.T], []             # one column per sample x
        for w, b in zip(self.weights, self.biases):
            z = w @ a + b
            a = _sigma(z)
            zs.append(z)
            activations.append(a)
        delta = a - Y.T                                  # BP1: cross-entropy, or ∇ₐCₓ of the quadratic cost
        if self.cost == "quadratic":
            delta = delta * _sigma(zs[-1]) * (1 - _sigma(zs[-1]))
        nabla_w, nabla_b = [], []
        for layer in range(len(self.weights) - 1, -1, -1):
            nabla_b.insert(0, delta.sum(axis=1, keepdims=True))       # BP3, summed over x
            nabla_w.insert(0, delta @ activations[layer].T)           # BP4, summed over x
            if layer:                                                  # BP2
                s = _sigma(zs[layer - 1])
                delta = (self.weights[layer].T @ delta) * s * (1 - s)
        self.weights = [(1 - eta * lmbda / n) * w - (eta / m) * nw for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - (eta / m) * nb for b, nb in zip(self.biases, nabla_b)]


# -- the same set-ups in axon -------------------------------------------------------------------
CHAPTER_1 = {"eta": 3.0, "lmbda": 0.0, "cost": "quadratic", "init": "standard_normal"}
CHAPTER_3 = {"eta": 0.5, "lmbda": 5.0, "cost": "cross-entropy", "init": "lecun"}
CHAPTER_1_L2 = {**CHAPTER_1, "lmbda": 5.0}   # the quadratic cost regularised (chapter 3 does this too)

#: name: (the book's set-up, axon's loss, a final Sigmoid layer?, lr and l2 from the book's η, λ)
SETUPS = {
    "ch1 QuadraticCost": (CHAPTER_1, QuadraticCost(), True, lambda eta, lmbda: (eta, 0.0)),
    "ch1 MSE": (CHAPTER_1, MSE(), True, lambda eta, lmbda: (K * eta / 2, 0.0)),
    "ch1 + L2 QuadraticCost": (CHAPTER_1_L2, QuadraticCost(), True, lambda eta, lmbda: (eta, lmbda / N)),
    "ch1 + L2 MSE": (CHAPTER_1_L2, MSE(), True, lambda eta, lmbda: (K * eta / 2, 2 * lmbda / (K * N))),
    "ch3 CrossEntropyCost from logits": (CHAPTER_3, CrossEntropyCost(), False,
                                         lambda eta, lmbda: (eta, lmbda / N)),
    "ch3 CrossEntropyCost after Sigmoid": (CHAPTER_3, CrossEntropyCost(from_logits=False), True,
                                           lambda eta, lmbda: (eta, lmbda / N)),
    "ch3 BinaryCrossEntropy": (CHAPTER_3, BinaryCrossEntropy(), False,
                               lambda eta, lmbda: (K * eta, lmbda / (K * N))),
}


def _axon_network(book: dict, l2: float, sigmoid_output: bool, seed: int) -> ax.Sequential:
    """64-30-10 sigmoid network with the book's initialisation and L2 on every weight."""
    rng = np.random.default_rng(seed)
    layers = []
    for n_in, n_out in ((64, 30), (30, K)):
        layers += [ax.Dense(n_in, n_out, init=book["init"], bias_init="standard_normal", l2=l2,
                            dtype="float64", seed=rng), ax.Sigmoid()]
    return ax.Sequential(*(layers if sigmoid_output else layers[:-1]))


def _book_copy(model: ax.Sequential, cost: str) -> BookNetwork:
    dense = [layer for layer in model if isinstance(layer, ax.Dense)]
    return BookNetwork([d.weight.data.T for d in dense], [d.bias.data[:, None] for d in dense], cost)


def _assert_same_weights(model: ax.Sequential, book: BookNetwork) -> None:
    dense = [layer for layer in model if isinstance(layer, ax.Dense)]
    for d, w, b in zip(dense, book.weights, book.biases, strict=True):
        np.testing.assert_allclose(d.weight.data, w.T, rtol=0, atol=1e-10)
        np.testing.assert_allclose(d.bias.data, b[:, 0], rtol=0, atol=1e-10)


def _pair(name: str, seed: int):
    """axon's network for set-up ``name`` and the book's network with the same initial weights."""
    book_setup, loss, sigmoid_output, convert = SETUPS[name]
    lr, l2 = convert(book_setup["eta"], book_setup["lmbda"])
    model = _axon_network(book_setup, l2, sigmoid_output, seed=seed)
    return model, loss, lr, _book_copy(model, book_setup["cost"]), book_setup["eta"], book_setup["lmbda"]


@pytest.mark.parametrize("name", sorted(SETUPS))
def test_mini_batch_steps_match_the_book_step_for_step(name):
    model, loss, lr, book, eta, lmbda = _pair(name, seed=0)
    opt = ax.optim.SGD(model.parameters(), lr=lr)
    order = np.random.default_rng(1).permutation(N)
    moved = 0.0
    for step in range(6):
        idx = order[step * M:(step + 1) * M]
        before = model[0].weight.data.copy()
        loss.forward(model.forward(X_TRAIN[idx], training=True), Y_TRAIN[idx])
        model.zero_grad()
        model.backward(loss.backward())
        opt.step()
        book.update_mini_batch(X_TRAIN[idx], Y_TRAIN[idx], eta, lmbda, N)
        _assert_same_weights(model, book)
        moved = max(moved, float(np.abs(model[0].weight.data - before).max()))
    assert moved > 1e-3  # the steps did move the weights: the comparison is not of two still nets


@pytest.mark.parametrize("name", sorted(SETUPS))
def test_an_epoch_of_fit_matches_the_book(name):
    """``fit`` over the book's shuffled order (143 mini-batches of 10 and a last one of 8)."""
    model, loss, lr, book, eta, lmbda = _pair(name, seed=2)
    start_weights = model[0].weight.data.copy()
    order = np.random.default_rng(3).permutation(N)
    X, Y = X_TRAIN[order], Y_TRAIN[order]
    model.compile(loss=loss, optimizer=ax.optim.SGD(lr=lr))
    model.fit(X, Y, epochs=1, batch_size=M, shuffle=False, verbose=0)
    for start in range(0, N, M):
        book.update_mini_batch(X[start:start + M], Y[start:start + M], eta, lmbda, N)
    _assert_same_weights(model, book)
    assert np.abs(model[0].weight.data - start_weights).max() > 0.01


def test_binary_cross_entropy_at_the_books_numbers_is_the_book_with_eta_over_k_and_k_lambda():
    """The trap of problem 9: BCE with lr = η, l2 = λ/n trains as the book with η/k and k·λ."""
    eta, lmbda = CHAPTER_3["eta"], CHAPTER_3["lmbda"]
    model = _axon_network(CHAPTER_3, lmbda / N, sigmoid_output=False, seed=4)
    as_written = _book_copy(model, "cross-entropy")
    as_trained = _book_copy(model, "cross-entropy")
    loss, opt = BinaryCrossEntropy(), ax.optim.SGD(model.parameters(), lr=eta)
    for start in range(0, 10 * M, M):
        xb, yb = X_TRAIN[start:start + M], Y_TRAIN[start:start + M]
        loss.forward(model.forward(xb, training=True), yb)
        model.zero_grad()
        model.backward(loss.backward())
        opt.step()
        as_trained.update_mini_batch(xb, yb, eta / K, K * lmbda, N)
        as_written.update_mini_batch(xb, yb, eta, lmbda, N)
    _assert_same_weights(model, as_trained)
    assert np.abs(model[0].weight.data - as_written.weights[0].T).max() > 1e-3


@pytest.mark.parametrize("init, std", [("standard_normal", 1.0), ("lecun", 1 / np.sqrt(100))])
def test_the_books_initialisations(init, std):
    """Chapter 1: w, b ~ N(0, 1). Chapter 3: w ~ N(0, 1/n_in), here n_in = 100; b ~ N(0, 1)."""
    layer = ax.Dense(100, 10_000, init=init, bias_init="standard_normal", dtype="float64", seed=0)
    w, b = layer.weight.data, layer.bias.data
    assert abs(w.mean()) < 0.01 * std and abs(w.std() / std - 1) < 0.01
    assert abs(b.mean()) < 0.05 and abs(b.std() - 1) < 0.03
    assert not ax.Dense(3, 4, seed=0).bias.data.any()  # the default stays zeros


def test_the_chapter_3_example_learns_and_its_bce_conversion_is_the_book():
    """examples/nielsen_chapter3.py: the book's cost and BCE at lr = kη, l2 = λ/(kn) train alike;
    BCE at the book's η and λ/n learns far less in the same epochs."""
    example = load_example("nielsen_chapter3")
    runs = {name: example.train(loss, lr, l2, seed=0, epochs=3) for name, (loss, lr, l2) in example.variants(N).items()}
    book, same_numbers, converted = runs.values()
    np.testing.assert_allclose(converted, book, atol=1e-9)   # float32: the same run up to rounding
    assert book[-1] > 0.8
    assert same_numbers[-1] < book[-1] - 0.1
