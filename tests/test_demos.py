"""The course's demos: each writes its images and returns the numbers behind them, which tell the
story the demo is about (checked here)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from axon.demos import DEMOS, DemoResult, run_demo

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_cache: dict[str, DemoResult] = {}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """Run a demo once per test module (into its own temporary folder) and reuse the result."""

    def get(name: str) -> DemoResult:
        if name not in _cache:
            _cache[name] = DEMOS[name](tmp_path_factory.mktemp(name), seed=0)
        return _cache[name]

    return get


def test_registry_names_match_the_contract():
    assert set(DEMOS) == {"fit", "xor", "slowdown", "activations", "vanishing", "boundary", "overfit",
                          "evolve", "rnn-vanishing"}


@pytest.mark.parametrize("name", sorted(DEMOS))
def test_each_demo_writes_png_and_json_numbers(demo, name):
    if name == "evolve":
        pytest.importorskip("optuna", reason="axon demo evolve needs the [search] extra")
    result = demo(name)
    assert isinstance(result, DemoResult) and result.name == name
    pngs = [f for f in result.files if f.suffix == ".png"]
    assert pngs, "a demo writes at least one PNG"
    for f in result.files:
        assert Path(f).is_file() and Path(f).stat().st_size > 1000
    for f in pngs:
        assert Path(f).read_bytes()[:8] == PNG_MAGIC
    json.dumps(result.numbers)  # plain numbers: the CLI can print or save them
    assert result.text.startswith(name)


def test_fit_error_falls_as_the_number_of_units_grows(demo):
    mse = demo("fit").numbers["mse"]
    s = mse["sigmoid"]
    assert s["1"] > s["3"] > s["10"]
    assert s["1"] > 10 * s["10"]
    r = mse["relu"]
    assert r["1"] > r["3"] and r["1"] > 10 * r["10"]
    assert r["10"] <= r["3"] * 1.05  # at the noise floor (noise σ = 0.05, so MSE ≥ 0.0025) or below k = 3


def test_xor_predictions_within_0_2(demo):
    n = demo("xor").numbers
    np.testing.assert_allclose(n["predictions"], [0, 1, 1, 0], atol=0.2)
    assert len(n["loss"]) == 1500 and n["loss"][-1] < n["loss"][0] / 10


def test_slowdown_cross_entropy_learns_faster_at_first(demo):
    result = demo("slowdown")
    n = result.numbers
    # the text names the window it compares, and that it is a part of the plotted epochs
    assert f"first {n['early_epochs']} of {len(n['quadratic_cost'])} epochs" in result.text
    assert len(n["quadratic_cost"]) == len(n["cross_entropy_cost"]) == 300
    drop = n["early_relative_drop"]
    assert drop["cross_entropy"] > drop["quadratic"] + 0.5
    k = n["early_epochs"]
    assert n["cross_entropy_output"][k] < n["quadratic_output"][k] - 0.5  # output moved towards 0
    assert n["quadratic_output"][0] == pytest.approx(1 / (1 + np.exp(-4)))


def test_activations_derivative_maxima(demo):
    n = demo("activations").numbers
    assert n["sigmoid"]["max_derivative"] == pytest.approx(0.25, abs=1e-6)
    assert n["tanh"]["max_derivative"] == pytest.approx(1.0, abs=1e-6)
    assert n["relu"]["derivative_at_-5"] == 0 and n["relu"]["derivative_at_5"] == 1
    assert n["leaky_relu"]["derivative_at_-5"] == pytest.approx(n["leaky_relu"]["alpha"])
    from axon.demos.activations import TITLES
    assert f"α = {n['leaky_relu']['alpha']:g}" in TITLES["leaky_relu"]   # the plot says which α it draws
    assert f"α = {n['leaky_relu']['alpha']:g}" in demo("activations").text
    assert n["sigmoid"]["derivative_at_5"] < 0.01


def test_vanishing_gradient_numbers(demo):
    n = demo("vanishing").numbers
    assert len(n["initial"]["sigmoid"]) == len(n["sizes"]) - 1
    sigmoid_ratio, relu_ratio = n["ratio"]["sigmoid"], n["ratio"]["relu"]
    assert sigmoid_ratio <= 0.1               # first layer's gradient at least 10x below the last's
    assert 0.2 <= relu_ratio <= 5             # ReLU + He: the same order of magnitude
    assert abs(np.log10(relu_ratio)) < abs(np.log10(sigmoid_ratio)) - 1
    # the norms grow from the first to the last layer in the sigmoid net
    assert np.all(np.diff(n["initial"]["sigmoid"]) > 0)
    during = n["during"]["sigmoid"]
    assert set(during) == {f"dense_{i}" for i in range(1, 6)}
    assert all(len(v) == n["epochs"] for v in during.values())


def test_boundary_accuracy_rises(demo):
    n = demo("boundary").numbers
    for name, accs in n["accuracy"].items():
        assert len(accs) == len(n["snapshots"])
        assert accs[-1] >= 0.9, name
        assert accs[-1] > accs[0]
    gifs = [f for f in demo("boundary").files if f.suffix == ".gif"]
    assert len(gifs) == 1 and gifs[0].read_bytes()[:6] in (b"GIF87a", b"GIF89a")
    from PIL import Image

    from axon.demos.boundary import EPOCHS, GIF_EVERY
    with Image.open(gifs[0]) as gif:
        assert gif.n_frames == EPOCHS // GIF_EVERY + 1          # one frame every GIF_EVERY epochs, and epoch 0
        first = np.asarray(gif.convert("RGB"))
        gif.seek(gif.n_frames - 1)
        last = np.asarray(gif.convert("RGB"))
    assert first.shape == last.shape and np.mean(first != last) > 0.01   # the boundary moved


def test_overfit_validation_loss_turns_and_early_stopping_keeps_the_best(demo):
    n = demo("overfit").numbers
    final = n["final"]
    none = final["none"]
    assert none["train_loss"] < 0.05 < none["val_loss"]          # memorised the training set
    assert none["train_accuracy"] == 1.0                         # the random labels too
    assert none["val_loss"] > none["min_val_loss"] * 1.2         # validation loss went back up
    es = final["early_stopping"]
    assert es["epochs"] < len(n["curves"]["none"]["val_loss"])
    assert es["val_loss"] == pytest.approx(es["min_val_loss"], rel=1e-5)   # best weights restored
    assert es["val_loss"] < none["val_loss"]
    assert final["l2"]["train_loss"] > none["train_loss"]        # the penalty keeps weights small


def test_overfit_panels_differ_each_cure_narrows_the_gap(demo):
    final = demo("overfit").numbers["final"]
    none = final["none"]
    assert none["gap"] == pytest.approx(none["val_loss"] - none["train_loss"])
    for cure in ("l2", "dropout", "early_stopping"):
        assert final[cure]["gap"] < none["gap"] / 2, cure        # a gap visibly narrower than without
        assert final[cure]["val_loss"] < none["val_loss"] * 0.85, cure
        assert final[cure]["val_accuracy"] > none["val_accuracy"] + 0.02, cure


def test_overfit_validates_on_held_out_training_digits_not_the_test_set():
    from axon.datasets import load_digits
    from axon.demos import overfit

    train_rows, val_rows = overfit.split(0)
    assert len(train_rows) == overfit.N_TRAIN and len(val_rows) == overfit.N_VAL
    assert not set(train_rows) & set(val_rows)
    assert max(max(train_rows), max(val_rows)) < len(load_digits()[0][0])   # rows of the training split
    y = np.arange(1000) % 10
    noisy, drawn = overfit.noisy_labels(y, 0)
    assert abs(drawn.mean() - overfit.LABEL_NOISE) < 0.05
    assert np.array_equal(noisy[~drawn], y[~drawn]) and np.array_equal(overfit.noisy_labels(y, 0)[0], noisy)


def test_run_demo_rejects_unknown_names(tmp_path):
    with pytest.raises(ValueError, match="choose one of"):
        run_demo("nope", tmp_path)


def test_demos_do_not_touch_numpy_global_random_state(tmp_path):
    state = np.random.get_state()[1].copy()  # noqa: NPY002 - checking that nothing else uses it
    DEMOS["xor"](tmp_path)
    assert np.array_equal(np.random.get_state()[1], state)  # noqa: NPY002


def test_bare_axon_demo_says_which_demos_and_how(capsys):
    from axon.cli.main import main

    assert main(["demo"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("axon: error: "), captured.err
    for name in DEMOS:
        assert name in lines[0]
    assert "axon demo fit" in lines[0] and "--help" in lines[0]


def test_evolve_front_runs_from_a_small_network_to_one_that_bends_around_the_moons(demo):
    pytest.importorskip("optuna", reason="the evolve demo needs Optuna: pip install -e '.[search]'")
    front = demo("evolve").numbers["front"]  # ordered by size
    assert len(front) >= 2 and front[0]["params"] < front[-1]["params"]
    assert front[-1]["val_accuracy"] >= 0.95 > front[0]["val_accuracy"]
    assert front[-1]["val_loss"] < front[0]["val_loss"] / 2


def test_rnn_vanishing_plain_rnn_forgets_and_lstm_remembers(demo):
    n = demo("rnn-vanishing").numbers
    acc = n["accuracy"]
    assert acc["RNN"]["5"] > 0.95 and acc["LSTM"]["5"] > 0.95             # short memories: both
    assert acc["RNN"]["30"] < 0.65 and acc["LSTM"]["30"] > 0.95            # long: only the LSTM
    rnn, lstm = n["grad_init"]["RNN"], n["grad_init"]["LSTM"]
    assert rnn[0] < 1e-3 * rnn[-1]                                         # vanished over 30 steps
    assert lstm[0] > 0.1 * lstm[-1]                                        # carried by the cell state


def test_axon_demo_evolve_without_optuna_is_one_line_naming_the_extra(monkeypatch, tmp_path, capsys):
    import sys

    from axon.cli.main import main

    monkeypatch.setitem(sys.modules, "optuna", None)  # import optuna now raises ImportError
    assert main(["demo", "evolve", "--out", str(tmp_path / "evolve")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("axon: error: ") and 'pip install -e ".[search]"' in err, err
