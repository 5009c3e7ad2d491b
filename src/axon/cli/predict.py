"""``axon evaluate MODEL --dataset ...`` and ``axon predict MODEL INPUT [--out FILE]``."""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

import numpy as np

from axon.cli import common
from axon.validation import n_outputs

EVALUATE_EPILOG = """\
examples:
  axon evaluate runs/digits-20250101-120000/model.axon              # the run's data set, test split
  axon evaluate model.axon --dataset digits
  axon evaluate model.axon --dataset mnist --data-dir ~/data/mnist
  axon evaluate model.axon --dataset csv:covid.train.csv --target tested_positive
  axon evaluate model.axon --split val                                # the run's validation rows
"""

PREDICT_EPILOG = """\
examples:
  axon predict runs/covid/model.axon covid.test.csv --out pred.csv   # id,tested_positive
  axon predict model.axon images.npy --out probs.npy                 # an array (n, ...) in, outputs out
  axon predict model.axon rows.csv                                   # CSV to stdout
  axon predict runs/digits-20250101-120000 my_digit.png              # your own picture of a digit
  axon predict runs/mnist-20250101-120000 photos/ --out digits.csv   # every PNG/JPEG in a folder

INPUT is a CSV file with a header (the model's feature columns; an "id" column is copied to the
output) or a .npy array. For a CSV the output has the columns id,<target> (the target's name from
run.json next to the model), holding the predicted value (regression) or class (classification);
--proba adds one column per class. A .npy output holds model.predict's array (probabilities for
classifiers).

INPUT may also be a PNG or JPEG picture of one digit, or a folder of them, for a model trained on
the digits, MNIST or Fashion-MNIST: each is made grey, inverted when its background is light,
cropped to the ink, resized and centred as that data set's images were made (MNIST: a 20x20 box
in 28x28, centred by the centre of mass; the bundled digits: 32x32 counted in 4x4 blocks, 8x8),
and one line per picture gives the class and the --top most likely classes. --out FILE.csv writes
file,label (with --proba: a probability column per class).
"""


def add_evaluate_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``axon evaluate MODEL [--dataset D] [--split S]``."""
    p = sub.add_parser("evaluate", help="loss and metrics of a model file on a data set",
                       description="Evaluate a saved model: loss and metrics on a data set.",
                       epilog=EVALUATE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", metavar="MODEL", help="a model file (model.axon) or a run folder")
    p.add_argument("--dataset", metavar="NAME", help="digits, mnist, fashion-mnist or csv:PATH "
                                                     "(default: the run's data set)")
    p.add_argument("--target", metavar="COL", help="for csv: the target column (default: the run's)")
    p.add_argument("--split", choices=("test", "val", "train", "all"), default="test",
                   help="which rows: test (default; the whole file for csv), val, train, all")
    p.add_argument("--data-dir", metavar="DIR", help="folder with MNIST-style IDX files")
    p.add_argument("--batch-size", type=int, default=256, metavar="N")
    p.set_defaults(func=run_evaluate)


def add_predict_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``axon predict MODEL INPUT [--out FILE] [--proba]``."""
    p = sub.add_parser("predict", help="predictions of a model file for a CSV or .npy input",
                       description="Predict with a saved model; write a CSV (id,<target>) or a .npy array.",
                       epilog=PREDICT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", metavar="MODEL", help="a model file (model.axon) or a run folder")
    p.add_argument("input", metavar="INPUT", help="a CSV file with a header, a .npy array, or a PNG/JPEG "
                                                  "picture of a digit or a folder of them")
    p.add_argument("--out", metavar="FILE", help="where to write (.csv or .npy); default: CSV to stdout")
    p.add_argument("--target-name", metavar="NAME", help="the output column's name "
                                                         "(default: the target of the run, else 'prediction')")
    p.add_argument("--proba", action="store_true", help="classification: add a probability column per class")
    p.add_argument("--top", type=int, default=3, metavar="K", help="pictures: how many classes to show "
                                                                   "with their probabilities (default 3)")
    p.add_argument("--batch-size", type=int, default=256, metavar="N")
    p.set_defaults(func=run_predict)


def run_evaluate(args: argparse.Namespace) -> int:
    """Print the loss and metrics of a model file on a data set; returns the exit status."""
    from axon import runs

    model, path = common.load_model(args.model)
    info = runs.find_run_info(path)
    X, y, data = common.dataset_for_model(args.dataset, model, info, args.target, args.data_dir, args.split)
    if X is None or len(X) == 0:
        raise ValueError(f"--split {args.split}: the data set has no such rows")
    common.ensure_compiled(model, data.task)
    if data.task == "classification":
        out = n_outputs(model)
        if out is not None and out > 1 and int(np.max(y)) >= out:
            raise ValueError(f"labels out of range: the data has label {int(np.max(y))} but the model has "
                             f"{out} outputs (classes 0..{out - 1}); evaluate on the data set it was trained on")
    figures = model.evaluate(X, y, batch_size=args.batch_size)
    rows = "all rows" if data.name.startswith("csv:") and args.split == "test" else args.split
    print(f"{path} on {data.name} ({rows}, {len(X)} samples; loss includes the L1/L2 penalties)")
    for k, v in figures.items():
        print(f"{k}: {v:.6g}")
    if data.task == "regression":
        pred = model.predict(X, batch_size=args.batch_size).reshape(len(X), -1)[:, 0]
        err = pred.astype(np.float64) - y
        print(f"mse: {np.mean(err ** 2):.6g}")
    return 0


def _read_input(path: Path, feature_names: list[str] | None):
    """(X, ids, names) from a .npy or CSV file."""
    if not path.exists():
        raise ValueError(f"INPUT: no such file {str(path)!r}")
    if path.suffix.lower() == ".npy":
        try:
            X = np.load(path, allow_pickle=False)
        except ValueError as e:
            raise ValueError(f"INPUT {path}: not a numeric .npy array ({e})") from None
        if X.ndim < 2 and X.size:
            X = X.reshape(1, -1) if X.ndim == 1 else X
        if X.dtype.kind not in "biuf":
            raise ValueError(f"INPUT {path}: the array holds {X.dtype}, not numbers")
        if not np.all(np.isfinite(X)):
            raise ValueError(f"INPUT {path}: the array holds NaN or infinite values; clean the data first")
        return X, None
    from axon.datasets import load_csv

    if feature_names:
        try:
            data = load_csv(path, target=None, features=feature_names)
        except ValueError as e:
            if "no column" not in str(e):
                raise
            data = load_csv(path, target=None)  # other names: fall back to the column count check
    else:
        data = load_csv(path, target=None)
    return data.X, data.ids


def run_predict(args: argparse.Namespace) -> int:
    """Write predictions for a CSV (``id,<target>``), a ``.npy`` input or pictures; returns the exit status."""
    from axon import runs
    from axon.datasets import images

    model, path = common.load_model(args.model)
    info = runs.find_run_info(path) or {}
    if images.is_image_input(args.input):
        return _predict_images(args, model, info)
    X, ids = _read_input(Path(args.input), info.get("feature_names"))
    X = common.conform(X, model, f"INPUT {args.input}")
    out = model.predict(X, batch_size=args.batch_size)
    task = common.task_of(model, info)
    if args.out and Path(args.out).suffix.lower() == ".npy":
        np.save(args.out, out)
        print(f"wrote {out.shape} predictions to {args.out}", file=sys.stderr)
        return 0
    name = args.target_name or info.get("target_name") or "prediction"
    if info.get("dataset") in ("digits", "mnist", "fashion-mnist"):
        name = args.target_name or "label"
    ids = np.arange(len(X)) if ids is None else ids
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if task == "classification":
        classes = info.get("class_names") or [str(k) for k in range(out.shape[1])]
        header = ["id", name] + ([f"p_{c}" for c in classes] if args.proba else [])
        w.writerow(header)
        labels = np.argmax(out, axis=1)
        for i, row_id in enumerate(ids):
            row = [row_id, classes[labels[i]] if labels[i] < len(classes) else int(labels[i])]
            if args.proba:
                row += [f"{p:.6g}" for p in out[i]]
            w.writerow(row)
    else:
        values = out.reshape(len(X), -1)
        cols = [name] if values.shape[1] == 1 else [f"{name}_{j}" for j in range(values.shape[1])]
        w.writerow(["id", *cols])
        for row_id, v in zip(ids, values):
            w.writerow([row_id, *(f"{x:.8g}" for x in v)])
    _write_text(buf.getvalue(), args.out, len(X))
    return 0


def _write_text(text: str, out: str | None, n: int) -> None:
    """``text`` into the file ``out`` (atomically), or to stdout when ``out`` is None."""
    if out:
        from axon.io.atomic import atomic_write_bytes

        atomic_write_bytes(out, text.encode("utf-8"))
        print(f"wrote {n} predictions to {out}", file=sys.stderr)
    else:
        sys.stdout.write(text)


def _predict_images(args: argparse.Namespace, model, info: dict) -> int:
    """``axon predict MODEL picture.png|folder``: one line per picture (class, top probabilities)."""
    from axon.datasets import images

    if common.task_of(model, info) != "classification":
        raise ValueError("a picture needs a classifier (a model trained on digits, mnist or fashion-mnist); "
                         "this model was trained for regression")
    shape = tuple(getattr(model, "input_shape", None) or ())
    if not shape:
        raise ValueError("the model file does not say its input shape; give a model written by axon train")
    style = images.style_for(int(np.prod(shape)), info.get("dataset"))
    if args.top < 1:
        raise ValueError(f"--top must be at least 1, got {args.top}")
    files, skipped = images.image_files(args.input)
    for f in skipped:
        print(f"axon: skipped {f} (not a .png, .jpg or .jpeg file)", file=sys.stderr)
    try:
        pixels = np.stack([images.load_digit_image(f, style) for f in files])
    except ImportError as e:
        raise ValueError(str(e)) from None
    X = common.conform(pixels.reshape(len(files), -1), model, f"INPUT {args.input}")
    proba = model.predict(X, batch_size=args.batch_size)
    classes = info.get("class_names") or [str(k) for k in range(proba.shape[1])]
    labels = np.argmax(proba, axis=1)
    if args.out:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["file", args.target_name or "label"] + ([f"p_{c}" for c in classes] if args.proba else []))
        for f, k, p in zip(files, labels, proba):
            w.writerow([str(f), classes[k]] + ([f"{q:.6g}" for q in p] if args.proba else []))
        _write_text(buf.getvalue(), args.out, len(files))
        return 0
    top = min(args.top, proba.shape[1])
    for f, k, p in zip(files, labels, proba):
        best = np.argsort(-p, kind="stable")[:top]
        print(f"{f}: {classes[k]}   (" + ", ".join(f"{classes[j]} {p[j]:.3f}" for j in best) + ")")
    return 0
