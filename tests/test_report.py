"""report.html: self-contained (every image a base64 PNG data URI), the sections each run needs (best
epoch and saved weights, run facts, configuration that applies, per-class figures, weights of MLPs, CNNs
and tables), a status line for runs that ended early, and (e2e) every image decodes in Chromium, with
screenshots of real runs kept as test artefacts."""

from __future__ import annotations

import base64
import html as html_lib
import math
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

import axon as ax
from axon.cli.data import Dataset
from axon.report import facts, write_report
from axon.report.html import first_conv_filters, first_layer_units
from browser import CHROMIUM_FLAGS, chromium_path

IMG = re.compile(r'<img alt="([^"]*)" src="([^"]*)">')


def _images(doc: str) -> dict[str, bytes]:
    out = {}
    for alt, src in IMG.findall(doc):
        assert src.startswith("data:image/png;base64,"), src[:60]
        out[alt] = base64.b64decode(src.split(",", 1)[1], validate=True)
    return out


def _text(doc: str) -> str:
    """The page's text as a reader sees it (tags dropped, entities decoded, spaces joined)."""
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", re.sub(r'src="[^"]*"', "", doc))).split())


def _png_width(png: bytes) -> int:
    return int.from_bytes(png[16:20], "big")  # the IHDR chunk


HISTORY = {"loss": [2.3, 1.5, 1.0, 0.8, 0.7], "accuracy": [0.1, 0.4, 0.6, 0.7, 0.8],
           "val_loss": [2.3, 1.7, 1.2, 1.3, 1.5], "val_accuracy": [0.1, 0.3, 0.5, 0.55, 0.5],
           "lr": [1e-3] * 5}
CONFIG = {"dataset": "digits", "target": None, "model": "mlp", "layers": "16", "activation": "relu",
          "loss": None, "optimizer": "adam", "lr": 3e-3, "momentum": 0.9, "epochs": 5, "batch_size": 64,
          "dropout": 0.0, "l1": 0.0, "l2": 0.0, "early_stopping": 0, "seed": 0, "validation_split": 0.1,
          "standardize": False, "grad_stats": False, "data_dir": None, "threads": 1}


def _digits_data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, 64), dtype=np.float32)
    y = np.arange(n) % 10
    return Dataset(name="digits", task="classification", X_train=X, y_train=y, X_val=X[:20], y_val=y[:20],
                   X_test=X[20:], y_test=y[20:], n_outputs=10, image_shape=(8, 8),
                   class_names=[str(k) for k in range(10)])


def _classification_report(tmp_path: Path, grad: bool = True, **kwargs) -> Path:
    data = _digits_data()
    ax.set_seed(0)
    model = ax.Sequential(ax.Dense(64, 16), ax.ReLU(), ax.Dense(16, 10))
    model.compile(loss="cross_entropy", optimizer=ax.optim.Adam(lr=3e-3), metrics=["accuracy"])
    history = dict(HISTORY)
    if grad:
        history |= {"grad_norm/dense_1": [0.5, 0.3, 0.2, 0.2, 0.1], "grad_norm/dense_2": [1.0, 0.6, 0.4, 0.3, 0.3]}
    probs = ax.functions.softmax(model.forward(data.X_test))
    metrics = {"epochs_run": 5, "train_seconds": 2.5, "val": {"loss": 1.5, "accuracy": 0.5},
               "test": {"loss": 1.5, "accuracy": 0.45}}
    info = {"command": "axon train --epochs 5 --note '<b>'", "config": CONFIG}
    return write_report(tmp_path / "report.html", model=model, data=data, history=history, metrics=metrics,
                        predictions={"test": probs}, info=info, **kwargs)


def _regression_report(tmp_path: Path, n_features: int = 4) -> Path:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, n_features)).astype(np.float32)
    y = (X[:, :4] @ np.array([1.0, -2.0, 0.5, 0.0]) + 10).astype(np.float32)
    names = [f"feature_{i}" for i in range(n_features)]
    data = Dataset(name="csv:toy.csv", task="regression", X_train=X, y_train=y, X_val=X[:25], y_val=y[:25],
                   n_outputs=1, feature_names=names, target_name="t")
    model = ax.Sequential(ax.Dense(n_features, 8), ax.ReLU(), ax.Dense(8, 1))
    model.compile(loss="mse", optimizer=ax.optim.SGD(lr=0.1, momentum=0.9))
    pred = y[:25] + rng.normal(scale=0.3, size=25).astype(np.float32)
    metrics = {"epochs_run": 2, "train_seconds": 0.4, "val": {"mse": 0.09, "mae": 0.2, "r2": 0.99},
               "baseline": {"lstsq_val_mse": 0.1}}
    config = {**CONFIG, "dataset": "csv:toy.csv", "target": "t", "optimizer": "sgd", "lr": 0.1, "l2": 1e-3,
              "early_stopping": 20, "standardize": True, "epochs": 300}
    info = {"command": "axon train --dataset csv:toy.csv --target t", "config": config,
            "target_scale": {"mean": 10.0, "scale": 2.0}}
    return write_report(tmp_path / "report.html", model=model, data=data,
                        history={"loss": [1.0, 0.5], "val_loss": [1.1, 0.6]}, metrics=metrics,
                        predictions={"val": pred}, info=info, status="stopped_early", best_epoch=2,
                        monitor="val_loss", restored_best=True)


# -- sections --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def classification_doc(tmp_path_factory) -> str:
    """The classification report's HTML, written once for the tests that only read it."""
    import datetime

    path = _classification_report(tmp_path_factory.mktemp("report"), date=datetime.datetime(2025, 3, 4, 5, 6))
    return path.read_text(encoding="utf-8")


def test_classification_report_is_self_contained_with_every_section(classification_doc):
    doc = classification_doc
    images = _images(doc)
    assert set(images) >= {"loss per epoch", "accuracy per epoch", "confusion matrix", "misclassified images",
                           "first-layer weights", "gradient norm per layer"}
    for png in images.values():
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000
    assert "lr per epoch" not in images  # a constant learning rate is not worth a plot
    # Nothing outside the file is referenced.
    assert not re.search(r'(src|href)="(?!data:)', doc)
    assert "<script" not in doc
    # The command line is shown exactly, HTML-escaped.
    assert "axon train --epochs 5 --note &#x27;&lt;b&gt;&#x27;" in doc
    assert "Total params" in doc and "dense_1 (Dense)" in doc


def test_best_epoch_is_marked_and_the_saved_weights_named(classification_doc, tmp_path):
    text = _text(classification_doc)
    # val_loss is lowest at epoch 3 (1.2) and ends at 1.5: the last epoch's weights were saved
    assert "The saved model has the weights of the last epoch (5), where val_loss is 1.5, 25% higher than " \
           "the best. The best val_loss, 1.2, was at epoch 3" in text
    assert "The dashed line marks epoch 3" in text and "Completed: 5 of 5 epochs." in text
    es = _text(_classification_report(tmp_path, status="stopped_early", best_epoch=3, monitor="val_loss",
                                      restored_best=True).read_text(encoding="utf-8"))
    assert "Stopped by early stopping after 5 of 5 epochs." in es
    assert "The saved model has the weights of epoch 3, the best val_loss (1.2), restored by early stopping" in es


def test_run_facts_date_version_sizes_and_time_per_epoch(classification_doc):
    text = _text(classification_doc)
    assert "date 2025-03-04 05:06" in text and f"axon version {ax.__version__}" in text
    assert "samples 40 training / 20 validation / 20 test" in text
    assert "training time 2.5 s" in text and "time per epoch 500 ms" in text and "epochs run 5 of 5" in text


def test_configuration_shows_only_what_applies(classification_doc):
    text = _text(classification_doc)
    config = text[text.index("Configuration"):]
    assert "loss SoftmaxCrossEntropy (the default for classification)" in config
    assert "optimizer adam (lr 0.003)" in config and "momentum" not in config   # no momentum under Adam
    assert "None" not in config and "null" not in config
    assert "regularisation none" in config and "early stopping off" in config
    assert "target" not in config and "data folder" not in config and "standardised" not in config
    rows = dict(facts.config_rows({**CONFIG, "optimizer": "sgd", "lr": 0.1, "l2": 1e-3, "dropout": 0.2,
                                   "early_stopping": 7, "loss": "mse", "delimiter": ";"},
                                  loss_name="MSE", monitor="loss"))
    assert rows["optimizer"] == "sgd (lr 0.1, momentum 0.9)" and rows["loss"] == "MSE (--loss mse)"
    assert rows["L2"] == "0.001" and rows["dropout"] == "0.2" and "regularisation" not in rows and "L1" not in rows
    assert rows["early stopping"] == "patience 7 on loss, best weights restored"
    assert rows["delimiter"] == ";"  # an option this table does not know yet is still shown


def test_per_class_precision_recall_f1_table_matches_the_metrics(classification_doc):
    from axon.metrics import precision_recall_f1

    doc = classification_doc
    data = _digits_data()
    ax.set_seed(0)
    model = ax.Sequential(ax.Dense(64, 16), ax.ReLU(), ax.Dense(16, 10))
    pred = model.forward(data.X_test).argmax(axis=1)
    r = precision_recall_f1(data.y_test, pred, 10)
    table = doc[doc.index("Per-class precision"):doc.index("Confusion matrix")]
    cells = re.findall(r"<tr><td>(\d)</td><td class=num>([\d.]+)</td><td class=num>([\d.]+)</td>"
                       r"<td class=num>([\d.]+)</td><td class=num>(\d+)</td></tr>", table)
    assert len(cells) == 10
    for k, p, rec, f1, n in cells:
        k = int(k)
        assert (float(p), float(rec), float(f1), int(n)) == pytest.approx(
            (round(r["precision"][k], 3), round(r["recall"][k], 3), round(r["f1"][k], 3), r["support"][k]))


def test_regression_report_has_fit_plot_baseline_units_note_and_feature_weights(tmp_path):
    doc = _regression_report(tmp_path).read_text(encoding="utf-8")
    images = _images(doc)
    assert "predicted against true and residuals" in images and "first-layer weights per feature" in images
    assert "confusion matrix" not in images and "first-layer weights" not in images
    text = _text(doc)
    assert "linear least-squares validation MSE" in text and "standardised units" in text
    assert "All 4 features, largest first" in text
    assert "optimizer sgd (lr 0.1, momentum 0.9)" in text and "L2 0.001" in text


def test_a_wide_table_shows_its_strongest_features_and_says_so(tmp_path):
    text = _text(_regression_report(tmp_path, n_features=45).read_text(encoding="utf-8"))
    assert "The 30 of 45 features with the largest weights, largest first" in text


def test_first_layer_units_are_the_dense_columns_all_or_an_evenly_sampled_grid():
    ax.set_seed(0)
    model = ax.Sequential(ax.Dense(64, 5), ax.ReLU(), ax.Dense(5, 10))
    imgs, units = first_layer_units(model, (8, 8))
    assert imgs.shape == (5, 8, 8) and list(units) == [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(imgs[2], model.layers[0].weight.data[:, 2].reshape(8, 8))
    assert first_layer_units(model, None) is None
    assert first_layer_units(ax.Sequential(ax.Dense(10, 3)), (8, 8)) is None
    big = ax.Sequential(ax.Dense(784, 1000), ax.ReLU(), ax.Dense(1000, 10))
    imgs, units = first_layer_units(big, (28, 28))
    assert imgs.shape == (256, 28, 28) and units[0] == 0 and units[-1] == 999
    assert np.all(np.diff(units) >= 3) and np.all(np.diff(units) <= 5)   # evenly spread
    np.testing.assert_array_equal(imgs[10], big.layers[0].weight.data[:, units[10]].reshape(28, 28))


def test_sampled_units_are_said_to_be_sampled(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.random((30, 784), dtype=np.float32)
    y = np.arange(30) % 10
    data = Dataset(name="mnist", task="classification", X_train=X, y_train=y, X_val=None, y_val=None,
                   X_test=X, y_test=y, n_outputs=10, image_shape=(28, 28))
    model = ax.Sequential(ax.Dense(784, 300), ax.ReLU(), ax.Dense(300, 10))
    doc = write_report(tmp_path / "r.html", model=model, data=data, history={"loss": [1.0]}, metrics={},
                       predictions={"test": ax.functions.softmax(model.forward(X))}, info={"config": {}})
    text = _text(doc.read_text(encoding="utf-8"))
    assert "256 of the 300 units, evenly sampled" in text and "One colour scale for all" in text


def test_cnn_report_draws_the_first_convolution_filters(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.random((30, 1, 8, 8), dtype=np.float32)
    y = np.arange(30) % 10
    data = Dataset(name="digits", task="classification", X_train=X, y_train=y, X_val=X, y_val=y,
                   n_outputs=10, image_shape=(8, 8))
    model = ax.Sequential(ax.Conv2D(1, 6, 3, padding=1), ax.ReLU(), ax.Flatten(), ax.Dense(384, 10))
    tiles, caps = first_conv_filters(model)
    assert tiles.shape == (6, 3, 3) and caps == [str(i) for i in range(6)]
    np.testing.assert_array_equal(tiles[4], model.layers[0].weight.data[4, 0])
    doc = write_report(tmp_path / "r.html", model=model, data=data, history={"loss": [1.0, 0.5]},
                       metrics={"epochs_run": 2}, predictions={"val": ax.functions.softmax(model.forward(X))},
                       info={"config": {"model": "cnn", "epochs": 2}})
    text = _text(doc.read_text(encoding="utf-8"))
    assert "convolution filters" in _images(doc.read_text(encoding="utf-8"))
    assert "slides 6 filters of 3×3 weights" in text and "all 6 filters" in text
    two = ax.Sequential(ax.Conv2D(3, 4, 3), ax.ReLU())
    tiles, caps = first_conv_filters(two)
    assert tiles.shape == (12, 3, 3) and caps[5] == "1·2"


# -- runs that ended early -------------------------------------------------------------------------
def test_an_interrupted_run_renders_with_a_status_line_and_no_final_figures(tmp_path):
    data = _digits_data()
    model = ax.Sequential(ax.Dense(64, 16), ax.ReLU(), ax.Dense(16, 10))
    doc = write_report(tmp_path / "r.html", model=model, data=data,
                       history={"loss": [2.0, 1.5], "val_loss": [2.1, 1.8]}, metrics={"epochs_run": 2},
                       predictions={}, info={"config": {**CONFIG, "epochs": 40}}, status="interrupted",
                       status_note="Continue with: axon train --resume runs/x")
    text = _text(doc.read_text(encoding="utf-8"))
    assert "Interrupted after 2 of 40 epochs" in text and "Continue with: axon train --resume runs/x" in text
    assert "The weights shown are those at the interruption. The best val_loss so far, 1.8, was at epoch 2" in text
    assert "No final figures" in text and "Confusion matrix" not in text
    assert 'class="status status-warn"' in doc.read_text(encoding="utf-8")


def test_a_run_interrupted_before_its_first_epoch_still_renders(tmp_path):
    doc = write_report(tmp_path / "r.html", model=ax.Sequential(ax.Dense(64, 10)), data=_digits_data(),
                       history={}, metrics={}, predictions={}, info={}, status="interrupted")
    text = _text(doc.read_text(encoding="utf-8"))
    assert "Interrupted after 0 epochs" in text and "No epoch finished" in text


def test_a_diverged_run_renders_and_does_not_draw_nan_weights(tmp_path):
    data = _digits_data()
    model = ax.Sequential(ax.Dense(64, 16), ax.ReLU(), ax.Dense(16, 10))
    model.layers[0].weight.data[:] = np.nan
    doc = write_report(tmp_path / "r.html", model=model, data=data,
                       history={"loss": [2.0, 40.0, math.nan], "val_loss": [1.9, 55.0, math.nan]},
                       metrics={"epochs_run": 3}, predictions={}, info={"config": CONFIG}, status="diverged",
                       status_note="lr 1e6 is too large.")
    raw = doc.read_text(encoding="utf-8")
    text = _text(raw)
    assert "Diverged" in text and "lr 1e6 is too large." in text and 'status-bad' in raw
    assert "best val_loss so far, 1.9, was at epoch 1" in text   # NaN is never the best
    assert "not finite numbers (the run diverged), so they are not drawn" in text
    assert "first-layer weights" not in _images(raw) and "loss per epoch" in _images(raw)


def test_best_epoch_facts():
    h = {"loss": [3.0, 2.0, 1.0], "val_loss": [2.0, 1.0, 1.5], "val_accuracy": [0.2, 0.9, 0.8]}
    assert facts.best_epoch(h) == facts.Best("val_loss", 2, 1.0, 1.5, 3)
    assert facts.best_epoch(h, "val_accuracy").epoch == 2           # higher is better for accuracies
    assert facts.best_epoch({"loss": [3.0, 2.0]}).monitor == "loss"
    assert facts.best_epoch(h, "val_loss", epoch=3).epoch == 3       # early stopping's own record wins
    assert facts.best_epoch({}) is None and facts.best_epoch({"loss": [math.nan]}) is None


# -- in a browser ----------------------------------------------------------------------------------
CHECK_SCRIPT = """
<script>
window.addEventListener('load', function () {
  var imgs = Array.from(document.images);
  var broken = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); });
  var widest = Math.max.apply(null, imgs.map(function (i) { return i.naturalWidth; }));
  var squeezed = imgs.filter(function (i) { return i.clientWidth < 0.95 * i.naturalWidth; });
  var d = document.createElement('div');
  d.id = 'imgcheck';
  d.textContent = 'IMAGES ' + imgs.length + ' BROKEN ' + broken.length + ' WIDEST ' + widest
                  + ' SQUEEZED ' + squeezed.length;
  document.body.appendChild(d);
});
</script>
"""


def _artefacts(tmp_path: Path) -> Path:
    """Where screenshots go: $AXON_TEST_ARTIFACTS when set (kept after the run), else the test's folder."""
    folder = Path(os.environ.get("AXON_TEST_ARTIFACTS") or tmp_path / "artefacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _real_run(tmp_path: Path, kind: str) -> Path:
    """report.html of a real `axon train` run of each kind."""
    from axon.cli.main import main

    out = tmp_path / kind
    argv = {"digits-early-stopping": ["--layers", "64", "--epochs", "40", "--early-stopping", "3"],
            "cnn": ["--model", "cnn", "--layers", "conv8x3,maxpool2,32", "--epochs", "3"]}.get(kind)
    if argv is None:  # a table
        rng = np.random.default_rng(0)
        X = rng.normal(size=(150, 5))
        target = X @ [1.0, -2.0, 0.5, 0.0, 0.0] + rng.normal(scale=0.3, size=150)
        classes = kind == "csv-classification"
        if classes:
            target = np.digitize(target, [-1.0, 1.0])  # three classes 0, 1, 2
        lines = ["a,b,c,d,e,y"] + [",".join(f"{v:.4f}" for v in row) + (f",{t}" if classes else f",{t:.4f}")
                                   for row, t in zip(X, target)]
        (tmp_path / f"{kind}.csv").write_text("\n".join(lines) + "\n")
        argv = ["--dataset", f"csv:{tmp_path / f'{kind}.csv'}", "--target", "y", "--epochs", "60"]
    assert main(["train", *argv, "--quiet", "--out", str(out)]) == 0
    return out / "report.html"


@pytest.mark.e2e
@pytest.mark.parametrize("kind", ["digits-early-stopping", "cnn", "csv-classification", "csv-regression",
                                  "interrupted"])
def test_report_renders_in_headless_chromium_with_page_sized_figures(tmp_path, kind):
    browser = chromium_path()
    if browser is None:
        pytest.skip("no Chromium installed")
    if kind == "interrupted":
        report = _classification_report(tmp_path, status="interrupted", status_note="Resume with axon train "
                                        "--resume runs/x.")
    else:
        report = _real_run(tmp_path, kind)
    doc = report.read_text(encoding="utf-8")
    n_images = len(IMG.findall(doc))
    # A copy with a checker script: counts images that failed to decode after the load event, the
    # widest figure and those the page had to shrink.
    probe = tmp_path / "probe.html"
    probe.write_text(doc.replace("</body>", CHECK_SCRIPT + "</body>"), encoding="utf-8")
    r = subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1100,900",
                        "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()],
                       capture_output=True, text=True, timeout=120)
    m = re.search(r"IMAGES (\d+) BROKEN (\d+) WIDEST (\d+) SQUEEZED (\d+)", r.stdout)
    assert m, (r.stdout[-500:], r.stderr[-1000:])
    assert int(m.group(1)) == n_images >= 2
    assert int(m.group(2)) == 0
    assert int(m.group(3)) <= 1000   # drawn for the page's 1000-pixel column ...
    assert int(m.group(4)) == 0      # ... so none is shrunk (its fonts stay the size they were drawn)
    for alt, png in _images(doc).items():
        if alt.endswith("per epoch"):
            assert _png_width(png) >= 900, alt   # the curves span the column
    # A screenshot of the whole page, kept as a test artefact (look at it when the report changes).
    shot = _artefacts(tmp_path) / f"report-{kind}.png"
    r = subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile2'}",
                        "--window-size=1100,7000", f"--screenshot={shot}", report.as_uri()],
                       capture_output=True, text=True, timeout=120)
    assert shot.is_file(), r.stderr[-1000:]
    from PIL import Image

    with Image.open(shot) as im:
        grey = np.asarray(im.convert("L"))
    content_rows = np.flatnonzero((grey < 250).any(axis=1))
    assert content_rows.size and content_rows[-1] > 1500   # a full report, not an error page
    with Image.open(shot) as im:  # crop to the content so the artefact is the page, not blank space
        im.crop((0, 0, im.width, min(im.height, int(content_rows[-1]) + 20))).save(shot)


def test_the_report_and_early_stopping_agree_on_the_best_epoch():
    from axon.callbacks import EarlyStopping
    from axon.report.facts import best_epoch

    values = [0.2, 0.9, 0.4, 0.1, 0.5]  # highest at epoch 2, lowest at epoch 4 (1-based)
    expected = {"val_r2": 2, "val_f1": 2, "val_top_5_accuracy": 2, "val_accuracy": 2, "val_loss": 4, "val_mse": 4}
    found = {}
    for key in expected:
        stopping = EarlyStopping(monitor=key, patience=len(values), restore_best=False)
        for epoch, v in enumerate(values):
            stopping.on_epoch_end(epoch, {key: v})
        best = best_epoch({key: values}, key)
        assert best is not None
        found[key] = (stopping.best_epoch + 1, best.epoch)
    assert found == {key: (e, e) for key, e in expected.items()}
