"""The data a run is evaluated or resumed on: another CSV file read as the run read its own, a run
folder written before run.json had "started", and the checks made before a data set loads."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import axon as ax
from axon.cli.main import main

CLASSES = ("a", "b", "c")


def _write(path: Path, X: np.ndarray, labels, *, delimiter: str = ",", notes: bool = False) -> Path:
    head = ["x0", "x1", *(["notes"] if notes else []), "label"]
    rows = [delimiter.join(head)]
    for i, (x, label) in enumerate(zip(X, labels)):
        rows.append(delimiter.join([f"{x[0]:.6f}", f"{x[1]:.6f}", *([str(i % 7)] if notes else []), str(label)]))
    path.write_text("\n".join(rows) + "\n")
    return path


def _blobs(n: int, classes, seed: int) -> tuple[np.ndarray, list]:
    """Three well separated clusters (class k around (3k, -3k)), ``n`` rows, labels from ``classes``."""
    rng = np.random.default_rng(seed)
    k = np.arange(n) % len(classes)
    X = np.c_[3.0 * k, -3.0 * k] + rng.normal(scale=0.4, size=(n, 2))
    return X, [classes[i] for i in k]


def _accuracy(out: str) -> float:
    return float(re.search(r"accuracy: ([0-9.]+)", out).group(1))


def _by_hand(run: Path, X: np.ndarray, labels, classes) -> float:
    pred = ax.load(run / "model.axon").predict(X.astype(np.float32)).argmax(axis=1)
    return float(np.mean(pred == np.array([classes.index(label) for label in labels])))


@pytest.fixture(scope="module")
def abc_run(tmp_path_factory) -> Path:
    """A run trained on a CSV file with the text classes a, b, c."""
    d = tmp_path_factory.mktemp("abc")
    X, labels = _blobs(150, CLASSES, seed=0)
    _write(d / "train.csv", X, labels)
    out = d / "run"
    assert main(["train", "--dataset", f"csv:{d / 'train.csv'}", "--target", "label", "--layers", "8",
                 "--epochs", "30", "--lr", "0.03", "--quiet", "--out", str(out)]) == 0
    assert json.loads((out / "run.json").read_text())["class_names"] == list(CLASSES)
    return out


def test_evaluate_on_a_csv_without_the_first_class_keeps_the_runs_numbering(abc_run, tmp_path, capsys):
    X, labels = _blobs(40, ("b", "c"), seed=1)
    X[:, 0] += 3.0  # where the run learnt b and c: (3, -3) and (6, -6)
    X[:, 1] -= 3.0
    path = _write(tmp_path / "bc.csv", X, labels)
    truth = _by_hand(abc_run, X, labels, list(CLASSES))
    assert truth > 0.9  # the model knows b and c; read as 0 and 1 (a and b) it would score about 0
    capsys.readouterr()
    assert main(["evaluate", str(abc_run), "--dataset", f"csv:{path}"]) == 0
    assert _accuracy(capsys.readouterr().out) == pytest.approx(truth, abs=1e-6)


def test_evaluate_with_a_label_the_run_does_not_know_is_exit_2(abc_run, tmp_path, capsys):
    X, _ = _blobs(6, CLASSES, seed=2)
    path = _write(tmp_path / "abd.csv", X, ["a", "b", "d", "a", "b", "c"])
    capsys.readouterr()
    assert main(["evaluate", str(abc_run), "--dataset", f"csv:{path}"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("axon: error: ")
    assert "'d'" in err and "a, b, c" in err


def test_evaluate_on_another_csv_uses_the_runs_task_delimiter_and_drop(tmp_path, capsys):
    numbers = (0, 1, 2)
    X, labels = _blobs(150, numbers, seed=0)
    train = _write(tmp_path / "train.csv", X, labels, delimiter=";", notes=True)
    out = tmp_path / "run"
    assert main(["train", "--dataset", f"csv:{train}", "--target", "label", "--delimiter", ";", "--drop", "notes",
                 "--layers", "8", "--epochs", "30", "--lr", "0.03", "--quiet", "--out", str(out)]) == 0
    # Nine rows of the classes 1 and 2: on its own such a file could read as something else.
    X2, labels2 = _blobs(9, (1, 2), seed=3)
    X2 += [3.0, -3.0]
    other = _write(tmp_path / "other.csv", X2, labels2, delimiter=";", notes=True)
    truth = _by_hand(out, X2, labels2, list(numbers))
    assert truth > 0.8
    capsys.readouterr()
    assert main(["evaluate", str(out), "--dataset", f"csv:{other}"]) == 0
    assert _accuracy(capsys.readouterr().out) == pytest.approx(truth, abs=1e-6)


def test_resume_a_run_written_before_started_existed(tmp_path, capsys):
    out = tmp_path / "old"
    assert main(["train", "--layers", "8", "--epochs", "1", "--quiet", "--out", str(out)]) == 0
    info = json.loads((out / "run.json").read_text())
    del info["started"]  # as axon wrote run.json before it had "started"
    (out / "run.json").write_text(json.dumps(info))
    (out / "report.html").unlink()
    assert main(["train", "--resume", str(out), "--epochs", "2", "--quiet"]) == 0
    assert (out / "report.html").is_file()
    assert json.loads((out / "metrics.json").read_text())["epochs_run"] == 2
    assert json.loads((out / "run.json").read_text())["started"]  # now it has one


@pytest.mark.parametrize("flag, value, needle", [("--model", "rnn", "--model"),
                                                 ("--activation", "swish", "--activation")])
def test_a_bad_choice_is_reported_before_the_data_loads(flag, value, needle, tmp_path, capsys, monkeypatch):
    from axon import datasets

    def no_mnist(*args, **kwargs):
        raise ValueError("MNIST is not in the empty folder and there is no network")

    monkeypatch.setattr(datasets, "load_mnist", no_mnist)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    assert main(["train", "--dataset", "mnist", "--data-dir", str(tmp_path / "empty"), flag, value]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("axon: error: ") and needle in err and "MNIST" not in err
