"""A small CNN on MNIST: two conv + pool stages, then a dense layer, trained with ``fit``.

Needs the MNIST files: ``ax.datasets.load_mnist`` reads them from its cache folder (or ``--data
DIR``) and downloads them there when missing and a network is available. Network::

    conv 32@3×3 → BN → ReLU → maxpool 2 → conv 64@3×3 → BN → ReLU → maxpool 2 → 128 → ReLU → 10

(``build_model("conv32x3,bn,maxpool2,conv64x3,bn,maxpool2,128", (1, 28, 28), 10)``; the same as
``axon train --dataset mnist --layers conv32x3,bn,maxpool2,conv64x3,bn,maxpool2,128``). About 99%
test accuracy after 3 epochs; an epoch takes a minute or two on a laptop CPU.

    python examples/mnist_cnn.py [--epochs 3] [--data DIR] [--out mnist_cnn.axon]
"""

from __future__ import annotations

import argparse

import axon as ax
from axon.architectures import build_model

SPEC = "conv32x3,bn,maxpool2,conv64x3,bn,maxpool2,128"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train a small CNN on MNIST.")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--data", default=None, help="folder with the MNIST IDX files")
    parser.add_argument("--out", default="mnist_cnn.axon", help="where to save the trained model")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    (X_train, y_train), (X_val, y_val), (X_test, y_test) = ax.datasets.load_mnist(
        args.data, validation=True, flatten=False)            # NCHW: (n, 1, 28, 28), pixels in [0, 1]
    ax.set_seed(args.seed)
    model = build_model(SPEC, (1, 28, 28), 10, kind="cnn")
    print(model.summary())
    model.compile(loss=ax.losses.SoftmaxCrossEntropy(), optimizer=ax.optim.Adam(lr=1e-3),
                  metrics=["accuracy"])
    model.fit(X_train, y_train, epochs=args.epochs, batch_size=64, validation_data=(X_val, y_val),
              callbacks=[ax.callbacks.LearningRateScheduler(ax.optim.CosineDecay(1e-3, args.epochs))],
              seed=args.seed, verbose=1)
    result = model.evaluate(X_test, y_test)
    print(f"test loss {result['loss']:.4f}, test accuracy {result['accuracy']:.4f}")
    ax.save(model, args.out)
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
