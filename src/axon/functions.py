"""The course's formulas as plain functions of arrays: activations, their derivatives, softmax.

Each formula lives here once; the layers and losses call these. All keep the input's dtype and
are finite for any finite input (sigmoid(±1000), softmax of logits ±1e4).

A derivative is given two ways where a layer needs it: ``f_prime(z)``, the course's f′(z), and
``f_prime_from_output(a)``, the same number written with the output a = f(z) that the layer kept
from its forward pass (σ′ = a(1 − a), tanh′ = 1 − a²), so backward need not compute f again.
"""

from __future__ import annotations

import numpy as np

from axon import backend


# -- sigmoid -----------------------------------------------------------------------------------
def sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) = 1 / (1 + e^(−z)), computed as ½(1 + tanh(z/2)) so no exp overflows."""
    return sigmoid_from_half_tanh(np.tanh(z * 0.5))


def sigmoid_prime(z: np.ndarray) -> np.ndarray:
    """σ′(z) = σ(z)(1 − σ(z)); at most ¼, which is why deep sigmoid nets learn slowly."""
    return sigmoid_prime_from_output(sigmoid(z))


def sigmoid_prime_from_output(a: np.ndarray) -> np.ndarray:
    """σ′(z) from the output a = σ(z): a(1 − a). A new array of a's shape and dtype (the layer
    multiplies it in place)."""
    d = 1 - a
    d *= a
    return d


# -- tanh --------------------------------------------------------------------------------------
def tanh(z: np.ndarray) -> np.ndarray:
    """tanh(z) = (e^z − e^(−z)) / (e^z + e^(−z)) = 2σ(2z) − 1."""
    return np.tanh(z)


def tanh_prime(z: np.ndarray) -> np.ndarray:
    """tanh′(z) = 1 − tanh²(z)."""
    return tanh_prime_from_output(np.tanh(z))


def tanh_prime_from_output(a: np.ndarray) -> np.ndarray:
    """tanh′(z) from the output a = tanh(z): 1 − a². A new array of a's shape and dtype."""
    d = a * a
    np.subtract(1, d, out=d)
    return d


# -- ReLU and LeakyReLU ------------------------------------------------------------------------
def relu(z: np.ndarray) -> np.ndarray:
    """ReLU(z) = max(0, z)."""
    return np.maximum(z, 0)


def relu_prime(z: np.ndarray) -> np.ndarray:
    """ReLU′(z) = 1 if z > 0 else 0 (0 at z = 0, as PyTorch), in z's dtype.

    The output a = ReLU(z) gives the same mask (a > 0 exactly where z > 0), so a layer may pass a.
    """
    return (z > 0).astype(z.dtype)


def leaky_relu(z: np.ndarray, alpha: float = 0.01) -> np.ndarray:
    """LeakyReLU(z) = z if z > 0 else αz (for α ≤ 1 that is max(z, αz), computed without a branch)."""
    if 0 <= alpha <= 1:
        return np.maximum(z, z * alpha)
    return np.where(z > 0, z, z * alpha)


def leaky_relu_prime(z: np.ndarray, alpha: float = 0.01) -> np.ndarray:
    """LeakyReLU′(z) = 1 if z > 0 else α, computed as (z > 0)·(1 − α) + α, in z's dtype."""
    d = (z > 0).astype(z.dtype)
    d *= 1.0 - alpha
    d += alpha
    return d


# -- softmax -----------------------------------------------------------------------------------
def log_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """log softmax(z)ⱼ = zⱼ − log Σₖ e^(zₖ) (z minus its "logsumexp"); same shape as ``z``.

    Computed on s = z − max z (softmax is the same for s), as s − log Σₖ e^(sₖ): no exponential
    overflows (the largest is e⁰ = 1) and the large parts cancel before rounding, so logits of
    ±1e4 give exact values in float32.
    """
    s = z - z.max(axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """softmax(z)ⱼ = e^(zⱼ) / Σₖ e^(zₖ), over ``axis`` (the classes); rows sum to 1."""
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


# -- binary cross-entropy, element by element --------------------------------------------------
def binary_cross_entropy_with_logits(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """−[y ln σ(z) + (1 − y) ln(1 − σ(z))] for each element, from the logit z (before σ).

    Computed as max(z, 0) − z·y + ln(1 + e^(−|z|)): the same number, but no e^z overflows and no
    ln(0) appears, so z = ±1e4 gives finite values. Returns a new array of z's shape; the losses
    reduce it (``BinaryCrossEntropy``: mean over all elements, ``CrossEntropyCost``: sum over the
    outputs, mean over the samples).
    """
    return np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))


def binary_cross_entropy(a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """−[y ln a + (1 − y) ln(1 − a)] for each element, from the probability a in [0, 1].

    Each logarithm is clamped at −100 (as PyTorch's ``binary_cross_entropy``), so a = 0 or 1
    gives a finite 100 where the target disagrees. Returns a new array of a's shape.
    """
    with np.errstate(divide="ignore"):
        log_a = np.maximum(np.log(a), -100)
        log_1a = np.maximum(np.log1p(-a), -100)
    return -(y * log_a + (1 - y) * log_1a)


# -- targets -----------------------------------------------------------------------------------
def one_hot(labels: np.ndarray, k: int, dtype: type | np.dtype = np.float32) -> np.ndarray:
    """Rows e_y of the k×k identity for class indices y: (n,) ints in [0, k) → (n, k) of 0 and 1.

    Nielsen's ``vectorized_result``: the target a quadratic or cross-entropy cost compares the k
    outputs with.
    """
    xp = backend.namespace(labels)  # on the labels' device (axon.backend)
    if labels.size and (int(labels.min()) < 0 or int(labels.max()) >= k):
        bad = int(labels.min()) if int(labels.min()) < 0 else int(labels.max())
        raise ValueError(f"class label {bad} is outside 0..{k - 1} for {k} outputs; give labels 0..{k - 1} "
                         "(or a model with as many outputs as classes)")
    out = xp.zeros((labels.shape[0], k), dtype=dtype)
    out[xp.arange(labels.shape[0]), labels] = 1
    return out


def sigmoid_from_half_tanh(t: np.ndarray) -> np.ndarray:
    """σ(z) = ½(1 + t) from t = tanh(z/2): the identity :func:`sigmoid` computes with, in place in
    ``t`` (returned).

    The recurrent layers halve the pre-activations of their sigmoid gates, so that one tanh call
    over all the gates of a step serves both the sigmoid gates and the tanh ones.
    """
    t *= 0.5
    t += 0.5
    return t
