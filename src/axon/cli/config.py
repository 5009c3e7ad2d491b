"""Options of ``axon train``: defaults, then a TOML file (``--config``), then command-line flags.

Every option has one name used everywhere: the flag ``--batch-size``, the TOML key ``batch_size``
(``batch-size`` is accepted too) and the key in ``run.json``. The defaults that depend on the data
are one table, :data:`DEFAULTS` (images, images with ``--model cnn``, CSV classification, CSV
regression); ``--help`` and docs/cli.md show it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

#: Options that apply to every data set (None: decided by the data, see :data:`DEFAULTS`).
BASE_DEFAULTS: dict[str, Any] = {
    "dataset": "digits", "target": None, "task": None, "model": "mlp", "layers": None, "activation": "relu",
    "loss": None, "output_activation": None, "optimizer": "adam", "lr": 1e-3, "momentum": 0.9, "epochs": None,
    "batch_size": None, "dropout": 0.0, "l1": 0.0, "l2": 0.0, "early_stopping": None, "seed": 0,
    "validation_split": None, "standardize": None, "grad_stats": False, "data_dir": None, "threads": 1,
    "delimiter": ",", "drop": None, "device": "cpu",
}

#: The defaults that depend on the data, one column per kind of data: the one table of them
#: (``axon train --help`` and docs/cli.md show it; a test holds docs/cli.md to it).
#: Measured on the bundled digits (seeds 0-2, each seed also drawing the validation split), test accuracy:
#:   256-128, Adam 1e-3, batch 32, 40 epochs             0.969 0.975 0.978  (mean 0.974)
#:   + dropout 0.2                                        0.978 0.964 0.981  (mean 0.974)
#:   + dropout 0.3, l2 1e-4, 60 epochs                    0.978 0.964 0.975  (mean 0.972)
#:   dropout 0.2, Adam 3e-3, batch 64, 40 epochs (chosen) 0.972 0.972 0.981  (mean 0.975)
#: (the chosen one is also the quickest: half the steps of batch 32). A CNN learns the digits in
#: fewer epochs, each of which costs more. The CSV columns: see docs/cli.md, "Defaults".
DEFAULTS: dict[str, dict[str, Any]] = {
    "images": {"layers": None, "epochs": 40, "batch_size": 64, "lr": 3e-3, "dropout": 0.2, "l2": 0.0,
               "early_stopping": 0, "validation_split": 0.1, "standardize": False},
    "images, --model cnn": {"layers": None, "epochs": 15, "batch_size": 64, "lr": 3e-3, "dropout": 0.2,
                            "l2": 0.0, "early_stopping": 0, "validation_split": 0.1, "standardize": False},
    "csv classification": {"layers": "64", "epochs": 300, "batch_size": 32, "lr": 1e-3, "dropout": 0.0,
                           "l2": 1e-3, "early_stopping": 20, "validation_split": 0.2, "standardize": True},
    "csv regression": {"layers": "64", "epochs": 300, "batch_size": 64, "lr": 1e-3, "dropout": 0.0,
                       "l2": 1e-3, "early_stopping": 20, "validation_split": 0.2, "standardize": True},
}


def defaults_kind(dataset: str, task: str | None, model: str = "mlp") -> str:
    """The column of :data:`DEFAULTS` for a data set spec, task (None: not known yet) and model kind."""
    if not dataset.startswith("csv:"):
        return "images, --model cnn" if model == "cnn" else "images"
    return "csv classification" if task == "classification" else "csv regression"


def defaults_for(dataset: str, task: str | None, model: str = "mlp") -> dict[str, Any]:
    """Every option's default for a data set spec, task ("classification", "regression" or None:
    not known yet) and model kind ("mlp" or "cnn")."""
    return {**BASE_DEFAULTS, **DEFAULTS[defaults_kind(dataset, task, model)]}


def defaults_table() -> str:
    """:data:`DEFAULTS` as a Markdown table (option per row, kind of data per column), as docs/cli.md has it."""
    kinds = list(DEFAULTS)
    rows = ["| option | " + " | ".join(kinds) + " |", "|---" * (len(kinds) + 1) + "|"]
    for name in DEFAULTS["images"]:
        cells = [_show(DEFAULTS[k][name], name) for k in kinds]
        rows.append(f"| `--{name.replace('_', '-')}` | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _show(value: Any, name: str) -> str:
    if value is None and name == "layers":
        return "256,128 (cnn: per image size)"
    if isinstance(value, bool):
        return "on" if value else "off"
    if name == "early_stopping" and value == 0:
        return "off"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _default_help(name: str) -> str:
    """"default: images 40, cnn 15, csv classification 300, ..." for an option of :data:`DEFAULTS`."""
    short = {"images": "images", "images, --model cnn": "cnn", "csv classification": "csv classification",
             "csv regression": "csv regression"}
    parts = [f"{short[k]} {_show(DEFAULTS[k][name], name)}" for k in DEFAULTS]
    return "default: " + ", ".join(parts)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _nonneg_int(text: str) -> int:
    try:
        value = int(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def _nonneg_float(text: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value


def _fraction(text: str) -> float:
    value = _nonneg_float(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text!r}")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def _bool(text: str | bool) -> bool:
    if isinstance(text, bool):
        return text
    low = str(text).lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _choice(*names: str) -> Any:
    def convert(text: str) -> str:
        low = str(text).lower()
        if low not in names:
            raise argparse.ArgumentTypeError(f"expected one of {', '.join(names)}, got {text!r}")
        return low
    return convert


def _columns(text: str) -> list[str]:
    names = [c.strip() for c in str(text).split(",") if c.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected column names separated by commas, got {text!r}")
    return names


#: option -> (type converter, metavar, help). Flags are --option-with-dashes.
OPTIONS: dict[str, tuple[Any, str, str]] = {
    "dataset": (str, "NAME", "digits (default, bundled), mnist, fashion-mnist or csv:PATH"),
    "target": (str, "COL", "for csv: the column to predict"),
    "task": (_choice("classification", "regression"), "TASK",
             "for csv: classification or regression (default: inferred from the target: "
             "text or a few whole numbers are classes, decimals or many whole numbers a quantity)"),
    "model": (str, "KIND", "mlp (default) or cnn"),
    "layers": (str, "SPEC", "hidden layers, e.g. 256,128 or conv32x3,maxpool2,128 (" + _default_help("layers") + ")"),
    "activation": (str, "NAME", "relu (default), leaky_relu, tanh, sigmoid or identity"),
    "loss": (str, "NAME", "cross_entropy (softmax + log-likelihood; the classification default), mse (the "
                          "regression default), quadratic (Nielsen's), bce, cross_entropy_cost (Nielsen's); "
                          "on classes mse, quadratic, bce and cross_entropy_cost compare the outputs with "
                          "one-hot targets"),
    "output_activation": (_choice("none", "sigmoid", "softmax"), "NAME",
                          "for --loss mse or quadratic on classes: the output layer's activation "
                          "(default sigmoid, as Nielsen's chapter 1; softmax; none)"),
    "optimizer": (str, "NAME", "adam (default), adamw, sgd, rmsprop or adagrad"),
    "lr": (_positive_float, "RATE", "learning rate (" + _default_help("lr") + ")"),
    "momentum": (_nonneg_float, "MU", "momentum for --optimizer sgd (default 0.9)"),
    "epochs": (_positive_int, "N", "passes over the training data (" + _default_help("epochs") + ")"),
    "batch_size": (_positive_int, "N", "samples per gradient step (" + _default_help("batch_size") + ")"),
    "dropout": (_fraction, "P", "dropout probability after each hidden layer (" + _default_help("dropout") + ")"),
    "l1": (_nonneg_float, "L1", "L1 penalty l1*sum|w| added to the loss (default 0)"),
    "l2": (_nonneg_float, "L2", "L2 penalty (l2/2)*sum w^2 added to the loss (" + _default_help("l2") + ")"),
    "early_stopping": (_nonneg_int, "PATIENCE",
                       "stop after this many epochs without a better val_loss and keep the best weights "
                       "(0: off; " + _default_help("early_stopping") + ")"),
    "seed": (_int, "N", "seed of the weights, the validation split, shuffling and dropout (default 0)"),
    "validation_split": (_fraction, "F", "fraction of the training rows held out for validation "
                                         "(" + _default_help("validation_split") + ")"),
    "standardize": (_bool, "BOOL", "standardise the features (z = (x - mean)/std, saved in the model "
                                   "file; " + _default_help("standardize") + ")"),
    "grad_stats": (_bool, "BOOL", "record each layer's gradient norm per epoch (shown in the report)"),
    "data_dir": (str, "DIR", "folder with the MNIST/Fashion-MNIST IDX files (default: axon's cache)"),
    "delimiter": (str, "CHAR", "for csv: the field separator (default ','; e.g. ';')"),
    "drop": (_columns, "COLS", "for csv: columns to leave out of the features, e.g. --drop name,notes"),
    "threads": (_nonneg_int, "N", "BLAS threads for training (default 1: the products of these networks are "
                                  "small, and a second thread costs more than it gives on a busy machine; "
                                  "0: the library's default)"),
    "device": (_choice("cpu", "cuda", "gpu"), "DEVICE",
               "cpu (default) or cuda: train on an NVIDIA GPU through CuPy (pip install -e \".[gpu]\"); "
               "the model file is the same either way"),
}


def read_config_file(path: str) -> dict[str, Any]:
    """Read ``--config FILE.toml``: flat ``key = value`` lines (a ``[train]`` table is also accepted)."""
    import tomllib

    p = Path(path)
    if not p.is_file():
        raise ValueError(f"--config: no such file {path!r}")
    try:
        with open(p, "rb") as f:
            raw = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"--config {path}: not valid TOML ({e})") from None
    if isinstance(raw.get("train"), dict):
        raw = {**{k: v for k, v in raw.items() if k != "train"}, **raw["train"]}
    return convert_options(raw, where=f"--config {path}: ")


def convert_options(raw: dict[str, Any], where: str = "") -> dict[str, Any]:
    """Option values as a config file or a page gives them (strings, numbers, booleans, lists for
    ``layers`` and ``drop``) converted and checked as the command line's flags are; keys may be
    spelled with ``-`` or ``_``. Raises ValueError naming the option (prefixed by ``where``)."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = str(key).replace("-", "_")
        if name not in OPTIONS:
            raise ValueError(f"{where}unknown option {key!r}; the options are {', '.join(OPTIONS)}")
        convert = OPTIONS[name][0]
        if name in ("layers", "drop") and isinstance(value, list):
            value = ",".join(str(v) for v in value)
        try:
            out[name] = convert(value) if convert is _bool else convert(str(value))
        except argparse.ArgumentTypeError as e:
            raise ValueError(f"{where}{key}: {e}") from None
    return out


def add_train_options(parser: argparse.ArgumentParser) -> None:
    """Add every option of :data:`OPTIONS` as a flag whose default is None (= not given)."""
    for name, (convert, metavar, text) in OPTIONS.items():
        flag = "--" + name.replace("_", "-")
        if convert is _bool:
            parser.add_argument(flag, nargs="?", const=True, type=_bool, default=None, metavar=metavar,
                                help=text)
        else:
            parser.add_argument(flag, type=convert, default=None, metavar=metavar, help=text)


def given(args: argparse.Namespace) -> dict[str, Any]:
    """The options given on the command line (those not None)."""
    return {k: getattr(args, k) for k in OPTIONS if getattr(args, k, None) is not None}
