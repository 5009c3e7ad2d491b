"""The report's figures, each returned as PNG bytes (matplotlib's Agg canvas, no pyplot, no GUI).

Every figure is drawn for the page: :data:`WIDTH` inches wide at :data:`DPI` (about the width of
the report's column, so it is shown at its own size, neither shrunk nor blown up) with fonts of
:data:`FONT_SIZE` points. matplotlib is imported inside these functions only: making a report is the
one thing that needs it.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from axon.report.facts import Best

#: Figure width in inches: 960 pixels at :data:`DPI`, the report's column.
WIDTH = 9.6
#: Pixels per inch of the figures.
DPI = 100
#: Font size in points (17 pixels at DPI 100).
FONT_SIZE = 12
_RC: dict[Any, Any] = {"font.size": FONT_SIZE, "axes.titlesize": FONT_SIZE + 1, "axes.labelsize": FONT_SIZE,
       "legend.fontsize": FONT_SIZE - 1, "xtick.labelsize": FONT_SIZE - 1, "ytick.labelsize": FONT_SIZE - 1}


@contextlib.contextmanager
def _style() -> Iterator[None]:
    import matplotlib

    with matplotlib.rc_context(_RC):
        yield


def _figure(nrows: int = 1, ncols: int = 1, size: tuple[float, float] = (WIDTH, 4.0), **kwargs):
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **kwargs)
    return fig, axes


def to_png(fig, dpi: int = DPI) -> bytes:
    """Render a matplotlib Figure to PNG bytes with the Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def curves(history: dict[str, list[float]], keys: list[str], title: str, ylabel: str = "",
           log: bool = False, best: Best | None = None, best_note: str = "") -> bytes:
    """One line per key against the epoch (1-based): e.g. ``["loss", "val_loss"]``.

    With ``best``, a dashed vertical line marks the best epoch (its legend entry ends with
    ``best_note``, e.g. whether its weights were saved), and a dot marks the best value on its
    curve when that curve is drawn here.
    """
    from matplotlib.ticker import MaxNLocator

    with _style():
        fig, axes = _figure(size=(WIDTH, 3.9))
        ax = axes[0, 0]
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        for key in keys:
            values = np.asarray(history.get(key, []), dtype=float)
            if values.size:
                ax.plot(np.arange(1, values.size + 1), values, marker="." if values.size < 30 else None,
                        label=key.replace("grad_norm/", ""))
        if best is not None:
            note = f" ({best_note})" if best_note else ""
            ax.axvline(best.epoch, color="0.35", ls="--", lw=1.2, label=f"best {best.monitor}: epoch {best.epoch}{note}")
            if best.monitor in keys:
                ax.plot([best.epoch], [best.value], "o", color="black", ms=6, zorder=5)
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        if log:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend(loc="best")
        return to_png(fig)


def confusion_matrix(cm: np.ndarray, class_names: Sequence[str], title: str) -> bytes:
    """The k×k matrix of counts (row: true class, column: predicted class), numbers in the cells
    (from :func:`axon.metrics.confusion_matrix`)."""
    k = len(class_names)
    with _style():
        side = min(WIDTH * 0.75, max(4.5, 0.5 * k + 2.5))
        fig, axes = _figure(size=(side + 1.2, side))
        ax = axes[0, 0]
        im = ax.imshow(cm, cmap="Blues")
        fig.colorbar(im, ax=ax, shrink=0.8, label="samples")
        long_names = max(map(len, class_names)) > 2
        ax.set_xticks(range(k), class_names, rotation=45 if long_names else 0, ha="right" if long_names else "center")
        ax.set_yticks(range(k), class_names)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(title)
        if k <= 20:
            limit = cm.max() / 2
            for i in range(k):
                for j in range(k):
                    if cm[i, j]:
                        ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=FONT_SIZE - 2,
                                color="white" if cm[i, j] > limit else "black")
        return to_png(fig)


def _mosaic(images: np.ndarray, cols: int, caption_rows: int) -> tuple[np.ndarray, int, int]:
    """Tile (n, h, w) images into one array (NaN between tiles), ``caption_rows`` free pixels above
    each; returns (mosaic, rows, cols)."""
    n, h, w = images.shape
    cols = max(1, min(cols, n))
    rows = max(1, math.ceil(n / cols))
    pad = 1
    mosaic = np.full((rows * (h + caption_rows + pad), cols * (w + pad)), np.nan)
    for i in range(n):  # at most a few hundred tiles: a loop over tiles, not over pixels
        r, c = divmod(i, cols)
        y0 = r * (h + caption_rows + pad) + caption_rows
        mosaic[y0:y0 + h, c * (w + pad):c * (w + pad) + w] = images[i]
    return mosaic, rows, cols


def _mosaic_figure(mosaic: np.ndarray, max_tile_inches: float, tile_px: int, colorbar_room: float = 0.0):
    """A figure whose single axes shows ``mosaic`` at most WIDTH wide, tiles at most ``max_tile_inches``."""
    height_px, width_px = mosaic.shape
    scale = min(max_tile_inches / tile_px, (WIDTH - colorbar_room) / width_px)  # inches per mosaic pixel
    return _figure(size=(max(3.5, width_px * scale + colorbar_room), height_px * scale + 0.7))


def _grid(images: np.ndarray, captions: Sequence[str], title: str, cols: int, cmap: str, vmin: float,
          vmax: float, colorbar: str | None) -> bytes:
    """Draw (n, h, w) images as one mosaic (a single ``imshow``: one axes, not one per image, much
    faster to render) on the colour scale vmin..vmax, a caption over each, optionally a colour bar."""
    import matplotlib

    n, h, w = images.shape
    cap_h = (max(4, h // 2) if colorbar is None else max(3, h // 3)) if captions else 0
    mosaic, rows, cols = _mosaic(images.astype(float), cols, cap_h)
    with _style():
        fig, axes = _mosaic_figure(mosaic, 1.15 if colorbar is None else 1.0, max(h, w) + cap_h,
                                   colorbar_room=0.0 if colorbar is None else 1.3)
        ax = axes[0, 0]
        cm = matplotlib.colormaps[cmap].with_extremes(bad="white")
        im = ax.imshow(np.ma.masked_invalid(mosaic), cmap=cm, vmin=vmin, vmax=vmax, interpolation="nearest")
        if colorbar is not None:
            fig.colorbar(im, ax=ax, shrink=0.85, label=colorbar, fraction=0.05)
        for i, text in enumerate(captions[:n]):
            r, c = divmod(i, cols)
            ax.text(c * (w + 1) + w / 2 - 0.5, r * (h + cap_h + 1) + cap_h - 0.5, text, ha="center",
                    va="bottom", fontsize=FONT_SIZE - (2 if colorbar is None else 3))
        ax.set_axis_off()
        ax.set_title(title)
        return to_png(fig)


def image_grid(images: np.ndarray, captions: list[str], title: str, cols: int = 8, cmap: str = "gray_r") -> bytes:
    """Samples as a grid of 2-D images (n, h, w), each scaled to its own range (x − min)/(max − min),
    a caption over each (misclassified images: "true→predicted")."""
    n = len(images)
    lo = images.reshape(n, -1).min(axis=1)[:, None, None]
    hi = images.reshape(n, -1).max(axis=1)[:, None, None]
    scaled = np.where(hi > lo, (images - lo) / np.where(hi > lo, hi - lo, 1), 0.0)
    return _grid(scaled, captions, title, cols, cmap, 0.0, 1.0, colorbar=None)


def weight_grid(images: np.ndarray, title: str, vmax: float, cols: int = 16,
                captions: list[str] | None = None) -> bytes:
    """Weights as images (n, h, w) on one shared colour scale −vmax..vmax (red positive, blue
    negative, white 0; values beyond ±vmax saturate), with a colour bar; captions optional."""
    return _grid(images, captions or [], title, cols, "RdBu_r", -vmax, vmax, colorbar="weight")


def feature_weights(W: np.ndarray, names: Sequence[str], title: str, vmax: float) -> bytes:
    """A table's first Dense layer, one row per input feature: left, the size of the feature's
    weights ‖wᵢ‖ = √(Σⱼ wᵢⱼ²) as a bar; right, the weights wᵢⱼ to each unit j on a colour scale
    −vmax..vmax. ``W`` is (features, units), in the order to draw (top to bottom)."""
    n, units = W.shape
    with _style():
        fig, axes = _figure(1, 2, size=(WIDTH, max(3.0, 0.32 * n + 1.4)), sharey=True,
                            gridspec_kw={"width_ratios": [1, 2.4]})
        bars, heat = axes[0]
        norms = np.sqrt((W.astype(np.float64) ** 2).sum(axis=1))
        bars.barh(np.arange(n), norms, color="0.45")
        bars.set_yticks(range(n), names)
        bars.invert_xaxis()
        bars.set_xlabel("‖weights‖")
        bars.grid(axis="x", alpha=0.3)
        im = heat.imshow(W, cmap="RdBu_r", vmin=-vmax, vmax=vmax, aspect="auto", interpolation="nearest")
        heat.set_xlabel("unit of the first layer")
        heat.set_ylim(n - 0.5, -0.5)
        fig.colorbar(im, ax=heat, label="weight", shrink=0.9)
        fig.suptitle(title)
        return to_png(fig)


def regression_fit(y_true: np.ndarray, y_pred: np.ndarray, title: str) -> bytes:
    """Two panels: predicted against true (with the line y = x) and residuals against predicted."""
    with _style():
        fig, axes = _figure(1, 2, size=(WIDTH, 4.4))
        a, b = axes[0]
        a.scatter(y_true, y_pred, s=10, alpha=0.6)
        lo, hi = float(min(y_true.min(), y_pred.min())), float(max(y_true.max(), y_pred.max()))
        a.plot([lo, hi], [lo, hi], color="black", lw=1, label="y = x")
        a.set_xlabel("true")
        a.set_ylabel("predicted")
        a.set_title(title)
        a.legend()
        a.grid(alpha=0.3)
        resid = y_pred - y_true
        b.scatter(y_pred, resid, s=10, alpha=0.6)
        b.axhline(0.0, color="black", lw=1)
        b.set_xlabel("predicted")
        b.set_ylabel("residual (predicted − true)")
        b.set_title("residuals")
        b.grid(alpha=0.3)
        return to_png(fig)
