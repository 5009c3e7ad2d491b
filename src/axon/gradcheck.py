"""Gradient checking: backpropagation against central differences, in float64.

For each parameter entry θᵢ, the numerical derivative is
(C(θᵢ + ε) − C(θᵢ − ε)) / 2ε, with C = loss + penalties; the analytic one is what ``backward``
put into ``.grad``. The relative error of a parameter is ‖g_bp − g_num‖ / (‖g_bp‖ + ‖g_num‖).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from axon import backend
from axon._config import as_generator

if TYPE_CHECKING:
    from axon._config import Seed
    from axon.losses import Loss
    from axon.model import Sequential


@dataclass
class GradcheckRow:
    """One parameter's result: name, shape, entries checked, relative and absolute error."""

    name: str
    shape: tuple[int, ...]
    checked: int
    rel_error: float
    abs_error: float


@dataclass
class GradcheckReport:
    """The per-parameter table of :func:`gradcheck`; ``ok`` when every relative error <= ``tol``."""

    rows: list[GradcheckRow] = field(default_factory=list)
    tol: float = 1e-6
    input_rel_error: float = 0.0
    input_checked: bool = True   # False for integer ids (an Embedding's input has no gradient)

    @property
    def max_rel_error(self) -> float:
        """The largest relative error over all parameters (and the input gradient)."""
        return max([r.rel_error for r in self.rows] + [self.input_rel_error])

    @property
    def ok(self) -> bool:
        """True when backpropagation agrees with central differences within ``tol``."""
        return bool(self.max_rel_error <= self.tol)

    def __str__(self) -> str:
        head = f"{'parameter':<24} {'shape':<16} {'checked':>8} {'rel. error':>11} {'abs. error':>11}"
        lines = [head, "-" * len(head)]
        for r in self.rows:
            lines.append(f"{r.name:<24} {str(r.shape):<16} {r.checked:>8} "
                         f"{r.rel_error:>11.2e} {r.abs_error:>11.2e}")
        lines.append(f"{'(input x)':<24} {'':<16} {'':>8} {self.input_rel_error:>11.2e}" if self.input_checked
                     else f"{'(input x)':<24} not checked: integer ids have no gradient")
        verdict = "OK" if self.ok else "FAILED"
        lines.append(f"max relative error {self.max_rel_error:.2e} (tolerance {self.tol:.0e}): {verdict}")
        return "\n".join(lines)


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denom == 0 else float(np.linalg.norm(a - b) / denom)


def gradcheck(model: Sequential, loss: Loss, X: np.ndarray, y: np.ndarray, *, eps: float = 1e-6,
              tol: float = 1e-6, max_entries: int | None = 300, training: bool = False,
              seed: Seed = 0) -> GradcheckReport:
    """Compare backpropagation with central differences for every parameter of ``model``.

    Works on a float64 copy, so ``model`` itself is not changed (on its device: a model on the
    GPU is checked there). Checks up to ``max_entries``
    entries per parameter (a seeded random sample; None checks all) and the gradient with respect
    to the input (not for integer ids, which have none). ``training=True`` checks the training-mode pass (the random layers' generators
    are reset before each evaluation, so dropout masks stay fixed). Returns a
    :class:`GradcheckReport`; ``print(report)`` shows the table.
    """
    m = copy.deepcopy(model)
    m.to_dtype(np.float64)
    X = backend.as_array(X)
    # token ids for an Embedding (the rule of Sequential.prepare): no input gradient to check;
    # integer features of any other first layer (the XOR table) are numbers, checked as floats
    ids = X.dtype.kind in "iu" and bool(m.layers) and m.layers[0].integer_input
    if not ids:
        X = X.astype(np.float64)
    y = backend.as_array(y)
    if np.issubdtype(y.dtype, np.floating):
        y = y.astype(np.float64)
    loss = copy.deepcopy(loss)
    rngs = [(layer, copy.deepcopy(layer.rng)) for layer in m.random_layers()]

    def cost(x: np.ndarray) -> float:
        for layer, rng in rngs:
            layer.rng = copy.deepcopy(rng)
        return loss.forward(m.forward(x, training=training), y) + m.penalty()

    cost(X)
    m.zero_grad()
    grad_x = m.backward(loss.backward(), input_grad=True)
    analytic = {p.name: backend.host_copy(p.grad) for p in m.parameters()}  # compared on the host

    pick = as_generator(seed)
    report = GradcheckReport(tol=tol, input_checked=not ids)
    for p in m.parameters():
        idx, num = _central_differences(cost, X, p.data.reshape(-1), eps, max_entries, pick)
        bp = analytic[p.name].reshape(-1)[idx]
        report.rows.append(GradcheckRow(p.name, p.shape, idx.size, _rel(bp, num),
                                        float(np.max(np.abs(bp - num))) if idx.size else 0.0))
    if not ids:
        assert grad_x is not None
        idx, num = _central_differences(cost, X, X.reshape(-1), eps, max_entries, pick)
        report.input_rel_error = _rel(backend.to_host(grad_x).reshape(-1)[idx], num)
    return report


def _central_differences(cost, X, flat, eps, max_entries, pick):
    """(indices, numerical derivatives) of cost(X) over entries of ``flat``, a view being perturbed."""
    idx = np.arange(flat.size)
    if max_entries is not None and flat.size > max_entries:
        idx = np.sort(pick.choice(flat.size, max_entries, replace=False))
    num = np.empty(idx.size)
    for j, i in enumerate(idx):
        old = flat[i]
        flat[i] = old + eps
        plus = cost(X)
        flat[i] = old - eps
        minus = cost(X)
        flat[i] = old
        num[j] = (plus - minus) / (2 * eps)
    return idx, num
