"""Assemble ``report.html``: sections of text and figures, images inlined as data URIs."""

from __future__ import annotations

import base64
import html
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

_CSS = """
body { font-family: system-ui, sans-serif; max-width: 1000px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; border-bottom: 1px solid #ddd; }
pre { background: #f6f6f6; padding: .8em; overflow-x: auto; font-size: .85em; }
table { border-collapse: collapse; } td, th { padding: .2em .8em; border-bottom: 1px solid #eee; text-align: left; }
img { max-width: 100%; display: block; margin: .5em 0; }
.note { color: #555; font-size: .9em; }
"""


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _table(rows: list[tuple[str, Any]]) -> str:
    cells = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_fmt(v))}</td></tr>" for k, v in rows)
    return f"<table>{cells}</table>"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _curve_groups(history: dict[str, list[float]]) -> list[tuple[str, list[str]]]:
    """[(title, keys)]: each metric with its val_ twin, then lr; grad_norm keys go elsewhere."""
    groups = []
    for key in history:
        if key.startswith(("val_", "grad_norm/")) or key == "lr":
            continue
        keys = [key] + ([f"val_{key}"] if f"val_{key}" in history else [])
        groups.append((key, keys))
    if "lr" in history and len(set(history["lr"])) > 1:  # a constant rate is in the configuration
        groups.append(("lr", ["lr"]))
    return groups


def _first_layer_weights(model, image_shape: tuple[int, int] | None) -> tuple[np.ndarray, list[str]] | None:
    """Each unit's incoming weights of the first Dense layer as an image, when the input is an image."""
    if image_shape is None:
        return None
    for layer in model.layers:
        if hasattr(layer, "in_features") and hasattr(layer, "weight"):
            if layer.in_features != image_shape[0] * image_shape[1]:
                return None
            W = layer.weight.data  # (in, out): column j is unit j's weights
            k = min(W.shape[1], 32)
            images = W[:, :k].T.reshape(k, *image_shape)
            return images, [str(j) for j in range(k)]
        if layer.parameters():  # a conv layer first: not an MLP on pixels
            return None
    return None


def write_report(path: str | os.PathLike, *, model, data, history: dict[str, list[float]],
                 metrics: dict[str, Any], predictions: dict[str, np.ndarray], info: dict[str, Any]) -> Path:
    """Write the run's ``report.html`` (self-contained) and return its path.

    Parameters
    ----------
    model : the trained model (its summary and first-layer weights are shown).
    data : the :class:`axon.cli.data.Dataset` trained on (task, images, labels, class names).
    history : History.history, ``{key: [one float per epoch]}``.
    metrics : the final figures (metrics.json).
    predictions : ``{"val": output, "test": output}``: probabilities (classification) or values.
    info : run.json (command line, configuration).
    """
    from axon.report import plots

    parts: list[str] = []
    title = f"axon run: {data.name} ({data.task})"
    parts.append(f"<h1>{html.escape(title)}</h1>")
    parts.append("<h2>Command</h2><pre>" + html.escape(info.get("command", "")) + "</pre>")

    rows: list[tuple[str, Any]] = [("epochs run", metrics.get("epochs_run")),
                                   ("training time (s)", metrics.get("train_seconds"))]
    for split in ("val", "test"):
        for k, v in (metrics.get(split) or {}).items():
            rows.append((f"{'validation' if split == 'val' else split} {k}", v))
    if "baseline" in metrics:
        rows.append(("linear least-squares validation MSE", metrics["baseline"]["lstsq_val_mse"]))
    parts.append("<h2>Results</h2>" + _table(rows))
    if data.task == "regression" and info.get("target_scale"):
        s = info["target_scale"]
        parts.append(f'<p class="note">The curves are in standardised units: the network was trained on '
                     f't = (y − {s["mean"]:.4g}) / {s["scale"]:.4g}, so an MSE of t is the MSE of y divided '
                     f'by {s["scale"] ** 2:.4g}. The results above are in the target\'s own units.</p>')

    # Curves
    parts.append("<h2>Training curves</h2>")
    for name, keys in _curve_groups(history):
        parts.append(_img(plots.curves(history, keys, name, name, log=name == "lr"),
                          f"{name} per epoch"))
    grad_keys = [k for k in history if k.startswith("grad_norm/")]
    if grad_keys:
        parts.append("<h2>Gradient norms per layer</h2>")
        parts.append(_img(plots.curves(history, grad_keys, "‖∂C/∂W‖ per layer (mean over the epoch's batches)",
                                       "gradient norm", log=True), "gradient norm per layer"))

    # Predictions
    split = "test" if "test" in predictions else "val"
    if split in predictions:
        X = getattr(data, f"X_{split}")
        y = getattr(data, f"y_{split}")
        label = "test" if split == "test" else "validation"
        if data.task == "classification":
            pred = np.argmax(predictions[split], axis=1)
            names = data.class_names or [str(k) for k in range(predictions[split].shape[1])]
            parts.append("<h2>Confusion matrix</h2>")
            parts.append(_img(plots.confusion_matrix(y, pred, names, f"{label} set"), "confusion matrix"))
            wrong = np.flatnonzero(pred != y)
            if data.image_shape is not None:
                parts.append(f"<h2>Misclassified {label} images</h2>")
                if wrong.size:
                    show = wrong[:32]
                    imgs = X[show].reshape(len(show), *data.image_shape)
                    caps = [f"{names[y[i]]}→{names[pred[i]]}" for i in show]
                    parts.append(f'<p class="note">{wrong.size} of {len(y)} misclassified; the first '
                                 f'{len(show)} shown, captioned true→predicted.</p>')
                    parts.append(_img(plots.image_grid(imgs, caps, f"misclassified ({label})"),
                                      "misclassified images"))
                else:
                    parts.append("<p>None: every image was classified correctly.</p>")
        else:
            parts.append(f"<h2>Fit on the {label} set</h2>")
            parts.append(_img(plots.regression_fit(y.astype(float), predictions[split].astype(float),
                                                   f"predicted against true ({label})"),
                              "predicted against true and residuals"))

    weights = _first_layer_weights(model, data.image_shape)
    if weights is not None:
        imgs, caps = weights
        parts.append("<h2>First-layer weights</h2>")
        parts.append('<p class="note">Each hidden unit of the first layer computes w·x + b over the pixels; '
                     'its weights drawn as an image (red positive, blue negative) show the pattern it '
                     'responds to.</p>')
        parts.append(_img(plots.image_grid(imgs, caps, "first-layer weights", cmap="RdBu_r", symmetric=True),
                          "first-layer weights"))

    parts.append("<h2>Model</h2><pre>" + html.escape(model.summary()) + "</pre>")
    if getattr(model, "preprocessor", None) is not None:
        parts.append(f'<p class="note">Inputs are standardised by a {type(model.preprocessor).__name__} '
                     f'stored in the model file.</p>')
    parts.append("<h2>Configuration</h2><pre>" + html.escape(json.dumps(info.get("config", {}), indent=2,
                                                                      default=str)) + "</pre>")
    doc = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
           f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>\n"
           + "\n".join(parts) + "\n</body></html>\n")
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(doc, encoding="utf-8")
    os.replace(tmp, path)
    return path


__all__ = ["write_report"]
