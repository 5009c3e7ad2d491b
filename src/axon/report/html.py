"""Assemble ``report.html``: sections of text and figures, images inlined as data URIs."""

from __future__ import annotations

import base64
import datetime as _dt
import html
import os
from pathlib import Path
from typing import Any

import numpy as np

from axon.report import facts

_CSS = """
body { font-family: system-ui, sans-serif; max-width: 1000px; margin: 2em auto; padding: 0 1em; color: #222;
       line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; }
pre { background: #f6f6f6; padding: .8em; overflow-x: auto; font-size: .9em; white-space: pre-wrap; }
table { border-collapse: collapse; margin: .5em 0; }
td, th { padding: .25em .9em; border-bottom: 1px solid #eee; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; height: auto; display: block; margin: .6em 0; }
.note { color: #555; }
.status { padding: .7em 1em; border-radius: 4px; border-left: 6px solid; margin: 1em 0; }
.status-ok { background: #eef7ee; border-color: #3a8f3a; }
.status-warn { background: #fdf6e3; border-color: #c08a00; }
.status-bad { background: #fbeaea; border-color: #b22; }
.tables { display: flex; flex-wrap: wrap; gap: 0 3em; align-items: flex-start; }
"""

#: The most first-layer units (or filters) drawn; more are sampled evenly and the note says so.
MAX_UNITS = 256
#: The most input features drawn for a table's first layer (those with the largest weights).
MAX_FEATURES = 30
#: The most rows of the per-class table.
MAX_CLASS_ROWS = 50


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _table(rows: list[tuple[str, Any]]) -> str:
    cells = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_fmt(v))}</td></tr>" for k, v in rows)
    return f"<table>{cells}</table>"


def _p(text: str, cls: str = "note") -> str:
    return f'<p class="{cls}">{html.escape(text)}</p>'


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


def _weighted_layers(model) -> list:
    return [layer for layer in model.layers if getattr(layer, "weight", None) is not None]


def _first_weight(model) -> tuple[Any, np.ndarray] | None:
    """(layer, weight array) of the first layer with weights, or None."""
    layers = _weighted_layers(model)
    return (layers[0], layers[0].weight.data) if layers else None


def _sample(n: int, limit: int) -> np.ndarray:
    """Indices 0..n-1, or ``limit`` of them evenly spaced when n > limit."""
    return np.arange(n) if n <= limit else np.unique(np.linspace(0, n - 1, limit).round().astype(int))


def _vmax(W: np.ndarray) -> float:
    """The colour scale's end: the 99th percentile of |w| (a few large weights do not wash out the rest)."""
    return float(np.percentile(np.abs(W), 99)) or float(np.max(np.abs(W))) or 1.0


def first_layer_units(model, image_shape: tuple[int, int] | None, limit: int = MAX_UNITS
                      ) -> tuple[np.ndarray, np.ndarray] | None:
    """Each first-layer Dense unit's incoming weights as an image, when the model's input is an image:
    (images (m, h, w), unit indices (m,)); all units, or ``limit`` evenly sampled. None otherwise
    (no image, or a convolution first)."""
    first = _first_weight(model)
    if image_shape is None or first is None:
        return None
    layer, W = first
    if W.ndim != 2 or W.shape[0] != image_shape[0] * image_shape[1]:
        return None
    units = _sample(W.shape[1], limit)  # W is (in, out): column j is unit j's weights
    return W[:, units].T.reshape(len(units), *image_shape), units


def first_conv_filters(model, limit: int = MAX_UNITS) -> tuple[np.ndarray, list[str]] | None:
    """The first Conv2D layer's filters as images (m, kh, kw) with captions: one per filter for a
    single input channel, else one per (filter, channel) pair ("f·c"); at most ``limit``."""
    first = _first_weight(model)
    if first is None or first[1].ndim != 4:
        return None
    W = first[1]  # (out_channels, in_channels, kh, kw)
    out_c, in_c, kh, kw = W.shape
    tiles = W.reshape(out_c * in_c, kh, kw)
    pick = _sample(len(tiles), limit)
    caps = [str(i) if in_c == 1 else f"{i // in_c}·{i % in_c}" for i in pick]
    return tiles[pick], caps


def _per_class_table(y: np.ndarray, pred: np.ndarray, names: list[str]) -> str:
    from axon.metrics import precision_recall_f1

    r = precision_recall_f1(y, pred, len(names))
    order = np.arange(len(names))
    if len(names) > MAX_CLASS_ROWS:
        order = np.sort(np.argsort(-r["support"], kind="stable")[:MAX_CLASS_ROWS])
    head = ("<tr><th>class</th><th class=num>precision</th><th class=num>recall</th><th class=num>F1</th>"
            "<th class=num>samples</th></tr>")
    body = "".join(f"<tr><td>{html.escape(names[k])}</td><td class=num>{r['precision'][k]:.3f}</td>"
                   f"<td class=num>{r['recall'][k]:.3f}</td><td class=num>{r['f1'][k]:.3f}</td>"
                   f"<td class=num>{r['support'][k]}</td></tr>" for k in order)
    present = r["support"] > 0
    macro = (f"<tr><th>mean over classes</th><td class=num>{r['precision'][present].mean():.3f}</td>"
             f"<td class=num>{r['recall'][present].mean():.3f}</td><td class=num>{r['f1'][present].mean():.3f}"
             f"</td><td class=num>{int(r['support'].sum())}</td></tr>")
    note = "" if len(order) == len(names) else _p(f"The {MAX_CLASS_ROWS} largest of {len(names)} classes shown.")
    return f"<table>{head}{body}{macro}</table>{note}"


def _weights_section(model, data) -> list[str]:
    """First-layer weights (MLP on images), convolution filters (CNN) or weights per feature (table)."""
    from axon.report import plots

    first = _first_weight(model)
    if first is None:
        return []
    W = first[1]
    if not np.all(np.isfinite(W)):
        return ["<h2>First-layer weights</h2>",
                _p("The first layer's weights are not finite numbers (the run diverged), so they are not drawn.")]
    units = first_layer_units(model, data.image_shape)
    if units is not None:
        imgs, idx = units
        n = W.shape[1]
        shown = (f"All {n} units, in order (row by row)." if len(idx) == n else
                 f"{len(idx)} of the {n} units, evenly sampled (units {idx[0]}, {idx[1]}, {idx[2]}, … {idx[-1]}).")
        vmax = _vmax(imgs)
        caps = [str(j) for j in idx] if len(idx) <= 64 else None
        return ["<h2>First-layer weights</h2>",
                _p("Each hidden unit of the first layer computes w·x + b over the pixels; its weights drawn "
                   "as an image show the pattern it responds to (red: the unit is excited by ink there, blue: "
                   f"inhibited). {shown} One colour scale for all, ±{vmax:.3g} (the 99th percentile of |w|; "
                   "larger weights saturate)."),
                _img(plots.weight_grid(imgs, "first-layer weights, one image per unit", vmax, captions=caps),
                     "first-layer weights")]
    filters = first_conv_filters(model)
    if filters is not None:
        tiles, caps = filters
        out_c, in_c, kh, kw = W.shape
        vmax = _vmax(tiles)
        count = f"all {out_c} filters" if len(tiles) == out_c * in_c else f"{len(tiles)} of {out_c * in_c}"
        return ["<h2>Convolution filters</h2>",
                _p(f"The first Conv2D layer slides {out_c} filters of {kh}×{kw} weights over the image; each "
                   f"output pixel is the sum of a filter times the pixels under it. Shown: {count}"
                   + ("" if in_c == 1 else " (captions: filter·input channel)")
                   + f", one colour scale ±{vmax:.3g} (the 99th percentile of |w|). Deeper convolutions "
                   "combine channels, not pixels, and are not drawn."),
                _img(plots.weight_grid(tiles, "first convolution layer's filters", vmax, cols=16, captions=caps),
                     "convolution filters")]
    if data.image_shape is None and W.ndim == 2:
        names = list(data.feature_names or [f"x{i}" for i in range(W.shape[0])])
        if len(names) != W.shape[0]:
            names = [f"x{i}" for i in range(W.shape[0])]
        norms = np.sqrt((W.astype(np.float64) ** 2).sum(axis=1))
        order = np.argsort(-norms, kind="stable")[:MAX_FEATURES]
        which = (f"All {len(names)} features" if len(order) == len(names) else
                 f"The {len(order)} of {len(names)} features with the largest weights")
        scaled = getattr(model, "preprocessor", None) is not None
        why = ("The inputs are standardised (z = (x − mean)/std), so the sizes compare: a feature whose "
               "weights are all near 0 hardly reaches the network." if scaled else
               "The inputs are not standardised, so a weight's size also depends on its feature's units.")
        vmax = _vmax(W[order])
        return ["<h2>First-layer weights per feature</h2>",
                _p(f"{which}, largest first: the length of each feature's weight vector ‖wᵢ‖ = √(Σⱼ wᵢⱼ²) "
                   f"and its weight to each of the {W.shape[1]} units (colour scale ±{vmax:.3g}). {why}"),
                _img(plots.feature_weights(W[order], [names[i] for i in order], "first-layer weights per input "
                                           "feature", vmax), "first-layer weights per feature")]
    return []


def write_report(path: str | os.PathLike, *, model, data, history: dict[str, list[float]],
                 metrics: dict[str, Any], predictions: dict[str, np.ndarray], info: dict[str, Any],
                 status: str = "completed", status_note: str | None = None, best_epoch: int | None = None,
                 monitor: str | None = None, restored_best: bool = False,
                 date: _dt.datetime | str | None = None) -> Path:
    """Write the run's ``report.html`` (self-contained) and return its path.

    Parameters
    ----------
    model : the trained model (its summary and first-layer weights are shown).
    data : the :class:`axon.cli.data.Dataset` trained on (task, images, labels, class names, sizes).
    history : History.history, ``{key: [one float per epoch]}``.
    metrics : the final figures (metrics.json): ``epochs_run``, ``train_seconds``, ``val``, ``test``...
    predictions : ``{"val": output, "test": output}``: probabilities (classification) or values;
        may be empty (a run that ended before its final evaluation).
    info : run.json (command line, configuration).
    status : how the run ended: "completed", "stopped_early", "interrupted" or "diverged" (see
        :data:`axon.report.facts.STATUSES`); shown at the top, with ``status_note`` after it (e.g.
        the command that resumes the run).
    best_epoch : the best epoch (1-based) as early stopping recorded it; None: the epoch of the
        lowest ``monitor`` in the history.
    monitor : the history key the best epoch refers to (default ``val_loss``, else ``loss``).
    restored_best : True when the saved weights are the best epoch's (early stopping restored them);
        False: the last epoch's.
    date : when the run started (default: now).
    """
    from axon import __version__
    from axon.report import plots

    config = info.get("config", {}) or {}
    best = facts.best_epoch(history, monitor, best_epoch)
    when = date if isinstance(date, str) else (date or _dt.datetime.now()).strftime("%Y-%m-%d %H:%M")
    epochs_run = int(metrics.get("epochs_run") or len(next(iter(history.values()), [])))
    metrics = {**metrics, "epochs_run": epochs_run}
    sizes = {name: 0 if X is None else len(X) for name, X in
             (("training", data.X_train), ("validation", data.X_val), ("test", data.X_test))}

    parts: list[str] = []
    # a CSV file by its name: the whole path is in the command
    dataset = f"csv:{Path(data.name[4:]).name}" if data.name.startswith("csv:") else data.name
    title = f"axon run: {dataset} ({data.task})"
    parts.append(f"<h1>{html.escape(title)}</h1>")
    tone = facts.STATUSES.get(status, "warn")
    ended = facts.status_sentence(status, epochs_run, config.get("epochs"), status_note)
    saved = facts.weights_sentence(best, status, restored_best)
    parts.append(f'<div class="status status-{tone}"><b>{html.escape(ended)}</b><br>{html.escape(saved)}</div>')

    run_rows = facts.run_rows(status=status, date=when, version=__version__, sizes=sizes, metrics=metrics,
                              epochs_planned=config.get("epochs"))
    results: list[tuple[str, Any]] = []
    for split in ("val", "test"):
        for k, v in (metrics.get(split) or {}).items():
            results.append((f"{'validation' if split == 'val' else split} {k}", v))
    if "baseline" in metrics:
        results.append(("linear least-squares validation MSE", metrics["baseline"]["lstsq_val_mse"]))
    parts.append("<h2>Results</h2>")
    parts.append('<div class="tables">' + _table(run_rows) + (_table(results) if results else "") + "</div>")
    if not results:
        parts.append(_p("No final figures: the run ended before its final evaluation."))
    if data.task == "regression" and info.get("target_scale"):
        s = info["target_scale"]
        parts.append(_p(f"The curves are in standardised units: the network was trained on t = (y − {s['mean']:.4g})"
                        f" / {s['scale']:.4g}, so an MSE of t is the MSE of y divided by {s['scale'] ** 2:.4g}. "
                        f"The results above are in the target's own units."))

    # Curves
    groups = _curve_groups(history)
    parts.append("<h2>Training curves</h2>")
    if not groups:
        parts.append(_p("No epoch finished, so there are no curves."))
    if best is not None:
        parts.append(_p(f"The dashed line marks epoch {best.epoch}, the best {best.monitor} "
                        f"({best.value:.4g}, the black dot)."))
    note = facts.best_label(best, status, restored_best) if best is not None else ""
    for name, keys in groups:
        mark = best if name != "lr" else None
        parts.append(_img(plots.curves(history, keys, name, name, log=name == "lr", best=mark, best_note=note),
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
            from axon.metrics import confusion_matrix

            pred = np.argmax(predictions[split], axis=1)
            names = data.class_names or [str(k) for k in range(predictions[split].shape[1])]
            parts.append(f"<h2>Per-class precision, recall and F1 ({label} set)</h2>")
            parts.append(_p("Precision: of the samples predicted as the class, the fraction that are; recall: of "
                            "the class's samples, the fraction found; F1 = 2·P·R/(P + R)."))
            parts.append(_per_class_table(y, pred, names))
            parts.append("<h2>Confusion matrix</h2>")
            parts.append(_img(plots.confusion_matrix(confusion_matrix(y, pred, len(names)), names, f"{label} set"),
                              "confusion matrix"))
            wrong = np.flatnonzero(pred != y)
            if data.image_shape is not None:
                parts.append(f"<h2>Misclassified {label} images</h2>")
                if wrong.size:
                    show = wrong[:32]
                    imgs = X[show].reshape(len(show), *data.image_shape)
                    caps = [f"{names[y[i]]}→{names[pred[i]]}" for i in show]
                    parts.append(_p(f"{wrong.size} of {len(y)} misclassified; the first {len(show)} shown, "
                                    f"captioned true→predicted."))
                    parts.append(_img(plots.image_grid(imgs, caps, f"misclassified ({label})"),
                                      "misclassified images"))
                else:
                    parts.append("<p>None: every image was classified correctly.</p>")
        else:
            parts.append(f"<h2>Fit on the {label} set</h2>")
            parts.append(_img(plots.regression_fit(y.astype(float), predictions[split].astype(float),
                                                   f"predicted against true ({label})"),
                              "predicted against true and residuals"))

    parts.extend(_weights_section(model, data))

    parts.append("<h2>Model</h2><pre>" + html.escape(model.summary()) + "</pre>")
    if getattr(model, "preprocessor", None) is not None:
        parts.append(_p(f"Inputs are standardised by a {type(model.preprocessor).__name__} stored in the "
                        f"model file."))
    loss = getattr(model, "loss", None)
    parts.append("<h2>Command</h2><pre>" + html.escape(info.get("command", "")) + "</pre>")
    for earlier in info.get("earlier_commands", []):
        parts.append(_p(f"Started earlier as: {earlier}"))
    parts.append("<h2>Configuration</h2>")
    parts.append(_table(facts.config_rows(config, task=data.task, loss_name=type(loss).__name__ if loss else None,
                                          monitor=monitor)))
    doc = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
           f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>\n"
           + "\n".join(parts) + "\n</body></html>\n")
    from axon.io.atomic import atomic_write_bytes

    path = Path(path)
    atomic_write_bytes(path, doc.encode("utf-8"))
    return path


__all__ = ["write_report", "first_layer_units", "first_conv_filters"]
