"""The `axon` command line: train (default run, CSV regression, resume, Ctrl-C), the other
subcommands, option precedence, run folders. Error handling is in test_cli_errors.py."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from axon import runs
from axon.callbacks import CSVLogger
from axon.cli.main import main

REPO = Path(__file__).resolve().parents[1]


def axon_cmd(*args: str, cwd: Path, timeout: float = 300, **kw) -> subprocess.CompletedProcess:
    """Run `axon ARGS` in a fresh interpreter (as the console script does)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("AXON_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "axon.cli.main", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env=env, **kw)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory) -> Path:
    """A quick digits run (in-process) that the inspecting subcommands use."""
    out = tmp_path_factory.mktemp("runs") / "small"
    assert main(["train", "--layers", "32", "--epochs", "3", "--quiet", "--out", str(out)]) == 0
    return out


# -- axon train -------------------------------------------------------------------------------------
@pytest.mark.slow
def test_train_default_reaches_97_percent_and_writes_run_folder(tmp_path):
    out = tmp_path / "run"
    r = axon_cmd("train", "--out", str(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    m = re.search(r"test accuracy: ([0-9.]+)", r.stdout)
    assert m, r.stdout[-2000:]
    assert float(m.group(1)) >= 0.97
    for name in ("model.axon", "metrics.json", "history.csv", "report.html", "run.json", "checkpoint.axon"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] >= 0.97
    history = CSVLogger.read(out / "history.csv")
    epochs = json.loads((out / "run.json").read_text())["config"]["epochs"]
    assert len(history["loss"]) == metrics["epochs_run"] == epochs
    assert history["loss"][-1] < history["loss"][0]
    assert "val_accuracy" in history
    # The saved model gives the printed figure.
    import axon as ax
    from axon.datasets import load_digits
    (_, _), (Xt, yt) = load_digits()
    acc = float(np.mean(np.argmax(ax.load(out / "model.axon").predict(Xt), axis=1) == yt))
    assert acc == pytest.approx(metrics["test"]["accuracy"])


def test_train_progress_and_summary_in_output(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["train", "--layers", "16", "--epochs", "2", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Total params" in text and "test accuracy" in text and str(out) in text
    assert "Epoch 2/2" in text


def test_threads_option_limits_blas_during_training(tmp_path, monkeypatch, capsys):
    """--threads N wraps fit in threadpoolctl's limit; 0 leaves BLAS alone."""
    import axon.cli.train as cli_train

    seen = []
    real = cli_train.blas_threads

    def spy(n):
        seen.append(n)
        return real(n)

    monkeypatch.setattr(cli_train, "blas_threads", spy)
    for n in ("3", "0"):
        assert main(["train", "--layers", "8", "--epochs", "1", "--quiet", "--threads", n,
                     "--out", str(tmp_path / n)]) == 0
    assert seen == [3, 0]
    from threadpoolctl import threadpool_info
    with real(1):
        assert all(p["num_threads"] == 1 for p in threadpool_info() if p["user_api"] == "blas")


def test_new_run_never_overwrites_an_earlier_one(tmp_path, capsys):
    out = tmp_path / "exp"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    assert main(["train", "--layers", "8", "--epochs", "1", "--quiet", "--out", str(out)]) == 0
    assert (out / "notes.txt").read_text() == "keep me"
    assert not (out / "model.axon").exists()
    assert (tmp_path / "exp-2" / "model.axon").is_file()
    assert "exp-2" in capsys.readouterr().out
    assert runs.new_run_dir(out) == tmp_path / "exp-3"


def test_default_run_name_under_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--layers", "8", "--epochs", "1", "--quiet"]) == 0
    (made,) = list((tmp_path / "runs").iterdir())
    assert made.name.startswith("digits-") and (made / "report.html").is_file()


def test_options_defaults_then_file_then_flags(tmp_path):
    cfg = tmp_path / "exp.toml"
    cfg.write_text('layers = "24"\nlr = 0.005\nepochs = 2\nbatch-size = 16\n')
    out = tmp_path / "r"
    assert main(["train", "--config", str(cfg), "--lr", "0.002", "--quiet", "--out", str(out)]) == 0
    used = json.loads((out / "run.json").read_text())["config"]
    assert used["layers"] == "24" and used["epochs"] == 2 and used["batch_size"] == 16  # file
    assert used["lr"] == 0.002  # flag beats file
    assert used["optimizer"] == "adam" and used["seed"] == 0  # defaults
    assert len(CSVLogger.read(out / "history.csv")["loss"]) == 2


def test_resume_continues_the_run(tmp_path):
    out = tmp_path / "r"
    assert main(["train", "--layers", "16", "--epochs", "2", "--quiet", "--out", str(out)]) == 0
    first = CSVLogger.read(out / "history.csv")
    assert main(["train", "--resume", str(out), "--epochs", "4", "--quiet"]) == 0
    after = CSVLogger.read(out / "history.csv")
    assert len(after["loss"]) == 4
    assert after["loss"][:2] == pytest.approx(first["loss"][:2])  # the history continues
    assert json.loads((out / "metrics.json").read_text())["epochs_run"] == 4


def test_resume_equals_uninterrupted_run(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["train", "--layers", "16", "--epochs", "3", "--quiet", "--out", str(a)]) == 0
    assert main(["train", "--layers", "16", "--epochs", "1", "--quiet", "--out", str(b)]) == 0
    assert main(["train", "--resume", str(b), "--epochs", "3", "--quiet"]) == 0
    import axon as ax
    wa = [p.data for p in ax.load(a / "model.axon").parameters()]
    wb = [p.data for p in ax.load(b / "model.axon").parameters()]
    for x, y in zip(wa, wb):
        np.testing.assert_array_equal(x, y)


def test_cnn_and_grad_stats_in_report(tmp_path):
    out = tmp_path / "cnn"
    assert main(["train", "--model", "cnn", "--layers", "conv4x3,maxpool2,16", "--epochs", "2",
                 "--grad-stats", "--quiet", "--out", str(out)]) == 0
    history = CSVLogger.read(out / "history.csv")
    assert any(k.startswith("grad_norm/") for k in history)
    assert "Gradient norms per layer" in (out / "report.html").read_text()
    import axon as ax
    assert tuple(ax.load(out / "model.axon").input_shape) == (1, 8, 8)


@pytest.mark.slow
def test_sigint_keeps_checkpoint_and_exits_130(tmp_path):
    out = tmp_path / "r"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "axon.cli.main", "train", "--epochs", "500", "--quiet",
                             "--out", str(out)], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    try:
        deadline = time.monotonic() + 120
        while not (out / "checkpoint.axon").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert (out / "checkpoint.axon").exists()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "checkpoint" in err and "--resume" in err
    assert (out / "checkpoint.axon").is_file()


# -- regression on the course's COVID-19 data -----------------------------------------------------------
@pytest.mark.slow
def test_covid_regression_beats_least_squares_and_predicts_test_file(tmp_path, covid_dir):
    out = tmp_path / "covid"
    train_csv = covid_dir / "covid.train.csv"
    r = axon_cmd("train", "--dataset", f"csv:{train_csv}", "--target", "tested_positive", "--quiet",
                 "--out", str(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "least-squares" in r.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    val_mse = metrics["val"]["mse"]

    # The baseline, computed here independently on the same split.
    from axon.cli.data import split_indices
    from axon.datasets import load_csv
    data = load_csv(train_csv, target="tested_positive")
    info = json.loads((out / "run.json").read_text())
    tr, va = split_indices(len(data.X), info["config"]["validation_split"], info["config"]["seed"])
    X = np.c_[data.X.astype(np.float64), np.ones(len(data.X))]
    w, *_ = np.linalg.lstsq(X[tr], data.y[tr].astype(np.float64), rcond=None)
    baseline = float(np.mean((X[va] @ w - data.y[va]) ** 2))
    assert metrics["baseline"]["lstsq_val_mse"] == pytest.approx(baseline, rel=1e-6)
    assert val_mse <= baseline

    # The model file predicts in the target's units (target scaling folded in) from raw features.
    import axon as ax
    model = ax.load(out / "model.axon")
    pred = model.predict(data.X[va]).reshape(-1)
    assert np.mean((pred - data.y[va]) ** 2) == pytest.approx(val_mse, rel=1e-4)

    pred_csv = tmp_path / "pred.csv"
    r = axon_cmd("predict", str(out / "model.axon"), str(covid_dir / "covid.test.csv"), "--out", str(pred_csv),
                 cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    with open(pred_csv, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["id", "tested_positive"]
    assert len(rows) == 1 + 1078
    assert [int(r[0]) for r in rows[1:4]] == [0, 1, 2]
    values = np.array([float(r[1]) for r in rows[1:]])
    assert np.all(np.isfinite(values)) and 0 < values.mean() < 40
    assert "Fit on the validation set" in (out / "report.html").read_text()


def test_csv_classification_and_predict_labels(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(240, 3))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1).astype(int)
    path = tmp_path / "toy.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "a", "b", "c", "label"])
        for i in range(len(X)):
            w.writerow([i, *X[i], y[i]])
    out = tmp_path / "toy"
    assert main(["train", "--dataset", f"csv:{path}", "--target", "label", "--epochs", "30", "--quiet",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "validation accuracy" in text
    assert json.loads((out / "run.json").read_text())["task"] == "classification"
    assert main(["predict", str(out / "model.axon"), str(path), "--proba"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "id,label,p_0,p_1,p_2"
    assert len(lines) == 241
    predicted = np.array([int(line.split(",")[1]) for line in lines[1:]])
    assert np.mean(predicted == y) > 0.8
    assert main(["evaluate", str(out / "model.axon")]) == 0
    assert "accuracy" in capsys.readouterr().out


# -- the other subcommands ------------------------------------------------------------------------------
def test_evaluate_matches_the_run(small_run, capsys):
    capsys.readouterr()
    assert main(["evaluate", str(small_run / "model.axon"), "--dataset", "digits"]) == 0
    text = capsys.readouterr().out
    acc = float(re.search(r"accuracy: ([0-9.]+)", text).group(1))
    metrics = json.loads((small_run / "metrics.json").read_text())
    assert acc == pytest.approx(metrics["test"]["accuracy"], abs=1e-5)
    assert main(["evaluate", str(small_run), "--split", "val"]) == 0  # a run folder; its own val rows
    acc = float(re.search(r"accuracy: ([0-9.]+)", capsys.readouterr().out).group(1))
    assert acc == pytest.approx(metrics["val"]["accuracy"], abs=1e-5)


def test_predict_npy_and_csv_stdout(small_run, tmp_path, capsys):
    from axon.datasets import load_digits
    (_, _), (Xt, yt) = load_digits()
    np.save(tmp_path / "x.npy", Xt[:5])
    assert main(["predict", str(small_run / "model.axon"), str(tmp_path / "x.npy"),
                 "--out", str(tmp_path / "p.npy")]) == 0
    p = np.load(tmp_path / "p.npy")
    assert p.shape == (5, 10) and np.allclose(p.sum(axis=1), 1, atol=1e-5)
    capsys.readouterr()
    assert main(["predict", str(small_run / "model.axon"), str(tmp_path / "x.npy")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "id,label" and len(lines) == 6
    assert [int(line.split(",")[1]) for line in lines[1:]] == list(np.argmax(p, axis=1))


def test_summary(small_run, capsys):
    assert main(["summary", str(small_run / "model.axon")]) == 0
    text = capsys.readouterr().out
    assert "dense_1 (Dense)" in text and "Total params: 2,410" in text and "SoftmaxCrossEntropy" in text


def test_gradcheck_layers_and_model(small_run, capsys):
    assert main(["gradcheck", "--layers", "12,6", "--activation", "tanh"]) == 0
    text = capsys.readouterr().out
    assert "dense_3.weight" in text and ": OK" in text
    assert main(["gradcheck", str(small_run / "model.axon")]) == 0
    assert "max relative error" in capsys.readouterr().out


def test_gradcheck_fails_with_exit_1_on_a_bad_tolerance(capsys):
    assert main(["gradcheck", "--layers", "8", "--tol", "0"]) == 1
    assert "FAILED" in capsys.readouterr().out


def test_explain_prints_the_trace(small_run, capsys):
    assert main(["explain", "--layers", "30,30,30", "--activation", "sigmoid", "--batch-size", "16"]) == 0
    text = capsys.readouterr().out
    assert "dense_1" in text and "sigmoid_3" in text
    assert main(["explain", str(small_run / "model.axon"), "--dataset", "digits"]) == 0
    assert "dense_2" in capsys.readouterr().out


def test_export_onnx(small_run, tmp_path, capsys):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    out = tmp_path / "m.onnx"
    assert main(["export", str(small_run / "model.axon"), "--onnx", str(out)]) == 0
    import axon as ax
    from axon.datasets import load_digits
    (_, _), (Xt, _) = load_digits()
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    got = sess.run(None, {sess.get_inputs()[0].name: Xt[:20]})[0]
    np.testing.assert_allclose(got, ax.load(small_run / "model.axon").predict(Xt[:20]), atol=1e-5)


def test_demo_list_and_run(tmp_path, capsys):
    from axon.demos import DEMOS
    assert main(["demo", "--list"]) == 0
    assert capsys.readouterr().out.split() == list(DEMOS)
    assert main(["demo", "activations", "--out", str(tmp_path / "d")]) == 0
    assert list((tmp_path / "d").glob("*.png"))
    assert "wrote" in capsys.readouterr().out


def test_help_of_every_subcommand_has_examples(capsys):
    for cmd in ("train", "evaluate", "predict", "summary", "gradcheck", "explain", "export", "demo"):
        with pytest.raises(SystemExit) as e:
            main([cmd, "--help"])
        assert e.value.code == 0
        text = capsys.readouterr().out
        assert "examples:" in text and f"axon {cmd}" in text, cmd


def test_history_csv_round_trip(tmp_path):
    h = {"loss": [1.0, 0.5, 0.25], "val_loss": [1.1, 0.6, 0.3], "grad_norm/dense_1": [0.1, 0.2, 0.3]}
    log = CSVLogger(tmp_path / "h.csv")
    log.on_train_begin()
    for epoch in range(3):
        log.on_epoch_end(epoch, {k: v[epoch] for k, v in h.items()})
    assert CSVLogger.read(tmp_path / "h.csv") == h
    lines = (tmp_path / "h.csv").read_text().splitlines()
    assert lines[0] == "epoch,loss,val_loss,grad_norm/dense_1" and lines[1].startswith("0,")
    with open(tmp_path / "h.csv", "a") as f:
        f.write("3,0.1")  # a line cut short by a kill: ignored
    assert CSVLogger.read(tmp_path / "h.csv") == h


# -- import cost ------------------------------------------------------------------------------------------
def test_import_axon_loads_no_heavy_dependency():
    code = ("import sys, axon, axon.cli.main; heavy = ['matplotlib', 'tqdm', 'safetensors', 'torch', 'sklearn', "
            "'onnx', 'onnxruntime']; print([m for m in heavy if m in sys.modules])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_train_on_mnist_style_files_from_data_dir(tmp_path, name, capsys):
    from axon.datasets import write_idx
    rng = np.random.default_rng(0)
    d = tmp_path / "idx"
    d.mkdir()
    for prefix, n in (("train", 120), ("t10k", 40)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        images = rng.integers(0, 60, size=(n, 28, 28)).astype(np.uint8)
        images[np.arange(n), 2 * labels + 2, 4:24] = 255  # a class-dependent bar: learnable
        write_idx(d / f"{prefix}-images-idx3-ubyte", images)
        write_idx(d / f"{prefix}-labels-idx1-ubyte.gz", labels)
    out = tmp_path / "r"
    assert main(["train", "--dataset", name, "--data-dir", str(d), "--layers", "32", "--epochs", "15",
                 "--quiet", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] > 0.5
    doc = (out / "report.html").read_text()
    assert "Confusion matrix" in doc and "First-layer weights" in doc
    if name == "fashion-mnist":
        assert "Ankle boot" in json.loads((out / "run.json").read_text())["class_names"]
