"""What fit prints: clean lines in files and pipes, a bar on terminals, nothing with verbose=0."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import axon as ax
from axon.progress import Progress, format_logs


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _model():
    ax.set_seed(0)
    m = ax.Sequential(ax.Dense(4, 6), ax.Tanh(), ax.Dense(6, 3))
    m.compile(loss="cross_entropy", optimizer=ax.optim.SGD(lr=0.1), metrics=["accuracy"])
    return m


def _data(n=64):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 4)).astype(np.float32), rng.integers(0, 3, n)


def test_format_logs_keras_style():
    assert format_logs({"loss": 0.123456, "accuracy": 0.5, "lr": 0.001}) == "loss: 0.1235 - accuracy: 0.5000 - lr: 0.001"
    assert "e-05" in format_logs({"loss": 2.5e-5})


@pytest.mark.parametrize("verbose", [1, 2])
def test_not_a_terminal_gives_one_clean_line_per_epoch(capsys, verbose):
    X, y = _data()
    _model().fit(X, y, epochs=3, batch_size=8, validation_split=0.25, verbose=verbose)
    out = capsys.readouterr().out
    assert "\r" not in out and "\x1b" not in out
    lines = out.splitlines()
    assert len(lines) == 3
    for i, line in enumerate(lines):
        assert line.startswith(f"Epoch {i + 1}/3 - ")
        for key in ("loss: ", "accuracy: ", "val_loss: ", "val_accuracy: ", "lr: "):
            assert key in line


def test_verbose_0_prints_nothing(capsys):
    X, y = _data()
    _model().fit(X, y, epochs=2, verbose=0)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_terminal_shows_a_bar_then_the_closing_line():
    stream = FakeTerminal()
    p = Progress(1, epochs=2, n_batches=5, stream=stream)
    assert p.mode == "bar"
    calls = []

    def running():
        calls.append(1)
        return {"loss": 1.0}

    p.epoch_begin(0)
    for b in range(5):
        p.batch_end(b + 1, running)
    p.epoch_end(0, {"loss": 0.5, "val_loss": 0.25})
    text = stream.getvalue()
    assert "Epoch 1/2" in text and "\r" in text  # tqdm redraws on a terminal
    last = text.rstrip("\n").split("\n")[-1].split("\r")[-1]  # what stays on screen: the closing line
    assert last.startswith("Epoch 1/2 - ") and "batch" not in last
    assert "loss: 0.5000 - val_loss: 0.2500" in text
    # running figures are computed only when the bar is redrawn (at most 10 times a second),
    # and always for the last batch
    assert 1 <= len(calls) <= 5


def test_bar_rate_limit_skips_work_between_redraws():
    p = Progress(1, epochs=1, n_batches=10_000, stream=FakeTerminal())
    calls = []
    p.epoch_begin(0)
    for b in range(2000):
        p.batch_end(b + 1, lambda: calls.append(1) or {"loss": 0.0})
    p.close()
    assert len(calls) < 2000


def test_output_to_a_file_from_a_subprocess_is_clean(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent("""
        import numpy as np, axon as ax
        ax.set_seed(0)
        rng = np.random.default_rng(0)
        X, y = rng.normal(size=(200, 4)).astype(np.float32), rng.integers(0, 3, 200)
        m = ax.Sequential(ax.Dense(4, 8), ax.ReLU(), ax.Dense(8, 3))
        m.compile(loss="cross_entropy", optimizer="sgd", metrics=["accuracy"])
        m.fit(X, y, epochs=4, batch_size=4, validation_split=0.2, verbose=1)
    """))
    out_file = tmp_path / "out.txt"
    with open(out_file, "w") as f:
        proc = subprocess.run([sys.executable, str(script)], stdout=f, stderr=subprocess.PIPE, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    text = out_file.read_text()
    assert "\r" not in text and "\x1b" not in text
    lines = text.splitlines()
    assert [line.split(" - ")[0] for line in lines] == [f"Epoch {i}/4" for i in range(1, 5)]
    assert b"\r" not in proc.stderr


def test_messages_during_an_epoch_are_printed_above_the_bar():
    stream = FakeTerminal()
    p = Progress(1, epochs=1, n_batches=3, stream=stream)
    p.epoch_begin(0)
    p.write("Interrupted: finishing the current batch")
    p.batch_end(3, lambda: {"loss": 1.0})
    p.epoch_end(0, {"loss": 1.0})
    text = stream.getvalue()
    assert "Interrupted: finishing the current batch\n" in text
    assert text.index("Interrupted") < text.index("Epoch 1/1 - ")
