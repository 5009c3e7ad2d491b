"""How the defaults of `axon train` for CSV tables were chosen: candidates on several tables, side by side.

    python -m bench.defaults [--seeds 3] [--out bench/DEFAULTS.md]

Tables (all made here, offline): iris, wine and breast cancer (scikit-learn's bundled copies), the
bundled digits as a 784-column CSV (each 8×8 image enlarged 4× and cropped to 28×28, as MNIST-sized
rows), the course's COVID-19 homework (../shared, when present) and the diabetes table (an integer
target, 25-346). Each candidate trains through `axon train` itself (the CLI's code path) with
`--seed s` for s in 0..seeds-1; the figure is the validation accuracy (classification) or the
validation MSE relative to linear least squares on the same split (regression, < 1 beats it).
The digits CSV is also trained as `axon train` trains the bundled digits images (its own defaults)
from Python, the comparison of issue 19.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import io
import json
import os
import statistics
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
COVID = REPO.parent / "shared" / "data" / "covid19-hw1" / "covid.train.csv"

CLASSIFICATION = {
    "64, l2 1e-3, lr 1e-3": ["--layers", "64", "--l2", "1e-3", "--lr", "1e-3", "--batch-size", "32"],
    "64, l2 1e-4, lr 3e-3": ["--layers", "64", "--l2", "1e-4", "--lr", "3e-3", "--batch-size", "32"],
    "128,64, l2 1e-3, lr 1e-3": ["--layers", "128,64", "--l2", "1e-3", "--lr", "1e-3", "--batch-size", "32"],
    "256,128, dropout 0.2, lr 3e-3, batch 64": ["--layers", "256,128", "--dropout", "0.2", "--l2", "0",
                                                "--lr", "3e-3", "--batch-size", "64"],
}
REGRESSION = {
    "64, l2 1e-3, lr 1e-3": ["--layers", "64", "--l2", "1e-3", "--lr", "1e-3", "--batch-size", "64"],
    "64, l2 1e-2, lr 1e-3": ["--layers", "64", "--l2", "1e-2", "--lr", "1e-3", "--batch-size", "64"],
    "32, l2 1e-2, lr 3e-3": ["--layers", "32", "--l2", "1e-2", "--lr", "3e-3", "--batch-size", "32"],
    "128,64, dropout 0.1, l2 1e-3": ["--layers", "128,64", "--dropout", "0.1", "--l2", "1e-3",
                                     "--lr", "1e-3", "--batch-size", "64"],
}
COMMON = ["--epochs", "300", "--early-stopping", "20", "--validation-split", "0.2", "--quiet"]


def _write(path: Path, names: list[str], X: np.ndarray, y: np.ndarray, fmt: str = "{:g}") -> None:
    with open(path, "w") as f:
        f.write(",".join(names) + "\n")
        for row, t in zip(X, y):
            f.write(",".join(f"{v:g}" for v in row) + "," + fmt.format(t) + "\n")


def make_tables(folder: Path) -> dict[str, tuple[Path, str]]:
    """name -> (CSV path, target column)."""
    from sklearn import datasets as skd

    import axon as ax

    tables = {}
    for name, load in (("iris", skd.load_iris), ("wine", skd.load_wine), ("breast_cancer", skd.load_breast_cancer)):
        d = load()
        labels = np.array(d.target_names)[d.target]
        _write(folder / f"{name}.csv", [f"f{i}" for i in range(d.data.shape[1])] + ["class"], d.data, labels, "{}")
        tables[name] = (folder / f"{name}.csv", "class")
    (X, y), (Xt, yt) = ax.datasets.load_digits(flatten=False)
    images = np.concatenate([X, Xt])[:, 0]
    big = np.kron(images, np.ones((4, 4)))[:, 2:30, 2:30].reshape(len(images), -1)
    _write(folder / "digits784.csv", [f"px{i}" for i in range(784)] + ["label"], big, np.concatenate([y, yt]), "{:d}")
    tables["digits784"] = (folder / "digits784.csv", "label")
    d = skd.load_diabetes(scaled=False)
    _write(folder / "diabetes.csv", list(d.feature_names) + ["progression"], d.data, d.target.astype(int), "{:d}")
    tables["diabetes"] = (folder / "diabetes.csv", "progression")
    if COVID.is_file():
        tables["covid"] = (COVID, "tested_positive")
    return tables


def _train(args: list[str], out: Path) -> dict:
    from axon.cli.main import main

    with contextlib.redirect_stdout(io.StringIO()):
        status = main(["train", *args, "--out", str(out)])
    assert status == 0, args
    return json.loads((out / "metrics.json").read_text())


def figure(metrics: dict) -> float:
    """Validation accuracy, or validation MSE / least-squares MSE."""
    if metrics["task"] == "classification":
        return metrics["val"]["accuracy"]
    return metrics["val"]["mse"] / metrics["baseline"]["lstsq_val_mse"]


def python_digits784(path: Path, seed: int) -> float:
    """The digits CSV trained from Python as `axon train` trains images (256-128, dropout 0.2, Adam 3e-3,
    batch 64, 40 epochs), on the same split as the CLI's."""
    import axon as ax
    from axon.architectures import build_model
    from axon.cli.data import split_indices

    data = ax.datasets.load_csv(path, target="label")
    tr, va = split_indices(len(data.X), 0.2, seed)
    X, y = data.X / 16, data.y.astype(np.int64)
    ax.set_seed(seed)
    model = build_model("256,128", (784,), 10, dropout=0.2)
    model.compile("cross_entropy", ax.optim.Adam(lr=3e-3), metrics=["accuracy"])
    model.fit(X[tr], y[tr], epochs=40, batch_size=64, seed=seed, verbose=0)
    return model.evaluate(X[va], y[va])["accuracy"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", default=str(REPO / "bench" / "DEFAULTS.md"))
    args = parser.parse_args()
    from bench.common import cpu_model

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        tables = make_tables(folder)
        machine = f"{cpu_model()}, {os.cpu_count()} cores, {datetime.date.today().isoformat()}"
        lines = [f"# CSV defaults of `axon train`: candidates side by side ({machine}; accuracy, not time)", "",
                 "Validation accuracy (classification) or validation MSE / least-squares MSE (regression), "
                 f"mean over seeds 0-{args.seeds - 1} (each seed also draws the split); "
                 + " ".join(COMMON), ""]
        for task, candidates in (("classification", CLASSIFICATION), ("regression", REGRESSION)):
            names = [n for n in tables if (n in ("diabetes", "covid")) == (task == "regression")]
            lines += [f"## {task}", "", "| candidate | " + " | ".join(names) + " |",
                      "|---" * (len(names) + 1) + "|"]
            for label, options in candidates.items():
                cells = []
                for name in names:
                    path, target = tables[name]
                    values = [figure(_train(["--dataset", f"csv:{path}", "--target", target, "--seed", str(s),
                                             *COMMON, *options], folder / f"{name}-{label}-{s}".replace(" ", "_")
                                            .replace(",", "")))
                              for s in range(args.seeds)]
                    cells.append(f"{statistics.mean(values):.3f} ({min(values):.3f}-{max(values):.3f})")
                lines.append(f"| {label} | " + " | ".join(cells) + " |")
                print(lines[-1], flush=True)
            lines.append("")
        py = [python_digits784(tables["digits784"][0], s) for s in range(args.seeds)]
        lines += ["## The digits CSV from Python", "",
                  f"256-128, dropout 0.2, Adam 3e-3, batch 64, 40 epochs, pixels / 16, the CLI's split: "
                  f"validation accuracy {statistics.mean(py):.3f} ({min(py):.3f}-{max(py):.3f})", ""]
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
