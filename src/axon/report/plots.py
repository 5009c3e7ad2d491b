"""The report's figures, each returned as PNG bytes (matplotlib's Agg canvas, no pyplot, no GUI).

matplotlib is imported inside these functions only: making a report is the one thing that needs it.
"""

from __future__ import annotations

import io
import math

import numpy as np


def _figure(nrows: int = 1, ncols: int = 1, size: tuple[float, float] = (6.0, 4.0)):
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def to_png(fig, dpi: int = 90) -> bytes:
    """Render a matplotlib Figure to PNG bytes with the Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def curves(history: dict[str, list[float]], keys: list[str], title: str, ylabel: str = "",
           log: bool = False) -> bytes:
    """One line per key against the epoch (1-based): e.g. ``["loss", "val_loss"]``."""
    fig, axes = _figure(size=(6.0, 3.6))
    ax = axes[0, 0]
    for key in keys:
        values = np.asarray(history.get(key, []), dtype=float)
        if values.size:
            ax.plot(np.arange(1, values.size + 1), values, marker="." if values.size < 30 else None,
                    label=key.replace("grad_norm/", ""))
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if log:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return to_png(fig)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, class_names: list[str], title: str) -> bytes:
    """The k×k matrix of counts (row: true class, column: predicted class), numbers in the cells."""
    k = len(class_names)
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (y_true.astype(np.intp), y_pred.astype(np.intp)), 1)
    size = max(4.0, 0.45 * k + 2)
    fig, axes = _figure(size=(size + 1, size))
    ax = axes[0, 0]
    im = ax.imshow(cm, cmap="Blues")
    fig.colorbar(im, ax=ax, shrink=0.8)
    ax.set_xticks(range(k), class_names, rotation=45 if max(map(len, class_names)) > 2 else 0,
                  ha="right" if max(map(len, class_names)) > 2 else "center")
    ax.set_yticks(range(k), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    if k <= 20:
        limit = cm.max() / 2
        for i in range(k):
            for j in range(k):
                if cm[i, j]:
                    ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=8,
                            color="white" if cm[i, j] > limit else "black")
    return to_png(fig)


def image_grid(images: np.ndarray, captions: list[str], title: str, cols: int = 8,
               cmap: str = "gray_r", symmetric: bool = False) -> bytes:
    """A grid of 2-D images with a caption over each (misclassified samples, weight maps).

    The images are tiled into one mosaic drawn by a single ``imshow`` (one axes, not one per
    image: much faster to render). ``symmetric`` scales each image to its own ±max|value| (weights).
    """
    n, h, w = images.shape
    rows = max(1, math.ceil(n / cols))
    cols = min(cols, n) or 1
    pad, top = 1, 4  # pixels between tiles; room for the caption (in image pixels, scaled below)
    cap_h = max(top, h // 2)
    mosaic = np.full((rows * (h + cap_h + pad), cols * (w + pad)), np.nan)
    for i in range(n):
        r, c = divmod(i, cols)
        img = images[i].astype(float)
        if symmetric:
            img = img / (float(np.max(np.abs(img))) or 1.0)
        else:
            lo, hi = float(img.min()), float(img.max())
            img = (img - lo) / (hi - lo) if hi > lo else img * 0
        y0 = r * (h + cap_h + pad) + cap_h
        x0 = c * (w + pad)
        mosaic[y0:y0 + h, x0:x0 + w] = img
    scale = 1.1 / max(h, w)
    fig, axes = _figure(size=(max(3.0, cols * (w + pad) * scale * 1.1), rows * (h + cap_h) * scale * 1.1 + 0.6))
    ax = axes[0, 0]
    import matplotlib

    cm = matplotlib.colormaps[cmap].with_extremes(bad="white")
    ax.imshow(np.ma.masked_invalid(mosaic), cmap=cm, vmin=-1 if symmetric else 0, vmax=1,
              interpolation="nearest")
    for i, text in enumerate(captions[:n]):
        r, c = divmod(i, cols)
        ax.text(c * (w + pad) + w / 2 - 0.5, r * (h + cap_h + pad) + cap_h - 1, text, ha="center",
                va="bottom", fontsize=7)
    ax.set_axis_off()
    ax.set_title(title, fontsize=10)
    return to_png(fig)


def regression_fit(y_true: np.ndarray, y_pred: np.ndarray, title: str) -> bytes:
    """Two panels: predicted against true (with the line y = x) and residuals against predicted."""
    fig, axes = _figure(1, 2, size=(9.0, 4.0))
    a, b = axes[0]
    a.scatter(y_true, y_pred, s=8, alpha=0.6)
    lo, hi = float(min(y_true.min(), y_pred.min())), float(max(y_true.max(), y_pred.max()))
    a.plot([lo, hi], [lo, hi], color="black", lw=1, label="y = x")
    a.set_xlabel("true")
    a.set_ylabel("predicted")
    a.set_title(title)
    a.legend(fontsize="small")
    a.grid(alpha=0.3)
    resid = y_pred - y_true
    b.scatter(y_pred, resid, s=8, alpha=0.6)
    b.axhline(0.0, color="black", lw=1)
    b.set_xlabel("predicted")
    b.set_ylabel("residual (predicted − true)")
    b.set_title("residuals")
    b.grid(alpha=0.3)
    return to_png(fig)
