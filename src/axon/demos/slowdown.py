"""Demo ``slowdown``: the learning slowdown of the quadratic cost, and how cross-entropy cures it
(Nielsen, chapter 3).

One sigmoid neuron, input x = 1, target y = 0, started saturated at w = 2, b = 2 (a = σ(4) ≈ 0.98).
With the quadratic cost C = (a − y)²/2 the gradient is ∂C/∂w = (a − y) σ′(z) x, and σ′(z) is tiny
when a is near 1: learning starts slowly. With the cross-entropy
C = −[y ln a + (1 − y) ln(1 − a)] the σ′ cancels: ∂C/∂w = (a − y) x, so the worse the neuron is
wrong, the faster it learns.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from axon import functions as F
from axon.demos._common import DemoResult, new_figure, save
from axon.layers import Dense, Sigmoid
from axon.losses import CrossEntropyCost, QuadraticCost
from axon.model import Sequential
from axon.optim import SGD

W0, B0, LR, EPOCHS = 2.0, 2.0, 0.15, 300
#: The window over which the two costs' early progress is compared.
EARLY = 30


def _neuron(with_sigmoid: bool) -> Sequential:
    dense = Dense(1, 1, dtype="float64")
    assert dense.bias is not None
    dense.weight.data[:] = W0
    dense.bias.data[:] = B0
    return Sequential(dense, Sigmoid()) if with_sigmoid else Sequential(dense)


def _train(model: Sequential, loss, x, y) -> tuple[list[float], list[float]]:
    opt = SGD(model.parameters(), lr=LR)
    costs, outputs = [], []
    for _ in range(EPOCHS):
        out = model.forward(x)
        costs.append(loss.forward(out, y))
        outputs.append(float(loss.link(out)[0, 0]))
        model.zero_grad()
        model.backward(loss.backward())
        opt.step()
    return costs, outputs


def run(out_dir: Path, seed: int = 0) -> DemoResult:
    """Train the saturated neuron with both costs; plot both cost curves and the output a.

    ``seed`` is accepted for a uniform interface; this demo has no randomness.
    """
    x = np.ones((1, 1))
    y = np.zeros((1, 1))
    quad_cost, quad_out = _train(_neuron(True), QuadraticCost(), x, y)
    # the cross-entropy neuron's model ends at z; the loss applies σ (from logits) and fuses the gradient
    ce_cost, ce_out = _train(_neuron(False), CrossEntropyCost(from_logits=True), x, y)
    drop = {"quadratic": 1 - quad_cost[EARLY] / quad_cost[0], "cross_entropy": 1 - ce_cost[EARLY] / ce_cost[0]}
    fig, axes = new_figure(1, 3, size=(14, 4))
    ax_q, ax_c, ax_a = axes[0]
    ax_q.plot(quad_cost, color="darkorange")
    ax_q.set(title="Quadratic cost (a − y)²/2", xlabel="epoch", ylabel="cost")
    ax_c.plot(ce_cost, color="navy")
    ax_c.set(title="Cross-entropy cost", xlabel="epoch", ylabel="cost")
    ax_a.plot(quad_out, color="darkorange", label="quadratic")
    ax_a.plot(ce_out, color="navy", label="cross-entropy")
    ax_a.set(title="Output a = σ(wx + b) (target 0)", xlabel="epoch", ylim=(0, 1))
    # The window the printed comparison is about, marked in every panel.
    for ax, fell in ((ax_q, drop["quadratic"]), (ax_c, drop["cross_entropy"]), (ax_a, None)):
        ax.axvspan(0, EARLY, color="0.85", zorder=0)
        ax.axvline(EARLY, color="0.4", ls="--", lw=1, label=f"epoch {EARLY}" if ax is ax_a else None)
        if fell is not None:
            ax.text(EARLY + 4, 0.5, f"fell {fell:.1%}\nby epoch {EARLY}", transform=ax.get_xaxis_transform(),
                    fontsize=9)
    ax_a.legend()
    fig.suptitle(f"One saturated sigmoid neuron, {EPOCHS} epochs of gradient descent (lr {LR}); shaded: "
                 f"the first {EARLY} epochs")
    files = [save(fig, out_dir, "slowdown.png")]
    sigma_prime = float(F.sigmoid_prime(np.array(W0 + B0)))
    text = (f"slowdown: one neuron from w={W0}, b={B0} (a = {quad_out[0]:.3f}, σ′(z) = {sigma_prime:.4f}), "
            f"target 0, lr {LR}.\n"
            f"  in the first {EARLY} of {EPOCHS} epochs (shaded in the plot) the quadratic cost fell "
            f"{drop['quadratic']:.1%} (a = {quad_out[EARLY]:.3f}), "
            f"the cross-entropy {drop['cross_entropy']:.1%} (a = {ce_out[EARLY]:.3f}).\n"
            "  With cross-entropy the σ′(z) factor cancels from the gradient: a badly wrong neuron learns fast.")
    return DemoResult("slowdown", files, {
        "quadratic_cost": quad_cost, "cross_entropy_cost": ce_cost, "quadratic_output": quad_out,
        "cross_entropy_output": ce_out, "early_epochs": EARLY, "early_relative_drop": drop,
        "sigma_prime_at_start": sigma_prime}, text)
