"""Demo ``rnn-vanishing``: why a plain RNN forgets and an LSTM remembers (vanishing gradients in time).

The task needs a long memory: T random ±1 values, the first one flagged (a second input that is 1
at the first step only), and the class is the sign of the flagged value, answered from the last
state after the T − 1 others. Backpropagation through time carries ∂C/∂h from the last step back
to the first, multiplying at every step by W_hhᵀ and by tanh′ ≤ 1, so for a plain RNN the
gradient that reaches x₁ shrinks geometrically with T and it cannot learn to keep the value. The
LSTM's cell state is carried by cₜ = f ⊙ cₜ₋₁ + i ⊙ g: the gradient along it is multiplied only by
the forget gate f, which starts near open (its bias at 2, f ≈ 0.88, as Gers et al. 2000 and
Jozefowicz et al. 2015 recommend a positive forget bias) and which training opens further, while
the input gate learns to write only at the flag.

Two pictures, RNN(2, 16) and LSTM(2, 16) with a Dense(16, 2) on the last state, Adam:
‖∂C/∂xₜ‖ against the step t (mean over a batch, T = 30) at initialisation and after training;
and the test accuracy after training for T = 5, 10, 20, 30 (chance is 0.5).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from axon.demos._common import DemoResult, new_figure, save
from axon.layers import LSTM, RNN, Dense
from axon.losses import SoftmaxCrossEntropy
from axon.model import Sequential
from axon.optim import Adam

#: Sequence lengths T trained and tested (the last is the one of the gradient picture).
LENGTHS = (5, 10, 20, 30)
#: Hidden units of each recurrent layer.
HIDDEN = 16
#: At most this many Adam steps per model, batches of 64.
STEPS = 300
#: The two recurrent layers compared, by their names in the figures.
NETS = {"RNN": RNN, "LSTM": LSTM}


def first_value_task(n: int, steps: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """x (n, steps, 2): random ±1 values, and a flag that is 1 at the first step; y = 1 where the
    first value is +1."""
    x = np.zeros((n, steps, 2), dtype=np.float32)
    x[:, :, 0] = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=(n, steps))
    x[:, 0, 1] = 1
    return x, (x[:, 0, 0] > 0).astype(np.int64)


def input_gradient_norms(model: Sequential, x: np.ndarray, y: np.ndarray) -> list[float]:
    """‖∂C/∂xₜ‖ for every step t, the mean over the batch's sequences."""
    loss = SoftmaxCrossEntropy()
    loss.forward(model.forward(x), y)
    model.zero_grad()
    dx = model.backward(loss.backward(), input_grad=True)
    assert dx is not None
    return [float(v) for v in np.linalg.norm(dx, axis=2).mean(axis=0)]


def train(kind: str, steps: int, seed: int) -> tuple[Sequential, float, list[float], list[float]]:
    """Train one net on sequences of ``steps``; returns (model, test accuracy, norms at init, norms after)."""
    rng = np.random.default_rng(seed)
    cell = NETS[kind](2, HIDDEN, seed=rng)
    if kind == "LSTM":
        cell.bias_ih.data[HIDDEN:2 * HIDDEN] += 2.0   # the forget gate f starts near open, σ(2) ≈ 0.88
    model = Sequential(cell, Dense(HIDDEN, 2, seed=rng))
    probe = first_value_task(256, steps, rng)
    before = input_gradient_norms(model, *probe)
    loss = SoftmaxCrossEntropy()
    opt = Adam(model.parameters(), lr=1e-2, clip_norm=1.0)
    solved = 0
    for _ in range(STEPS):
        x, y = first_value_task(64, steps, rng)
        out = model.forward(x, training=True)
        loss.forward(out, y)
        model.zero_grad()
        model.backward(loss.backward(), input_grad=False)
        opt.step()
        solved = solved + 1 if np.all(out.argmax(axis=1) == y) else 0
        if solved == 20:                               # every batch right for a while: learned
            break
    xt, yt = first_value_task(1000, steps, rng)
    accuracy = float(np.mean(model.forward(xt).argmax(axis=1) == yt))
    return model, accuracy, before, input_gradient_norms(model, *probe)


def run(out_dir: Path, seed: int = 0) -> DemoResult:
    """The gradient reaching each step, and the accuracy against the length, RNN against LSTM.

    Numbers: ``accuracy[net][T]`` the test accuracy after training on sequences of T steps;
    ``grad_init[net]`` and ``grad_trained[net]`` ‖∂C/∂xₜ‖ per step for T = 30; ``first_over_last[net]``
    the ratio of the first step's norm to the last step's after training.
    """
    accuracy: dict[str, dict[str, float]] = {name: {} for name in NETS}
    grad_init: dict[str, list[float]] = {}
    grad_trained: dict[str, list[float]] = {}
    for name in NETS:
        for T in LENGTHS:
            _, acc, before, after = train(name, T, seed)
            accuracy[name][str(T)] = acc
            if T == LENGTHS[-1]:
                grad_init[name], grad_trained[name] = before, after
    ratio = {name: grad_trained[name][0] / grad_trained[name][-1] for name in NETS}

    fig, axes = new_figure(1, 2, size=(12, 4.2))
    colors = {"RNN": "darkorange", "LSTM": "navy"}
    steps = np.arange(1, LENGTHS[-1] + 1)
    for name in NETS:
        axes[0, 0].plot(steps, grad_init[name], ls=":", color=colors[name], label=f"{name} at initialisation")
        axes[0, 0].plot(steps, grad_trained[name], color=colors[name], label=f"{name} after training")
    axes[0, 0].set(yscale="log", xlabel="step t (the answer is read after the last step)", ylabel="‖∂C/∂xₜ‖",
                   title="How much gradient reaches each input")
    axes[0, 0].legend(fontsize=8)
    for name in NETS:
        axes[0, 1].plot(LENGTHS, [accuracy[name][str(T)] for T in LENGTHS], marker="o", color=colors[name],
                        label=name)
    axes[0, 1].axhline(0.5, color="gray", ls="--", lw=1, label="chance")
    axes[0, 1].set(xlabel="sequence length T", ylabel="test accuracy", ylim=(0.4, 1.02),
                   title="Recall the first value after T steps")
    axes[0, 1].legend()
    files = [save(fig, out_dir, "rnn_vanishing.png")]
    text = ("rnn-vanishing: the class is the sign of the first (flagged) of T random ±1 values.\n"
            + "\n".join(f"  {name:>4}: test accuracy " + ", ".join(f"T={T} {accuracy[name][str(T)]:.2f}"
                                                                  for T in LENGTHS)
                        + f"; ‖∂C/∂x₁‖ / ‖∂C/∂x_T‖ after training {ratio[name]:.2g}" for name in NETS)
            + "\n  The RNN's gradient shrinks geometrically going back in time, so it cannot learn to keep"
            " the first value for long; the LSTM's cell state carries it.")
    return DemoResult("rnn-vanishing", files, {"lengths": list(LENGTHS), "accuracy": accuracy,
                                               "grad_init": grad_init, "grad_trained": grad_trained,
                                               "first_over_last": ratio}, text)
