"""``axon summary``, ``axon gradcheck``, ``axon explain`` and ``axon export``: look at a model."""

from __future__ import annotations

import argparse
import sys

from axon.cli import common

SUMMARY_EPILOG = """\
examples:
  axon summary runs/digits-20250101-120000/model.axon
  axon summary runs/digits-20250101-120000          # a run folder: its model.axon
"""

GRADCHECK_EPILOG = """\
Compares backpropagation with central differences (float64) for every parameter and prints the
per-parameter table of ax.gradcheck; the exit status is 1 when a relative error exceeds --tol.

examples:
  axon gradcheck --layers 16,8                       # a fresh MLP on 8 digits
  axon gradcheck --layers 16,8 --activation sigmoid --loss mse
  axon gradcheck --model cnn --layers conv4x3,maxpool2,16
  axon gradcheck runs/digits-20250101-120000/model.axon
"""

EXPLAIN_EPILOG = """\
Runs one recorded forward and backward pass (ax.trace) on a batch and prints, per layer, the
shapes, the norms of the activations a, of delta = dC/dz and of dC/dW, and the fraction of
saturated sigmoid/tanh units and of dead ReLUs. Nothing is changed.

examples:
  axon explain --layers 30,30,30 --activation sigmoid     # watch the gradient vanish
  axon explain runs/digits-20250101-120000/model.axon --dataset digits
"""

EXPORT_EPILOG = """\
examples:
  axon export runs/digits-20250101-120000/model.axon --onnx digits.onnx
  axon export model.axon --onnx model.onnx --logits      # raw outputs instead of probabilities
"""


def _formatter():
    return argparse.RawDescriptionHelpFormatter


def add_summary_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``axon summary MODEL``."""
    p = sub.add_parser("summary", help="the layers, output shapes and parameter counts of a model file",
                       description="Print a model file's summary table.", epilog=SUMMARY_EPILOG,
                       formatter_class=_formatter())
    p.add_argument("model", metavar="MODEL", help="a model file or a run folder")
    p.set_defaults(func=run_summary)


def _add_model_source(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", metavar="MODEL", nargs="?", help="a model file (or use --layers)")
    p.add_argument("--layers", metavar="SPEC", help="build a fresh model instead, e.g. 16,8 or conv4x3,maxpool2,16")
    p.add_argument("--model", dest="kind", choices=("mlp", "cnn"), default=None, help="for --layers: mlp or cnn")
    p.add_argument("--activation", default="relu", help="for --layers: relu, leaky_relu, tanh, sigmoid")
    p.add_argument("--dataset", metavar="NAME", help="digits (default), mnist, fashion-mnist or csv:PATH")
    p.add_argument("--target", metavar="COL", help="for csv: the target column")
    p.add_argument("--data-dir", metavar="DIR", help="folder with MNIST-style IDX files")
    p.add_argument("--loss", metavar="NAME", help="the loss (default: the model's, else cross_entropy / mse)")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="seed of a fresh model's weights")


def add_gradcheck_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``axon gradcheck MODEL | --layers SPEC``."""
    p = sub.add_parser("gradcheck", help="check backpropagation against numerical gradients",
                       description="Gradient check of a model file or of a fresh model (--layers).",
                       epilog=GRADCHECK_EPILOG, formatter_class=_formatter())
    _add_model_source(p)
    p.add_argument("--samples", type=int, default=8, metavar="N", help="batch size of the check (default 8)")
    p.add_argument("--tol", type=float, default=1e-6, help="largest relative error accepted (default 1e-6)")
    p.set_defaults(func=run_gradcheck)


def add_explain_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``axon explain MODEL | --layers SPEC``."""
    p = sub.add_parser("explain", help="per-layer activations, deltas and gradients for one batch",
                       description="Trace one forward and backward pass and print the per-layer table.",
                       epilog=EXPLAIN_EPILOG, formatter_class=_formatter())
    _add_model_source(p)
    p.add_argument("--batch-size", type=int, default=32, metavar="N", help="samples in the batch (default 32)")
    p.set_defaults(func=run_explain)


def add_export_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``axon export MODEL --onnx OUT``."""
    p = sub.add_parser("export", help="export a model file to ONNX",
                       description="Export a model file to ONNX (needs the onnx package).",
                       epilog=EXPORT_EPILOG, formatter_class=_formatter())
    p.add_argument("model", metavar="MODEL", help="a model file or a run folder")
    p.add_argument("--onnx", metavar="OUT", required=True, help="the .onnx file to write")
    p.add_argument("--logits", action="store_true", help="export the raw output, without softmax/sigmoid")
    p.set_defaults(func=run_export)


# -- implementations -----------------------------------------------------------------------------
def run_summary(args: argparse.Namespace) -> int:
    """Print the model's summary table, loss and optimizer; returns the exit status."""
    model, path = common.load_model(args.model)
    print(model.summary())
    if model.loss is not None:
        metrics = ", ".join(str(m) for m in model.metrics) or "none"
        print(f"Loss: {model.loss!r}   Optimizer: {model.optimizer!r}   Metrics: {metrics}")
    if model.preprocessor is not None:
        print(f"Preprocessor: {type(model.preprocessor).__name__} (applied to raw inputs)")
    return 0


def _model_and_batch(args: argparse.Namespace, n: int):
    """(model, loss, X, y) for gradcheck/explain: a model file or a fresh --layers model, and n samples."""
    import axon as ax
    from axon import runs

    if args.model and args.layers:
        raise ValueError("give either MODEL or --layers, not both")
    if n < 1:
        raise ValueError(f"the batch needs at least one sample, got {n}")
    if args.model:
        model, path = common.load_model(args.model)
        info = runs.find_run_info(path)
        X, y, data = common.dataset_for_model(args.dataset or (info or {}).get("dataset") or "digits", model,
                                              info, args.target, args.data_dir, "test")
        task = data.task
    else:
        from axon.architectures import build_model
        from axon.cli.data import load_dataset

        kind = args.kind or ("cnn" if args.layers and "conv" in args.layers else "mlp")
        data = load_dataset(args.dataset or "digits", target=args.target, kind=kind, data_dir=args.data_dir,
                            validation_split=0.0)
        X, y = data.X_train, data.y_train
        ax.set_seed(args.seed)
        model = build_model(args.layers or "16,8", data.input_shape, data.n_outputs, kind=kind,
                            activation=args.activation)
        task = data.task
    if args.loss:
        loss = ax.losses.get_loss(args.loss)
    elif model.loss is not None:
        loss = model.loss
    else:
        loss = ax.losses.get_loss("cross_entropy" if task == "classification" else "mse")
    return model, loss, X[:n], y[:n]  # class indices: every loss compares them one-hot where it must


def run_gradcheck(args: argparse.Namespace) -> int:
    """Print :func:`axon.gradcheck`'s table; exit status 1 when the check fails."""
    import axon as ax

    model, loss, X, y = _model_and_batch(args, args.samples)
    report = ax.gradcheck(model, loss, X, y, tol=args.tol)
    print(report)
    return 0 if report.ok else 1


def run_explain(args: argparse.Namespace) -> int:
    """Print :func:`axon.trace` of one batch; returns the exit status."""
    import axon as ax

    model, loss, X, y = _model_and_batch(args, args.batch_size)
    print(ax.trace(model, loss, X, y))
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Write the model as ONNX with :func:`axon.export_onnx`; returns the exit status."""
    import axon as ax

    model, _ = common.load_model(args.model)
    try:
        ax.export_onnx(model, args.onnx, include_link=not args.logits)
    except ImportError as e:
        raise ValueError(f"{e}") from None
    print(f"wrote {args.onnx}", file=sys.stderr)
    return 0
