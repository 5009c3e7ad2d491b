"""Errors a user can cause end with one line on stderr ("axon: error: ...") and exit status 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from axon.cli.main import main


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("bad")
    f = {}
    f["text_cell"] = d / "text_cell.csv"
    f["text_cell"].write_text("id,a,b,y\n0,1.0,2.0,0.5\n1,1.5,oops,0.7\n2,1.0,2.0,0.1\n")
    f["nan_cell"] = d / "nan_cell.csv"
    f["nan_cell"].write_text("id,a,b,y\n0,1.0,2.0,0.5\n1,1.5,nan,0.7\n2,1.0,2.0,0.1\n")
    f["ragged"] = d / "ragged.csv"
    f["ragged"].write_text("id,a,b,y\n0,1.0,2.0,0.5\n1,1.5\n")
    f["empty"] = d / "empty.csv"
    f["empty"].write_text("")
    rng = np.random.default_rng(0)
    # 64 features (fits a digits model) but labels up to 11: out of range for 10 outputs.
    rows = ["id," + ",".join(f"p{i}" for i in range(64)) + ",label"]
    for i in range(20):
        rows.append(f"{i}," + ",".join(f"{v:.3f}" for v in rng.random(64)) + f",{i % 12}")
    f["labels12"] = d / "labels12.csv"
    f["labels12"].write_text("\n".join(rows) + "\n")
    f["five_features"] = d / "five.csv"
    f["five_features"].write_text("id,a,b,c,d,e,label\n" + "".join(f"{i},1,2,3,4,5,{i % 2}\n" for i in range(10)))
    f["corrupt_model"] = d / "corrupt.axon"
    f["corrupt_model"].write_bytes(os.urandom(300))
    f["bad_toml"] = d / "bad.toml"
    f["bad_toml"].write_text("lr = = 3\n")
    f["unknown_key_toml"] = d / "unknown.toml"
    f["unknown_key_toml"].write_text("learning_rate = 0.1\n")
    f["nan_npy"] = d / "nan.npy"
    np.save(f["nan_npy"], np.full((2, 64), np.nan, dtype=np.float32))
    # A tiny real model to misuse.
    f["model_dir"] = d / "run"
    assert main(["train", "--layers", "8", "--epochs", "1", "--quiet", "--out", str(f["model_dir"])]) == 0
    f["model"] = f["model_dir"] / "model.axon"
    return f


CASES = {
    "missing csv": (["train", "--dataset", "csv:/no/such/file.csv", "--target", "y"], "no such file"),
    "unknown dataset": (["train", "--dataset", "imagenet"], "unknown data set"),
    "negative threads": (["train", "--threads", "-1"], "integer >= 0"),
    "csv without csv: prefix": (["train", "--dataset", "data.csv"], "csv:data.csv"),
    "missing target": (["train", "--dataset", "csv:{text_cell}"], "--target"),
    "unknown target": (["train", "--dataset", "csv:{text_cell}", "--target", "z"], "no column"),
    "non-numeric cell": (["train", "--dataset", "csv:{text_cell}", "--target", "y"], "oops"),
    "NaN in data": (["train", "--dataset", "csv:{nan_cell}", "--target", "y"], "line"),
    "ragged csv": (["train", "--dataset", "csv:{ragged}", "--target", "y"], "line"),
    "empty csv": (["train", "--dataset", "csv:{empty}", "--target", "y"], "empty"),
    "negative lr": (["train", "--lr", "-1"], "--lr"),
    "zero epochs": (["train", "--epochs", "0"], "--epochs"),
    "dropout 1": (["train", "--dropout", "1.5"], "--dropout"),
    "unknown option": (["train", "--learning-rate", "3"], "unrecognized"),
    "unknown model kind": (["train", "--model", "rnn"], "--model"),
    "unknown activation": (["train", "--activation", "swish"], "activation"),
    "unknown optimizer": (["train", "--optimizer", "lbfgs"], "optimizer"),
    "unknown loss": (["train", "--loss", "hinge"], "loss"),
    "bad layers": (["train", "--layers", "64,abc"], "abc"),
    "bad toml": (["train", "--config", "{bad_toml}"], "TOML"),
    "unknown toml key": (["train", "--config", "{unknown_key_toml}"], "learning_rate"),
    "missing config": (["train", "--config", "/no/such.toml"], "no such file"),
    "resume nothing": (["train", "--resume", "/no/such/run"], "--resume"),
    "cnn on csv": (["train", "--dataset", "csv:{five_features}", "--target", "label", "--model", "cnn"], "cnn"),
    "missing model": (["evaluate", "/no/model.axon", "--dataset", "digits"], "no such file"),
    "corrupted model": (["summary", "{corrupt_model}"], "corrupt.axon"),
    "corrupted model predict": (["predict", "{corrupt_model}", "{nan_npy}"], "corrupt.axon"),
    "labels out of range": (["evaluate", "{model}", "--dataset", "csv:{labels12}", "--target", "label"], "label"),
    "model does not fit data": (["evaluate", "{model}", "--dataset", "csv:{five_features}", "--target", "label"],
                                "shape"),
    "predict NaN input": (["predict", "{model}", "{nan_npy}"], "NaN"),
    "predict missing input": (["predict", "{model}", "/no/input.csv"], "no such file"),
    "predict wrong columns": (["predict", "{model}", "{five_features}"], "shape"),
    "unknown demo": (["demo", "nope"], "unknown demo"),
    "gradcheck both sources": (["gradcheck", "{model}", "--layers", "8"], "either"),
    "unknown command": (["fly"], "invalid choice"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_user_error_is_one_line_and_exit_2(case, files, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a failing train must not leave a run folder behind it
    monkeypatch.delenv("AXON_DEBUG", raising=False)
    argv, needle = CASES[case]
    argv = [a.format(**{k: str(v) for k, v in files.items()}) for a in argv]
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("axon: error: ")
    assert needle.lower() in lines[0].lower(), lines[0]
    assert "Traceback" not in err
    if argv[0] == "train":
        assert not (tmp_path / "runs").exists()  # nothing created for input that was refused


def test_errors_in_a_real_process_have_no_traceback(files, tmp_path):
    for argv in (["train", "--dataset", "csv:/no/such.csv", "--target", "y"], ["summary", str(files["corrupt_model"])],
                 ["train", "--epochs", "zero"]):
        r = subprocess.run([sys.executable, "-m", "axon.cli.main", *argv], cwd=tmp_path, capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 2
        assert "Traceback" not in r.stderr
        assert r.stderr.startswith("axon: error: ") and len(r.stderr.strip().splitlines()) == 1


def test_a_diverging_run_is_a_user_error_and_keeps_the_run_folder(tmp_path, capsys):
    out = tmp_path / "r"
    status = main(["train", "--layers", "64,64", "--epochs", "3", "--lr", "1e6", "--optimizer", "sgd",
                   "--quiet", "--out", str(out)])
    if status == 0:
        pytest.skip("this learning rate happened not to diverge")
    assert status == 2
    err = capsys.readouterr().err
    assert err.startswith("axon: error: ") and len(err.strip().splitlines()) == 1
    assert (out / "run.json").is_file()  # nothing already written is lost
