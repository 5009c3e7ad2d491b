"""The main job as users meet it (issue 19): the right task and loss, honest run folders, Keras and
PyTorch habits, and the small things that used to go wrong."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import axon as ax
from axon.callbacks import CSVLogger
from axon.cli.main import main

REPO = Path(__file__).resolve().parents[1]


def _table(path: Path, header: list[str], rows, sep: str = ",") -> Path:
    path.write_text(sep.join(header) + "\n" + "\n".join(sep.join(str(v) for v in r) for r in rows) + "\n")
    return path


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tables")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    score = np.round(150 + 60 * X[:, 0] - 30 * X[:, 1]).astype(int)  # 200+ distinct whole numbers
    labels = (X[:, 0] + X[:, 2] > 0).astype(int)
    return {
        "int_regression": _table(folder / "diab.csv", ["a", "b", "c", "progression"],
                                 [[*np.round(x, 4), s] for x, s in zip(X, score)]),
        "float_written": _table(folder / "floats.csv", ["a", "b", "c", "y"],
                                [[*np.round(x, 4), f"{s}.0"] for x, s in zip(X, labels)]),
        "classes": _table(folder / "classes.csv", ["a", "b", "c", "label"],
                          [[*np.round(x, 4), s] for x, s in zip(X, labels)]),
        "semicolon": _table(folder / "semi.csv", ["a", "b", "c", "label"],
                            [[*np.round(x, 4), s] for x, s in zip(X, labels)], sep=";"),
        "with_text": _table(folder / "text.csv", ["a", "name", "b", "c", "label"],
                            [[x[0], f"row{i}", x[1], x[2], s] for i, (x, s) in enumerate(zip(X, labels))]),
    }


def _run_json(out: Path) -> dict:
    return json.loads((out / "run.json").read_text())


# -- 1. task and loss --------------------------------------------------------------------------------
def test_an_integer_target_with_many_values_trains_a_regressor_and_says_so(tables, tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["train", "--dataset", f"csv:{tables['int_regression']}", "--target", "progression",
                 "--epochs", "5", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "regression (inferred: column 'progression' holds" in text and "too many to be classes" in text
    info = _run_json(out)
    assert info["task"] == "regression" and "distinct whole numbers" in info["task_reason"]
    model = ax.load(out / "model.axon")
    assert model.layers[-1].out_features == 1  # one output, not a 200-class softmax


def test_a_few_whole_numbers_are_classes_and_task_overrides(tables, tmp_path, capsys):
    assert main(["train", "--dataset", f"csv:{tables['classes']}", "--target", "label", "--epochs", "3",
                 "--quiet", "--out", str(tmp_path / "c")]) == 0
    assert _run_json(tmp_path / "c")["task"] == "classification"
    assert main(["train", "--dataset", f"csv:{tables['classes']}", "--target", "label", "--task", "regression",
                 "--epochs", "3", "--quiet", "--out", str(tmp_path / "r")]) == 0
    info = _run_json(tmp_path / "r")
    assert info["task"] == "regression" and info["task_reason"] == "given with --task"


def test_values_written_as_decimals_are_a_quantity(tables, tmp_path):
    data = ax.datasets.load_csv(tables["float_written"], target="y")
    assert data.target_is_integral and data.task == "regression"
    assert ax.datasets.infer_task(ax.datasets.load_csv(tables["classes"], target="label"))[0] == "classification"


@pytest.mark.parametrize("loss, output", [("quadratic", "sigmoid"), ("mse", "softmax"), ("bce", None),
                                          ("cross_entropy_cost", None),
                                          ("mse", "none")])
def test_every_listed_loss_trains_a_classifier(loss, output, tmp_path, capsys):
    """Nielsen's chapter 1: sigmoid outputs and the quadratic cost on one-hot targets."""
    out = tmp_path / "run"
    argv = ["train", "--loss", loss, "--epochs", "8", "--layers", "64", "--quiet", "--out", str(out)]
    if output:
        argv += ["--output-activation", output]
    assert main(argv) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] > 0.8, metrics
    model = ax.load(out / "model.axon")
    last = type(model.layers[-1]).__name__
    assert last == {"sigmoid": "Sigmoid", "softmax": "Softmax", None: "Dense", "none": "Dense"}[output]
    assert main(["evaluate", str(out / "model.axon"), "--dataset", "digits"]) == 0


@pytest.mark.parametrize("argv, needle", [
    (["--loss", "cross_entropy", "--task", "regression"], "cross-entropy compares class probabilities"),
    (["--loss", "cross_entropy", "--output-activation", "sigmoid"], "applies its own link"),
])
def test_combinations_that_make_no_sense_are_one_clear_error(tables, argv, needle, tmp_path, capsys):
    status = main(["train", "--dataset", f"csv:{tables['classes']}", "--target", "label", *argv,
                   "--out", str(tmp_path / "x")])
    assert status == 2 and needle in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


# -- 2. run folders tell the truth -----------------------------------------------------------------
class _TickingClock:
    """``time`` for the training loop with a perf_counter that advances exactly 1 s per call: the
    run's recorded seconds are then a count of the loop's clock readings, not a measurement."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        self.now += 1.0
        return self.now

    def __getattr__(self, name):
        return getattr(time, name)


def test_resume_never_shrinks_the_run_and_time_accumulates(tmp_path, capsys, monkeypatch):
    import axon.training
    monkeypatch.setattr(axon.training, "time", _TickingClock())
    out = tmp_path / "run"
    assert main(["train", "--epochs", "3", "--quiet", "--out", str(out)]) == 0
    first = json.loads((out / "metrics.json").read_text())
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert main(["train", "--resume", str(out), "--epochs", "3"]) == 2
    assert "has done 3 epochs" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # nothing rewritten
    assert main(["train", "--resume", str(out), "--epochs", "5", "--quiet"]) == 0
    after = json.loads((out / "metrics.json").read_text())
    assert after["epochs_run"] == 5 and len(CSVLogger.read(out / "history.csv")["loss"]) == 5
    # the resumed part is added to the first part's seconds (3 epochs' readings), not put in their place
    # (2 epochs' readings alone would be fewer)
    assert after["train_seconds"] > first["train_seconds"] > 0


def test_a_diverged_run_keeps_its_history_metrics_and_report(tmp_path, capsys):
    out = tmp_path / "r"
    status = main(["train", "--layers", "64,64", "--epochs", "3", "--lr", "1e9", "--optimizer", "sgd",
                   "--momentum", "0", "--quiet", "--out", str(out)])
    assert status == 2 and "diverged" in capsys.readouterr().err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["status"] == "diverged" and "diverged" in metrics["note"]
    assert (out / "history.csv").is_file() and "diverged" in (out / "report.html").read_text().lower()


def test_an_interrupted_run_has_history_metrics_model_and_report(tmp_path, capsys, monkeypatch):
    class Stop(ax.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.loop.interrupt()

    fit = ax.Sequential.fit

    def fit_with_stop(self, *args, callbacks=None, **kwargs):
        return fit(self, *args, callbacks=[*(callbacks or []), Stop()], **kwargs)

    monkeypatch.setattr(ax.Sequential, "fit", fit_with_stop)
    out = tmp_path / "r"
    assert main(["train", "--epochs", "10", "--quiet", "--out", str(out)]) == 130
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["status"] == "interrupted" and metrics["epochs_run"] == 2
    assert len(CSVLogger.read(out / "history.csv")["loss"]) == 2
    assert (out / "model.axon").is_file() and "interrupted" in (out / "report.html").read_text().lower()
    assert f"axon train --resume {out}" in capsys.readouterr().err


def test_a_closed_stdout_never_loses_the_model(tmp_path):
    out = tmp_path / "piped"
    proc = subprocess.Popen([sys.executable, "-m", "axon.cli.main", "train", "--epochs", "3", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    assert proc.stdout is not None
    proc.stdout.readline()
    proc.stdout.close()  # `axon train | head -1`
    proc.wait(timeout=300)
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    assert (out / "model.axon").is_file() and (out / "report.html").is_file()


# -- 3. defaults: one table ------------------------------------------------------------------------
def test_docs_show_the_defaults_table_the_code_reads():
    from axon.cli import config

    assert config.defaults_table() in (REPO / "docs" / "cli.md").read_text()
    assert config.defaults_for("csv:x.csv", "classification")["epochs"] == config.DEFAULTS["csv classification"]["epochs"]
    text = config.OPTIONS["epochs"][2]
    assert all(f"{config.DEFAULTS[k]['epochs']}" in text for k in config.DEFAULTS)


# -- 5. Keras and PyTorch habits ---------------------------------------------------------------------
@pytest.fixture()
def trained():
    ax.set_seed(0)
    (X, y), _ = ax.datasets.load_digits()
    model = ax.Sequential(ax.Dense(64, 16), ax.ReLU())
    model.add(ax.Dropout(0.1)).add(ax.Dense(16, 10))
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(X[:300], y[:300], epochs=2, verbose=0)
    return model, X[:100], y[:100]


def test_keras_habits(trained, tmp_path, capsys):
    model, X, y = trained
    assert [layer.name for layer in model] == ["dense_1", "relu_1", "dropout_1", "dense_2"]
    assert model.count_params() == 64 * 16 + 16 + 16 * 10 + 10
    model.save(tmp_path / "m.axon")
    again = ax.load_model(tmp_path / "m.axon")
    np.testing.assert_array_equal(again.predict(X), model.predict(X))
    capsys.readouterr()
    figures = model.evaluate(X, y, verbose=1)
    assert "accuracy" in capsys.readouterr().out and set(figures) == {"loss", "accuracy"}
    assert model.evaluate(X, y, verbose=0) == figures
    assert model.predict(X, verbose=0).shape == (100, 10)
    for method, names in (("fit", {"epochs", "batch_size", "validation_data", "callbacks", "seed"}),
                          ("evaluate", {"batch_size", "verbose"}), ("predict", {"batch_size", "verbose"})):
        assert names <= set(inspect.signature(getattr(ax.Sequential, method)).parameters), method
        assert len(getattr(ax.Sequential, method).__doc__) > 200, method


def test_pytorch_habits(trained):
    model, X, _ = trained
    assert model.eval() is model and not model.training
    np.testing.assert_array_equal(model(X), model(X))  # inference: dropout off
    model.train()
    assert not np.array_equal(model(X), model(X))  # training mode: dropout on
    model.eval()
    state = model.state_dict()
    assert list(state) == ["dense_1.weight", "dense_1.bias", "dense_2.weight", "dense_2.bias"]
    before = model.predict(X)
    for p in model.parameters():
        p.data += 1.0
    model.load_state_dict(state)
    np.testing.assert_array_equal(model.predict(X), before)
    with pytest.raises(ValueError, match="missing keys"):
        model.load_state_dict({"dense_1.weight": state["dense_1.weight"]})
    with pytest.raises(ValueError, match="shape"):
        model.load_state_dict({**state, "dense_2.bias": np.zeros(3)})
    np.testing.assert_array_equal(model.predict(X), before)  # a refused state changes nothing


def test_a_softmax_before_a_loss_that_applies_it_is_refused():
    model = ax.Sequential(ax.Dense(4, 3), ax.Softmax())
    with pytest.raises(ValueError, match="takes logits"):
        model.compile("categorical_crossentropy")
    with pytest.raises(ValueError, match="from_logits=False"):
        ax.Sequential(ax.Dense(4, 1), ax.Sigmoid()).compile("bce")
    ax.Sequential(ax.Dense(4, 1), ax.Sigmoid()).compile(ax.losses.BinaryCrossEntropy(from_logits=False))


# -- 10. the smaller items ---------------------------------------------------------------------------
def test_abbreviated_options_are_refused(capsys):
    assert main(["train", "--epoch", "5"]) == 2
    assert "unrecognized arguments: --epoch" in capsys.readouterr().err


def test_delimiter_and_drop(tables, tmp_path, capsys):
    assert main(["train", "--dataset", f"csv:{tables['semicolon']}", "--target", "label", "--quiet",
                 "--out", str(tmp_path / "x")]) == 2
    assert "--delimiter ';'" in capsys.readouterr().err
    assert main(["train", "--dataset", f"csv:{tables['semicolon']}", "--target", "label", "--delimiter", ";",
                 "--epochs", "2", "--quiet", "--out", str(tmp_path / "s")]) == 0
    assert main(["train", "--dataset", f"csv:{tables['with_text']}", "--target", "label", "--quiet",
                 "--out", str(tmp_path / "y")]) == 2
    assert "--drop name" in capsys.readouterr().err
    assert main(["train", "--dataset", f"csv:{tables['with_text']}", "--target", "label", "--drop", "name",
                 "--epochs", "2", "--quiet", "--out", str(tmp_path / "t")]) == 0
    assert _run_json(tmp_path / "t")["feature_names"] == ["a", "b", "c"]


def test_evaluate_works_from_another_folder(tables, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tables["classes"].parent)
    assert main(["train", "--dataset", "csv:classes.csv", "--target", "label", "--epochs", "2", "--quiet",
                 "--out", str(tmp_path / "run")]) == 0
    assert Path(_run_json(tmp_path / "run")["dataset"][4:]).is_absolute()
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "run" / "model.axon")]) == 0
    assert "accuracy" in capsys.readouterr().out


def test_conv_layers_on_a_table_are_refused(tables, tmp_path, capsys):
    assert main(["train", "--dataset", f"csv:{tables['classes']}", "--target", "label", "--layers", "conv8x3",
                 "--out", str(tmp_path / "x")]) == 2
    assert "conv and pool layers need images" in capsys.readouterr().err


def test_the_distribution_is_axon_nn():
    import tomllib
    from importlib.metadata import version

    assert tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["name"] == "axon-nn"
    assert version("axon-nn") == ax.__version__
