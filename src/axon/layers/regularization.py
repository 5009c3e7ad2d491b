"""The L1 and L2 weight penalties, one convention for every layer that has weights.

A layer with strengths ``l1`` and ``l2`` adds to the mean loss

    penalty = (l2/2)·Σ W² + l1·Σ |W|

and so to ∂C/∂W the term ``l2·W + l1·sign(W)``. Biases are not penalised. The conversions to the
course's λ/(2n)·Σw², scikit-learn's alpha and weight decay are in docs/regularization.md.
"""

from __future__ import annotations

import numpy as np

from axon.parameter import Parameter


def check_strengths(l1: float, l2: float, owner: str) -> tuple[float, float]:
    """(l1, l2) as floats; ValueError naming ``owner`` unless both are finite and >= 0."""
    for arg, v in (("l1", l1), ("l2", l2)):
        if not np.isfinite(v) or v < 0:
            raise ValueError(f"{owner} {arg} must be a finite number >= 0, got {v!r}")
    return float(l1), float(l2)


def weight_penalty(W: np.ndarray, l1: float, l2: float) -> float:
    """(l2/2)·Σ W² + l1·Σ |W| (a Python float)."""
    value = 0.0
    if l2:
        value += 0.5 * l2 * float(np.vdot(W, W))
    if l1:
        value += l1 * float(np.abs(W).sum())
    return value


def add_penalty_gradient(weight: Parameter, l1: float, l2: float) -> None:
    """weight.grad += l2·W + l1·sign(W): the penalty's part of ∂C/∂W."""
    if l2:
        weight.grad += l2 * weight.data
    if l1:
        weight.grad += l1 * np.sign(weight.data)
