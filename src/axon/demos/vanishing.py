"""Demo ``vanishing``: why deep sigmoid networks are hard to train (Nielsen, chapter 5).

Backpropagation multiplies δ by Wᵀ and by σ′(z) ≤ ¼ at every layer (BP2), so in a deep sigmoid
net the early layers receive much smaller gradients than the late ones: they learn slowly. ReLU's
derivative is 1 where the unit is active, and with He initialisation the gradient's size is about
the same in every layer.

Two 64-30-30-30-30-10 nets on the bundled digits, one with sigmoids (Glorot init), one with ReLUs
(He init): ‖∂C/∂W‖ per layer before training (one :func:`axon.trace` of the whole training set)
and during training (mean over each epoch's minibatches, as :class:`axon.callbacks.GradientStats`
records it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from axon.callbacks import GradientStats
from axon.datasets import load_digits
from axon.demos._common import DemoResult, accuracy, new_figure, save, train_epochs
from axon.explain import trace
from axon.layers import Dense, Layer, ReLU, Sigmoid
from axon.losses import SoftmaxCrossEntropy
from axon.model import Sequential
from axon.optim import SGD

SIZES = (64, 30, 30, 30, 30, 10)
EPOCHS = 40
NETS = {"sigmoid": (Sigmoid, "xavier", 0.5), "relu": (ReLU, "he", 0.05)}  # activation, init, lr


def deep_net(activation: str, rng: np.random.Generator) -> Sequential:
    """Dense layers of SIZES with the activation between them (logits out)."""
    act, init, _ = NETS[activation]
    layers: list[Layer] = []
    for i, (n_in, n_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        layers.append(Dense(n_in, n_out, init=init, seed=rng))
        if i < len(SIZES) - 2:
            layers.append(act())
    return Sequential(*layers)


def run(out_dir: Path, seed: int = 0) -> DemoResult:
    """Gradient norm per layer at initialisation and per epoch of SGD training, sigmoid against ReLU.

    Numbers: ``initial[net]`` the norms per Dense layer (first to last), ``ratio[net]`` the first
    layer's norm over the last layer's, ``during[net]`` per layer the per-epoch means, and the test
    accuracy after training.
    """
    (X, y), (Xt, yt) = load_digits()
    loss = SoftmaxCrossEntropy()
    initial, during, ratio, acc, losses = {}, {}, {}, {}, {}
    for name, (_, _, lr) in NETS.items():
        rng = np.random.default_rng(seed)
        model = deep_net(name, rng)
        t = trace(model, loss, X, y)
        initial[name] = [float(r.weight_grad_norm or 0.0) for r in t if r.kind == "Dense"]
        ratio[name] = initial[name][0] / initial[name][-1]
        stats = GradientStats()
        stats.set_model(model)
        per_epoch: dict[str, list[float]] = {}

        def on_epoch(epoch, _loss, stats=stats, per_epoch=per_epoch):
            logs: dict[str, float] = {}
            stats.on_epoch_end(epoch, logs)
            for key, value in logs.items():
                per_epoch.setdefault(key.split("/", 1)[1], []).append(value)
            stats.on_epoch_begin(epoch + 1, {})

        stats.on_epoch_begin(0, {})
        losses[name] = train_epochs(model, loss, SGD(model.parameters(), lr=lr, momentum=0.9), X, y, epochs=EPOCHS,
                     batch_size=32, rng=rng, on_batch=stats.on_batch_end,
                     on_epoch=on_epoch)
        during[name] = per_epoch
        acc[name] = accuracy(model, Xt, yt)

    fig, axes = new_figure(1, 4, size=(19, 4.2))
    ax0 = axes[0, 0]
    idx = np.arange(len(SIZES) - 1)
    for shift, (name, color) in zip((-0.2, 0.2), (("sigmoid", "darkorange"), ("relu", "navy"))):
        ax0.bar(idx + shift, initial[name], width=0.4, color=color, label=f"{name} (first/last {ratio[name]:.2g})")
    ax0.set(yscale="log", xlabel="Dense layer", ylabel="‖∂C/∂W‖", title="Before training")
    ax0.set_xticks(idx, [f"{i + 1}" for i in idx])
    ax0.legend(fontsize=8)
    for ax, name in zip(axes[0, 1:3], NETS):
        for layer, values in during[name].items():
            ax.plot(np.arange(1, len(values) + 1), values, marker=".", label=layer)
        ax.set(yscale="log", xlabel="epoch", title=f"{name} net during training (test acc {acc[name]:.2f})")
        ax.legend(fontsize=7)
    axes[0, 1].set_ylabel("mean ‖∂C/∂W‖ over the epoch")
    for name, color in (("sigmoid", "darkorange"), ("relu", "navy")):
        axes[0, 3].plot(np.arange(1, len(losses[name]) + 1), losses[name], color=color, label=name)
    axes[0, 3].set(xlabel="epoch", ylabel="training loss", title="Loss: the sigmoid net sits on a plateau")
    axes[0, 3].legend()
    files = [save(fig, out_dir, "vanishing.png")]
    text = (f"vanishing: {'-'.join(map(str, SIZES))} nets on the digits.\n"
            + "\n".join(f"  {n:>7}: ‖∂C/∂W‖ per layer at init " + ", ".join(f"{v:.2e}" for v in initial[n])
                        + f"; first/last = {ratio[n]:.3g}; test accuracy after {EPOCHS} epochs {acc[n]:.3f}"
                        for n in NETS)
            + "\n  The sigmoid net's first layer gets a far smaller gradient than its last: its loss stays on a"
            " plateau for many epochs before it starts to learn.")
    return DemoResult("vanishing", files, {"sizes": list(SIZES), "initial": initial, "ratio": ratio,
                                           "during": during, "test_accuracy": acc, "train_loss": losses,
                                           "epochs": EPOCHS}, text)
