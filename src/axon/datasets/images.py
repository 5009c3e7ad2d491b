"""Your own picture of a digit, made into the input a digits or MNIST model was trained on.

A model trained on MNIST or on the bundled 8×8 digits has only ever seen digits prepared in one
particular way; a photo or a drawing must be prepared the same way before the model can read it.
:func:`load_digit_image` does that in four steps:

1. **Grey levels** (:func:`read_grey`): the file (PNG or JPEG, any mode; EXIF rotation applied) as
   luminance in [0, 1], 0 black and 1 white. Transparent pixels are background.
2. **Ink** (:func:`ink_map`): 0 on the background, 1 on the strokes. The background is the median
   of the image's border: when it is light (dark ink on paper) the grey levels are inverted. The
   levels are then stretched so that the background is 0 and the darkest ink 1, and what stays
   below ``INK_THRESHOLD`` (paper texture, JPEG noise, shadows) is set to 0.
3. **Crop** to the bounding box of the ink.
4. **Resize and centre** as the training data was made:

   - MNIST (:func:`mnist_like`): "the images were size normalized to fit in a 20×20 pixel box
     while preserving their aspect ratio [...] and centered in a 28×28 image by computing the
     center of mass of the pixels" (LeCun, Cortes and Burges). The grey levels of the edges come
     from the anti-aliasing of the resize.
   - Fashion-MNIST (``box=28, centre="box"``): the longest side resized to 28, the other side
     padded, centred by its bounding box (Xiao, Rasul and Vollgraf).
   - the bundled 8×8 digits, UCI optdigits (:func:`optdigits_like`): "32×32 bitmaps are divided
     into nonoverlapping blocks of 4×4 and the number of on pixels are counted in each block",
     giving integers 0..16; the digits of that set fill the 32 rows and keep their aspect ratio.
     Here the ink (1 = on) is summed over each 4×4 block of the 32×32 picture and rounded, then
     divided by 16 as :func:`axon.datasets.load_digits` scales it.

Pillow reads the files and resizes (it is imported by the functions that need it, so
``import axon`` does not load it). The output is float32 in [0, 1], 0 the background, as the
loaders give: shape (28, 28) or (8, 8).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

#: File name endings read as images (case-insensitive).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
#: Ink below this fraction of the strongest ink is background (paper texture, noise, shadows).
INK_THRESHOLD = 0.2
#: How each data set's images were made: the size of the box the digit is fitted into, the size
#: of the picture, and how it is centred ("mass": centre of mass, "box": bounding box).
STYLES: dict[str, dict[str, Any]] = {
    "mnist": {"box": 20, "size": 28, "centre": "mass"},
    "fashion-mnist": {"box": 28, "size": 28, "centre": "box"},
    "digits": {"size": 8},
}
_MAX_SIDE = 1024  # larger pictures are first reduced to this (the result is at most 32 pixels)


def _pillow():
    try:
        from PIL import Image, ImageOps
    except ImportError as err:  # pragma: no cover - Pillow is a dependency of axon and of matplotlib
        raise ImportError("reading images needs Pillow: pip install pillow") from err
    return Image, ImageOps


def is_image_input(path: str | os.PathLike) -> bool:
    """True when ``path`` is a folder or ends in one of :data:`IMAGE_SUFFIXES` (need not exist)."""
    path = Path(path)
    return path.is_dir() or path.suffix.lower() in IMAGE_SUFFIXES


def image_files(path: str | os.PathLike) -> tuple[list[Path], list[Path]]:
    """The image files named by ``path``, and the files passed over.

    A file is returned as it is (whatever its ending: reading it says whether it is an image); a
    folder gives its files ending in :data:`IMAGE_SUFFIXES`, sorted by name (not its subfolders),
    and, as the second list, its other files. Raises ValueError when ``path`` does not exist or
    the folder holds no image.
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"INPUT: no such file or folder {str(path)!r}")
    if not path.is_dir():
        return [path], []
    files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    images = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
    if not images:
        raise ValueError(f"INPUT {path}: the folder holds no PNG or JPEG file ({len(files)} other files)")
    return images, [p for p in files if p not in images]


def read_grey(path: str | os.PathLike) -> np.ndarray:
    """The picture in ``path`` as grey levels: float64 array (H, W) in [0, 1], 0 black, 1 white.

    Luminance L = 0.299 R + 0.587 G + 0.114 B (Pillow's "L" conversion), after the EXIF
    orientation is applied (photos from phones). With an alpha channel, transparent pixels get
    the colour opposite to the drawing's (white under dark strokes, black under light ones), so
    they are background. Pictures larger than 1024 pixels are first reduced to that size.
    Raises ValueError when the file is not an image Pillow can read.
    """
    Image, ImageOps = _pillow()
    try:
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im)
            if max(im.size) > _MAX_SIDE:
                im.thumbnail((_MAX_SIDE, _MAX_SIDE))
            rgba = np.asarray(im.convert("RGBA"), dtype=np.float64) / 255.0
            grey = np.asarray(im.convert("L"), dtype=np.float64) / 255.0
    except (OSError, ValueError, Image.DecompressionBombError) as err:  # UnidentifiedImageError is an OSError
        raise ValueError(f"{path}: not a PNG or JPEG image that can be read ({err})") from None
    alpha = rgba[..., 3]
    if alpha.min() < 1.0:
        opaque = alpha > 0.5
        drawing = float(np.mean(grey[opaque])) if opaque.any() else 1.0
        under = 1.0 if drawing < 0.5 else 0.0
        grey = alpha * grey + (1.0 - alpha) * under
    return grey


def ink_map(grey: np.ndarray) -> np.ndarray:
    """How much ink each pixel holds: float64 (H, W) in [0, 1], 0 on the background.

    The background level is the median of the outermost pixels (the image's frame); when it is
    light, ink = 1 − grey, else ink = grey. Then ink ← clip((ink − background) / (max − background),
    0, 1), and values below :data:`INK_THRESHOLD` become 0. Raises ValueError when nothing stands
    out from the background (a blank picture).
    """
    grey = np.asarray(grey, dtype=np.float64)
    if grey.ndim != 2 or grey.size == 0:
        raise ValueError(f"expected a grey image of shape (H, W), got shape {grey.shape}")
    frame = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    light = float(np.median(frame)) > 0.5
    ink = 1.0 - grey if light else grey
    background = float(np.median(1.0 - frame if light else frame))
    top = float(ink.max())
    if top - background < 0.1:
        raise ValueError("no digit found: the picture is blank (one colour, or no ink that stands out "
                         "from the background)")
    ink = np.clip((ink - background) / (top - background), 0.0, 1.0)
    ink[ink < INK_THRESHOLD] = 0.0
    return ink


def crop_to_ink(ink: np.ndarray) -> np.ndarray:
    """The smallest rectangle of ``ink`` (H, W) that holds every non-zero pixel."""
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        raise ValueError("no digit found: the picture holds no ink")
    return ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def resize(a: np.ndarray, height: int, width: int) -> np.ndarray:
    """``a`` (H, W) float resized to (height, width) by Pillow: area averaging when shrinking
    (each new pixel the mean of the old pixels it covers: the anti-aliasing), bicubic when
    enlarging, clipped to [0, 1]."""
    Image, _ = _pillow()
    shrink = height <= a.shape[0] and width <= a.shape[1]
    method = Image.Resampling.BOX if shrink else Image.Resampling.BICUBIC
    im = Image.fromarray(np.ascontiguousarray(a, dtype=np.float32), mode="F")
    return np.clip(np.asarray(im.resize((width, height), method), dtype=np.float64), 0.0, 1.0)


def _fit(ink: np.ndarray, box: int) -> np.ndarray:
    """The cropped ink resized so that its longer side is ``box`` pixels, keeping the aspect ratio."""
    h, w = ink.shape
    f = box / max(h, w)
    return resize(ink, max(1, round(h * f)), max(1, round(w * f)))


def mnist_like(ink: np.ndarray, box: int = 20, size: int = 28, centre: str = "mass") -> np.ndarray:
    """The ink (H, W) as an MNIST picture: float32 (size, size) in [0, 1].

    Cropped to the ink, resized so that the longer side is ``box`` pixels (aspect ratio kept), and
    pasted into a size×size picture so that its centre of mass (Σ position·ink / Σ ink, pixel
    centres at i + 0.5) falls on the picture's centre, size/2 (``centre="mass"``, MNIST; the shift
    is rounded to whole pixels and kept inside the picture), or so that its bounding box is
    centred (``centre="box"``, Fashion-MNIST with ``box=28``).
    """
    if centre not in ("mass", "box"):
        raise ValueError(f"centre must be 'mass' or 'box', got {centre!r}")
    digit = _fit(crop_to_ink(ink), box)
    h, w = digit.shape
    if centre == "mass":
        total = float(digit.sum())
        cy = float(np.sum(digit.sum(axis=1) * (np.arange(h) + 0.5))) / total
        cx = float(np.sum(digit.sum(axis=0) * (np.arange(w) + 0.5))) / total
        top, left = round(size / 2 - cy), round(size / 2 - cx)
    else:
        top, left = (size - h) // 2, (size - w) // 2
    top, left = min(max(top, 0), size - h), min(max(left, 0), size - w)
    out = np.zeros((size, size), dtype=np.float32)
    out[top:top + h, left:left + w] = digit
    return out


def optdigits_like(ink: np.ndarray) -> np.ndarray:
    """The ink (H, W) as one of the bundled 8×8 digits: float32 (8, 8), values k/16, k in 0..16.

    Cropped to the ink, resized so that its longer side is 32 pixels (aspect ratio kept), centred
    in a 32×32 picture by its bounding box; then each 4×4 block's ink is summed (the number of
    "on" pixels for a black-and-white picture), rounded to a whole count and divided by 16.
    """
    digit = _fit(crop_to_ink(ink), 32)
    h, w = digit.shape
    canvas = np.zeros((32, 32))
    top, left = (32 - h) // 2, (32 - w) // 2
    canvas[top:top + h, left:left + w] = digit
    counts = np.rint(canvas.reshape(8, 4, 8, 4).sum(axis=(1, 3)))
    return (counts / 16.0).astype(np.float32)


def style_for(n_pixels: int, dataset: str | None = None) -> str:
    """The :data:`STYLES` key for a model: its data set when known ("digits", "mnist",
    "fashion-mnist"), else by its input size (64 pixels: "digits", 784: "mnist")."""
    if dataset in STYLES:
        if STYLES[dataset]["size"] ** 2 != n_pixels:
            raise ValueError(f"the model takes {n_pixels} inputs, not the {STYLES[dataset]['size'] ** 2} "
                             f"pixels of a {dataset} image")
        return str(dataset)
    if dataset is not None and dataset.startswith("csv:"):
        raise ValueError(f"the model was trained on the table {dataset[4:]}, not on images; give it a CSV "
                         f"file with the same columns")
    for name in ("digits", "mnist"):
        if STYLES[name]["size"] ** 2 == n_pixels:
            return name
    raise ValueError(f"the model takes {n_pixels} inputs; a picture can be given to a model of 8×8 (64) or "
                     f"28×28 (784) grey images, such as one trained with axon train --dataset digits or mnist")


def load_digit_image(path: str | os.PathLike, style: str = "mnist") -> np.ndarray:
    """Read a picture of one digit and prepare it as the data set ``style`` was prepared.

    Parameters
    ----------
    path : a PNG or JPEG file: dark ink on a light background or light on dark, one digit.
    style : "mnist" (28×28, 20×20 box, centre of mass), "fashion-mnist" (28×28, bounding box) or
        "digits" (the bundled 8×8 digits), see :data:`STYLES`.

    Returns
    -------
    numpy.ndarray
        float32, shape (28, 28) or (8, 8), values in [0, 1] with 0 the background, the scale of
        :func:`axon.datasets.load_mnist` and :func:`axon.datasets.load_digits`. Flatten it (or
        reshape to (1, 1, H, W)) for the model.

    Raises
    ------
    ValueError
        Not an image, or a blank one.
    """
    if style not in STYLES:
        raise ValueError(f"style must be one of {', '.join(STYLES)}, got {style!r}")
    grey = read_grey(path)
    try:
        ink = ink_map(grey)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
    return prepare_ink(ink, style)


def prepare_ink(ink: np.ndarray, style: str) -> np.ndarray:
    """An ink map (H, W) in [0, 1] (a picture after :func:`ink_map`, or a digit drawn on a canvas)
    as the data set ``style`` made its images (steps 3 and 4 above): float32 (28, 28) or (8, 8)."""
    if style == "digits":
        return optdigits_like(ink)
    s = STYLES[style]
    return mnist_like(ink, box=s["box"], size=s["size"], centre=s["centre"])


__all__ = ["IMAGE_SUFFIXES", "INK_THRESHOLD", "STYLES", "crop_to_ink", "image_files", "ink_map",
           "is_image_input", "load_digit_image", "mnist_like", "optdigits_like", "prepare_ink", "read_grey",
           "resize", "style_for"]
