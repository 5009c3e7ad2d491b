"""Looking inside a trained model: one input, every layer's activations and δ, units switched off.

:func:`analyse` runs :func:`axon.trace` (one forward and one backward pass that changes nothing) on
one sample with a chosen label, so the page shows backpropagation on one example: each layer's
output a (for a Dense layer z = a·W + b) and its δ = ∂C/∂(layer output), from the loss at the top
down to the first layer. Switching units off puts a :class:`UnitMask` after a layer (its output
times a 0/1 mask per unit: a feature of a Dense output, a channel of a convolution) in a copy of
the layer list, so the original model is never changed.

A drawn digit comes as a grey grid from the page's canvas (ink 1, paper 0); :func:`digit_image`
turns it into the model's input the way the data sets were made: the UCI digits fill their 8×8
box, MNIST digits fit a 20×20 box centred by their centre of mass in 28×28.
"""

from __future__ import annotations

import base64
import math
import threading
from pathlib import Path
from typing import Any

import numpy as np

from axon.layers.base import Layer
from axon.studio import path_id

#: Activation layers, whose units can be switched off.
SWITCHABLE = ("ReLU", "LeakyReLU", "Tanh", "Sigmoid", "Identity")
#: Largest drawing grid the page may send (side).
MAX_CANVAS = 128


class UnitMask(Layer):
    """y = x ⊙ m: the units where m = 0 are off (their output and their δ are 0). Any shape (n, k, ...)."""

    def __init__(self, mask: np.ndarray, name: str | None = None) -> None:
        super().__init__(name)
        self.mask = mask

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        return x * self.mask.astype(x.dtype, copy=False)

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        return grad_y * self.mask.astype(grad_y.dtype, copy=False)


# -- pictures -------------------------------------------------------------------------------------
def digit_image(pixels: Any, height: int, width: int, *, centre: bool = True) -> np.ndarray:
    """A drawing (a square grid of ink values in [0, 1]) as an (height, width) image in [0, 1].

    ``centre=True`` (a drawn digit): prepared as the model's data set made its images
    (:func:`axon.datasets.images.prepare_ink`: cropped to the ink and fitted into MNIST's 20×20
    box, centred by mass, or counted in 4×4 blocks as the 8×8 UCI digits). ``centre=False`` (a
    picture): the whole grid averaged down to the image size.
    Raises ValueError for a grid that is not square, too large, or not numbers in [0, 1].
    """
    try:
        grid = np.asarray(pixels, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("pixels: expected a square grid of numbers in [0, 1]") from None
    if grid.ndim != 2 or grid.shape[0] != grid.shape[1] or not 2 <= grid.shape[0] <= MAX_CANVAS:
        raise ValueError(f"pixels: expected a square grid of side 2..{MAX_CANVAS}, got shape {grid.shape}")
    if not np.isfinite(grid).all() or grid.min() < 0 or grid.max() > 1:
        raise ValueError("pixels: every value must be a number in [0, 1] (ink 1, paper 0)")
    from axon.datasets import images

    if not centre or grid.max() == 0:
        return images.resize(grid, height, width)
    if height != width:
        raise ValueError(f"a drawn digit needs a square image model, not {height}×{width}")
    return images.prepare_ink(grid, images.style_for(height * width)).astype(np.float64)


def _b64(values: np.ndarray) -> tuple[str, float]:
    """Values as signed bytes scaled by their largest magnitude, base64; returns (text, scale)."""
    v = np.nan_to_num(np.asarray(values, dtype=np.float64))
    scale = float(np.max(np.abs(v))) if v.size else 0.0
    q = np.rint(v / scale * 127) if scale > 0 else np.zeros_like(v)
    return base64.b64encode(q.astype(np.int8).tobytes()).decode("ascii"), scale


# -- one model --------------------------------------------------------------------------------------
class Inspected:
    """A loaded model and what the page needs to feed it: image or table, classes, its layers.

    Parameters
    ----------
    model : a Sequential (``ax.load`` of a model file).
    info : the ``run.json`` next to the file, or None.
    name : how the page names it.
    """

    def __init__(self, model, info: dict[str, Any] | None, name: str) -> None:
        from axon.cli.common import n_outputs, task_of

        self.model, self.info, self.name = model, info or {}, name
        self.lock = threading.Lock()  # a trace uses the layers' caches: one at a time
        self._description: dict[str, Any] | None = None
        self.input_shape = model.infer_input_shape()
        self.task = task_of(model, info)
        self.n_outputs = n_outputs(model) or 1
        names = self.info.get("class_names")
        self.class_names = [str(c) for c in names] if isinstance(names, list) and \
            len(names) == self.n_outputs else [str(k) for k in range(self.n_outputs)]
        self.image = self._image_shape()
        from axon.losses import MSE, SoftmaxCrossEntropy
        self.loss = model.loss if getattr(model, "loss", None) is not None else (
            SoftmaxCrossEntropy() if self.task == "classification" and self.n_outputs > 1 else MSE())

    def _image_shape(self) -> tuple[int, int, int] | None:
        """(channels, height, width) when the model takes images, else None."""
        shape = self.input_shape
        if shape is None:
            return None
        if len(shape) == 3:
            return (int(shape[0]), int(shape[1]), int(shape[2]))
        if len(shape) == 1:
            img = self.info.get("image_shape")
            if isinstance(img, list) and len(img) == 2 and img[0] * img[1] == shape[0]:
                return (1, int(img[0]), int(img[1]))
            side = math.isqrt(shape[0])
            if side * side == shape[0] and side >= 8 and not self.info.get("feature_names"):
                return (1, side, side)
        return None

    def describe(self) -> dict[str, Any]:
        """The model for the page: name, task, classes, input (image size or feature names), layers.

        Built once per loaded model (the page asks with every analysis; the summary is not cheap).
        """
        if self._description is None:
            self._description = self._describe()
        return self._description

    def _describe(self) -> dict[str, Any]:
        layers = []
        shape = self.input_shape
        for layer in self.model.layers:
            if shape is not None:
                try:
                    shape = tuple(layer.output_shape(shape))
                except (ValueError, TypeError):
                    shape = None
            kind = type(layer).__name__
            units = None
            if kind in SWITCHABLE and shape is not None:
                units = int(shape[0])
            layers.append({"name": layer.name, "kind": kind, "shape": list(shape) if shape else None,
                           "units": units})
        features = self.info.get("feature_names")
        n_in = None if self.input_shape is None else int(np.prod(self.input_shape))
        return {"name": self.name, "task": self.task, "classes": self.class_names,
                "image": list(self.image) if self.image else None,
                "features": features if isinstance(features, list) else None, "n_inputs": n_in,
                "layers": layers, "summary": self.model.summary(self.input_shape)}

    def sample(self, request: dict[str, Any]) -> np.ndarray:
        """One input sample (1, *input_shape) from the page: ``pixels`` (a drawing) or ``inputs`` (numbers)."""
        if self.image is not None and request.get("pixels") is not None:
            c, h, w = self.image
            img = digit_image(request["pixels"], h, w, centre=request.get("mode", "digit") == "digit")
            x = np.repeat(img[None], c, axis=0)
        elif request.get("inputs") is not None:
            try:
                x = np.asarray(request["inputs"], dtype=np.float64).ravel()
            except (TypeError, ValueError):
                raise ValueError("inputs: expected a list of numbers") from None
            if self.input_shape is not None and x.size != int(np.prod(self.input_shape)):
                raise ValueError(f"inputs: the model takes {int(np.prod(self.input_shape))} numbers, got {x.size}")
            if not np.isfinite(x).all():
                raise ValueError("inputs: every input must be a finite number")
        else:
            raise ValueError("send pixels (a drawing) for an image model, or inputs (numbers) for a table model")
        shape = self.input_shape or (x.size,)
        return x.reshape((1, *shape)).astype(self.model.dtype)

    def analyse(self, request: dict[str, Any]) -> dict[str, Any]:
        """Prediction, probabilities, every layer's output and δ for one sample, with units switched off.

        ``request``: ``pixels`` or ``inputs`` (see :meth:`sample`), ``off`` ``{layer name: [unit, ...]}``,
        ``label`` (the class whose loss is backpropagated; default the predicted class) or ``target``
        (regression).
        """
        from axon.explain import trace
        from axon.model import Sequential

        x = self.sample(request)
        off = request.get("off") or {}
        if not isinstance(off, dict):
            raise ValueError("off: expected {layer name: [unit numbers]}")
        by_name = {layer.name: layer for layer in self.model.layers}
        layers: list[Layer] = []
        masks: dict[str, UnitMask] = {}
        desc = {d["name"]: d for d in self.describe()["layers"]}
        for layer in self.model.layers:
            layers.append(layer)
            units = off.get(layer.name)
            if units:
                d = desc[layer.name]
                if d["units"] is None:
                    raise ValueError(f"off: units of {layer.name} ({d['kind']}) cannot be switched off; "
                                     f"choose an activation layer")
                mask = np.ones(d["units"])
                for u in units:
                    if isinstance(u, bool) or not isinstance(u, int) or not 0 <= u < d["units"]:
                        raise ValueError(f"off: {layer.name} has units 0..{d['units'] - 1}, got {u!r}")
                    mask[u] = 0.0
                shape = (1, d["units"]) + (1,) * (len(d["shape"]) - 1)
                masks[layer.name] = UnitMask(mask.reshape(shape), name=f"mask_{layer.name}")
                layers.append(masks[layer.name])
        unknown = sorted(set(off) - set(by_name))
        if unknown:
            raise ValueError(f"off: no layer named {unknown[0]!r}")
        copy = Sequential(*layers, input_shape=self.input_shape)
        copy.preprocessor = getattr(self.model, "preprocessor", None)
        classify = self.task == "classification" and self.n_outputs > 1
        with self.lock:
            if classify:
                label = request.get("label")
                if label is None:  # the predicted class: one forward pass to know it before the trace
                    label = int(np.argmax(copy.forward(x, training=False)[0]))
                if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < self.n_outputs:
                    raise ValueError(f"label: choose a class 0..{self.n_outputs - 1}, got {label!r}")
                y = np.array([label])
            else:
                label = None
                target = request.get("target", 0.0)
                try:
                    target = float(target)
                except (TypeError, ValueError):
                    raise ValueError(f"target: expected a number, got {target!r}") from None
                y = np.full((1, self.n_outputs), target)
            t = trace(copy, self.loss, x, y)  # applies the preprocessor once, as forward does
        z = t[-1].output
        probs = np.asarray(self.loss.link(z)[0], dtype=np.float64)
        pred = int(np.argmax(probs)) if classify else None
        records = {r.name: r for r in t}
        out = []
        for layer in self.model.layers:
            r = records[layer.name]
            shown = records[masks[layer.name].name] if layer.name in masks else r
            values, scale = _b64(shown.output[0])
            delta, dscale = _b64(r.grad_output[0] if layer.name not in masks else shown.grad_input[0])
            out.append({"name": layer.name, "kind": type(layer).__name__, "shape": list(r.output.shape[1:]),
                        "values": values, "scale": scale, "delta": delta, "delta_scale": dscale,
                        "off": sorted(int(u) for u in off.get(layer.name, []))})
        image = None
        if self.image is not None:
            image = np.round(np.asarray(x[0]).reshape(self.image)[0], 3).tolist()
        return {"prediction": pred, "label": label, "probabilities": np.round(probs, 5).tolist(),
                "classes": self.class_names if pred is not None else None, "loss": float(t.loss),
                "layers": out, "input_image": image}


# -- the models the page can open ---------------------------------------------------------------------
class ModelShelf:
    """Model files the look-inside page can open: ``runs/*/model.axon`` and files uploaded from the page."""

    def __init__(self, runs_dir: Path, upload_dir: Path) -> None:
        self.runs_dir, self.upload_dir = Path(runs_dir), Path(upload_dir)
        self._open: dict[str, Inspected] = {}
        self._paths: dict[str, tuple[Path, str]] = {}
        self._stamps: dict[str, int | None] = {}
        self._lock = threading.Lock()

    def list(self) -> list[dict[str, Any]]:
        """The model files found now, newest first: ``{"id", "name", "dataset"}``."""
        from axon.runs import MODEL_FILE, find_run_info

        found = []
        candidates = sorted(self.runs_dir.glob(f"*/{MODEL_FILE}"), key=lambda p: p.stat().st_mtime, reverse=True) \
            if self.runs_dir.is_dir() else []
        for path in candidates:
            info = find_run_info(path) or {}
            found.append((path, path.parent.name, info.get("dataset")))
        with self._lock:
            for path, name in self._paths.values():
                if path.parent == self.upload_dir:
                    found.append((path, name, None))
            out = []
            for path, name, dataset in found:
                mid = path_id(path)
                self._paths.setdefault(mid, (path, name))
                out.append({"id": mid, "name": name, "dataset": dataset})
        return out

    def add_upload(self, path: Path, name: str) -> dict[str, Any]:
        """Open an uploaded model file (ValueError with the reason if it is not one)."""
        import axon as ax

        model = ax.load(path)  # never unpickles, never runs code: a bad file is a ModelFileError
        mid = path_id(path)
        with self._lock:
            self._paths[mid] = (path, name)
            self._open[mid] = Inspected(model, None, name)
            self._stamps[mid] = path.stat().st_mtime_ns
        return {"id": mid, "name": name}

    def open(self, mid: str) -> Inspected:
        """The model ``mid`` (loaded on first use, again when its file changed); KeyError if unknown."""
        import axon as ax
        from axon.runs import find_run_info

        with self._lock:
            known = mid in self._paths
        if not known:
            self.list()
        with self._lock:
            if mid not in self._paths:
                raise KeyError(mid)
            path, name = self._paths[mid]
            cached = self._open.get(mid)
        stamp = path.stat().st_mtime_ns if path.exists() else None
        if cached is not None and (stamp is None or self._stamps.get(mid) == stamp):
            return cached
        inspected = Inspected(ax.load(path), find_run_info(path), name)
        with self._lock:
            self._open[mid] = inspected
            self._stamps[mid] = stamp
        return inspected
