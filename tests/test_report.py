"""report.html: self-contained (every image a base64 PNG data URI), the sections each task needs,
and (e2e) every image decodes in a real browser."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import axon as ax
from axon.cli.data import Dataset
from axon.report import write_report

IMG = re.compile(r'<img alt="([^"]*)" src="([^"]*)">')


def _images(doc: str) -> dict[str, bytes]:
    out = {}
    for alt, src in IMG.findall(doc):
        assert src.startswith("data:image/png;base64,"), src[:60]
        out[alt] = base64.b64decode(src.split(",", 1)[1], validate=True)
    return out


def _classification_report(tmp_path: Path, grad: bool = True) -> Path:
    rng = np.random.default_rng(0)
    X = rng.random((40, 64), dtype=np.float32)
    y = rng.integers(0, 10, 40)
    data = Dataset(name="digits", task="classification", X_train=X, y_train=y, X_val=X[:20], y_val=y[:20],
                   X_test=X[20:], y_test=y[20:], n_outputs=10, image_shape=(8, 8),
                   class_names=[str(k) for k in range(10)])
    ax.set_seed(0)
    model = ax.Sequential(ax.Dense(64, 16), ax.ReLU(), ax.Dense(16, 10))
    history = {"loss": [2.3, 1.5, 1.0], "accuracy": [0.1, 0.4, 0.6], "val_loss": [2.3, 1.7, 1.4],
               "val_accuracy": [0.1, 0.3, 0.5], "lr": [1e-3, 1e-3, 1e-3]}
    if grad:
        history |= {"grad_norm/dense_1": [0.5, 0.3, 0.2], "grad_norm/dense_2": [1.0, 0.6, 0.4]}
    logits = model.forward(X[20:])
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    metrics = {"epochs_run": 3, "val": {"loss": 1.4, "accuracy": 0.5}, "test": {"loss": 1.5, "accuracy": 0.45}}
    info = {"command": "axon train --epochs 3 --note '<b>'", "config": {"epochs": 3, "layers": "16"}}
    return write_report(tmp_path / "report.html", model=model, data=data, history=history, metrics=metrics,
                        predictions={"test": probs}, info=info)


def _regression_report(tmp_path: Path) -> Path:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 4)).astype(np.float32)
    y = (X @ np.array([1.0, -2.0, 0.5, 0.0]) + 10).astype(np.float32)
    data = Dataset(name="csv:toy.csv", task="regression", X_train=X, y_train=y, X_val=X[:25], y_val=y[:25],
                   n_outputs=1, feature_names=list("abcd"), target_name="t")
    model = ax.Sequential(ax.Dense(4, 8), ax.ReLU(), ax.Dense(8, 1))
    pred = y[:25] + rng.normal(scale=0.3, size=25).astype(np.float32)
    metrics = {"epochs_run": 2, "val": {"mse": 0.09, "mae": 0.2, "r2": 0.99},
               "baseline": {"lstsq_val_mse": 0.1}}
    info = {"command": "axon train --dataset csv:toy.csv --target t", "config": {},
            "target_scale": {"mean": 10.0, "scale": 2.0}}
    return write_report(tmp_path / "report.html", model=model, data=data,
                        history={"loss": [1.0, 0.5], "val_loss": [1.1, 0.6]}, metrics=metrics,
                        predictions={"val": pred}, info=info)


def test_classification_report_is_self_contained_with_every_section(tmp_path):
    doc = _classification_report(tmp_path).read_text(encoding="utf-8")
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
    assert "axon train --epochs 3 --note &#x27;&lt;b&gt;&#x27;" in doc
    assert "Total params" in doc and "dense_1 (Dense)" in doc


def test_regression_report_has_fit_plot_baseline_and_units_note(tmp_path):
    doc = _regression_report(tmp_path).read_text(encoding="utf-8")
    images = _images(doc)
    assert "predicted against true and residuals" in images
    assert "confusion matrix" not in images and "first-layer weights" not in images
    assert "linear least-squares validation MSE" in doc
    assert "standardised units" in doc


def test_first_layer_weights_are_the_dense_columns():
    from axon.report.html import _first_layer_weights
    ax.set_seed(0)
    model = ax.Sequential(ax.Dense(64, 5), ax.ReLU(), ax.Dense(5, 10))
    imgs, caps = _first_layer_weights(model, (8, 8))
    assert imgs.shape == (5, 8, 8) and len(caps) == 5
    np.testing.assert_array_equal(imgs[2], model.layers[0].weight.data[:, 2].reshape(8, 8))
    assert _first_layer_weights(model, None) is None
    assert _first_layer_weights(ax.Sequential(ax.Dense(10, 3)), (8, 8)) is None


CHECK_SCRIPT = """
<script>
window.addEventListener('load', function () {
  var imgs = Array.from(document.images);
  var broken = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); });
  var d = document.createElement('div');
  d.id = 'imgcheck';
  d.textContent = 'IMAGES ' + imgs.length + ' BROKEN ' + broken.length;
  document.body.appendChild(d);
});
</script>
"""


def _browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
        if path:
            return path
    return None


@pytest.mark.e2e
@pytest.mark.parametrize("kind", ["classification", "regression"])
def test_report_images_all_render_in_headless_chromium(tmp_path, kind):
    browser = _browser()
    if browser is None:
        pytest.skip("no Chromium installed")
    report = _classification_report(tmp_path) if kind == "classification" else _regression_report(tmp_path)
    doc = report.read_text(encoding="utf-8")
    n_images = len(IMG.findall(doc))
    # A copy with a checker script: counts images that failed to decode after the load event.
    probe = tmp_path / "probe.html"
    probe.write_text(doc.replace("</body>", CHECK_SCRIPT + "</body>"), encoding="utf-8")
    r = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", "--no-first-run",
                        f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000", "--dump-dom",
                        probe.as_uri()], capture_output=True, text=True, timeout=120)
    m = re.search(r"IMAGES (\d+) BROKEN (\d+)", r.stdout)
    assert m, (r.stdout[-500:], r.stderr[-1000:])
    assert int(m.group(1)) == n_images >= 2
    assert int(m.group(2)) == 0
