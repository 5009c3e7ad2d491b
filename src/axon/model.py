"""Sequential: a model is a chain of layers, y = fᴸ(… f²(f¹(x)))."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from axon import backend
from axon._config import get_default_dtype, resolve_dtype
from axon.layers.base import Layer, forward_layers
from axon.parameter import Parameter

if TYPE_CHECKING:
    from axon.callbacks import Callback
    from axon.losses import Loss
    from axon.optim.base import Optimizer
    from axon.preprocessing import Standardizer
    from axon.training import History


class Sequential:
    """A stack of layers applied in order; backward runs them in reverse (backpropagation).

    ``model(x)`` is ``model.forward(x)``. Layers without an explicit name are named by type and
    position among layers of that type: ``dense_1``, ``relu_1``, ``dense_2``, …, so parameter names
    (``"dense_1.weight"``) are stable between runs and in model files.

    ``model.preprocessor`` (e.g. an :class:`axon.preprocessing.Standardizer`, saved with the
    model) is the first step of :meth:`forward` and the last of :meth:`backward`, so ``fit``,
    ``evaluate``, ``predict``, :func:`axon.trace`, :func:`axon.gradcheck` and ONNX export all take
    raw inputs.

    The Keras-style ``compile``/``fit``/``evaluate``/``predict`` are implemented in
    :mod:`axon.training`; PyTorch's ``train()``/``eval()``/``state_dict()`` work as there.
    """

    def __init__(self, *layers: Layer, input_shape: tuple[int, ...] | None = None) -> None:
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        for i, layer in enumerate(layers):
            _check_layer(layer, f"item {i}")
        self.layers: list[Layer] = list(layers)
        self.input_shape = tuple(input_shape) if input_shape is not None else None
        self.loss: Loss | None = None
        self.optimizer: Optimizer | None = None
        self.metrics: list[str | Callable] = []
        self.preprocessor: Standardizer | None = None
        self.stop_training = False
        #: The mode ``model(x)`` runs in when ``training`` is not given: set by train() / eval().
        self.training = False
        self._dtype: np.dtype | None = None  # set by to_dtype; matters only for a model without parameters
        self._device = backend.CPU  # set by to; matters only for a model without parameters
        self._name_layers()

    def _name_layers(self) -> None:
        counts: dict[str, int] = {}
        for layer in self.layers:
            base = type(layer).__name__.lower()
            counts[base] = counts.get(base, 0) + 1
            if layer.name == base:  # not named by the user
                layer.name = f"{base}_{counts[base]}"

    def add(self, layer: Layer) -> Sequential:
        """Append ``layer`` (named as the constructor names layers); returns the model, as Keras."""
        _check_layer(layer, "add()")
        self.layers.append(layer)
        self._name_layers()
        return self

    # -- the textbook interface ------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool | None = None, mask: np.ndarray | None = None
                ) -> np.ndarray:
        """Feed a batch through every layer: aˡ = fˡ(aˡ⁻¹). Shape (n, …) in, (n, …) out.

        Raw input goes through :meth:`prepare` first (the preprocessor, the parameters' dtype;
        token ids for an Embedding stay integers). ``training`` turns on dropout and batch
        statistics; None means the mode set by :meth:`train` / :meth:`eval` (inference unless
        ``train()`` was called). ``mask`` (n, T), True at the real steps of padded sequences,
        travels with the data from layer to layer, as does the mask an Embedding with
        ``padding_idx`` makes (see :mod:`axon.layers.base`).
        """
        return self.forward_prepared(self.prepare(x), training, mask)

    __call__ = forward

    def forward_prepared(self, x: np.ndarray, training: bool | None = None, mask: np.ndarray | None = None
                         ) -> np.ndarray:
        """:meth:`forward` without :meth:`prepare`: ``x`` is what ``prepare`` returned.

        For a loop that prepares its data once and then draws batches from it (``fit``: the
        preprocessor, the dtype cast and the move to the device once per fit, not once per
        batch and epoch). ``training`` and ``mask`` as in :meth:`forward`.
        """
        if training is None:
            training = self.training
        if mask is not None or (self.layers and self.layers[0].integer_input):
            if mask is not None:
                mask = backend.to_device_of(mask, x)
            return forward_layers(self.layers, x, training, mask)
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    def prepare(self, x: Any) -> np.ndarray:
        """Raw input as the first layer takes it: on the model's device, ``model.preprocessor``
        applied, in the model's dtype (integer ids stay integers when the first layer reads them:
        an Embedding).

        The one place where the preprocessor is applied; :meth:`forward` starts with it, ``fit``
        applies it once to its training and validation data (then :meth:`forward_prepared` per
        batch) and :func:`axon.trace` records the first layer's input from it.
        """
        if type(x) is not np.ndarray or backend.gpu_loaded():  # (a NumPy batch without CuPy: as it is)
            x = backend.to_device(x, self.device)
        if self.preprocessor is not None:
            x = self.preprocessor.transform(x)
        if x.dtype.kind in "iu" and self.layers and self.layers[0].integer_input:
            return x
        dtype = self.dtype
        return x if x.dtype == dtype else x.astype(dtype)

    def backward(self, grad: np.ndarray, input_grad: bool = False) -> np.ndarray | None:
        """Backpropagate ∂C/∂output through the layers in reverse: δᴸ → δᴸ⁻¹ → … → δ¹.

        Each layer adds its parameters' gradients (BP3, BP4) into ``.grad`` (call
        :meth:`zero_grad` first); that is all learning needs. ``input_grad=True`` also returns
        ∂C/∂input, one product δ¹·W¹ᵀ more, with respect to the raw input (through the
        preprocessor, when set), as gradient checks and saliency maps need it. By default (None
        returned) the layers before the first one with parameters are skipped and that one does not
        compute its input gradient, as PyTorch skips what no tensor requires: for the MNIST MLP
        784-256-128-10, 29% of a step's floating-point work.
        """
        if input_grad:
            for layer in reversed(self.layers):
                grad = layer.backward(grad)
            return grad if self.preprocessor is None else self.preprocessor.backward(grad)
        layers, first = self.layers, 0
        while first < len(layers) and not layers[first].parameters():  # (a plain loop: asked every step)
            first += 1
        for layer in reversed(layers[first + 1:]):
            grad = layer.backward(grad)
        if first < len(layers):
            layers[first].backward_params(grad)
        return None

    def parameters(self) -> list[Parameter]:
        """Every parameter of every layer, in layer order, then insertion order."""
        return [p for layer in self.layers for p in layer.parameters()]

    def named_parameters(self) -> dict[str, Parameter]:
        """``{"dense_1.weight": Parameter, ...}`` in order."""
        return {p.name: p for p in self.parameters()}

    def random_layers(self) -> list[Layer]:
        """The layers whose training pass draws random numbers (``layer.stochastic``), in order,
        those inside wrappers (a Residual block's Dropout) included."""
        def walk(layers: Iterable[Layer]) -> Iterator[Layer]:
            for layer in layers:
                if layer.stochastic:
                    yield layer
                yield from walk(sub for _, sub in layer.sublayers())
        return list(walk(self.layers))

    def count_params(self) -> int:
        """The number of parameter values (weights and biases, frozen ones included), as Keras."""
        return sum(p.size for p in self.parameters())

    def zero_grad(self) -> None:
        """Reset all parameter gradients to zero."""
        for layer in self.layers:
            layer.zero_grad()

    def penalty(self) -> float:
        """Sum of the layers' regularisation terms (L1/L2), added to the reported loss."""
        return float(sum(layer.penalty() for layer in self.layers))

    def train(self, mode: bool = True) -> Sequential:
        """Make ``model(x)`` run in training mode (dropout on, batch statistics), as PyTorch; returns self."""
        self.training = bool(mode)
        return self

    def eval(self) -> Sequential:
        """Make ``model(x)`` run in inference mode (the default), as PyTorch; returns self."""
        return self.train(False)

    # -- weights as plain data -------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and buffer by name, as PyTorch's ``state_dict``.

        Keys are parameter names (``"dense_1.weight"``) and ``"<layer>.<buffer>"``
        (``"batchnorm2d_1.running_mean"``), in layer order; values are NumPy copies (from the GPU
        too), so training on does not change a state taken earlier.
        """
        state = {p.name: backend.host_copy(p.data) for p in self.parameters()}
        for layer in self.layers:
            for key, value in layer.buffers().items():
                state[f"{layer.name}.{key}"] = backend.host_copy(value)
        return state

    def load_state_dict(self, state: dict[str, np.ndarray], strict: bool = True) -> None:
        """Copy the arrays of ``state`` (from :meth:`state_dict`) into the parameters and buffers.

        Every array must have its parameter's shape; values are cast to the model's dtype and put
        on its device.
        ``strict`` (default): the keys must be exactly the model's. Checks everything before
        changing anything, so a mismatch raises ValueError with the model unchanged.
        """
        params = self.named_parameters()
        buffers = {f"{layer.name}.{key}": (layer, key, value)
                   for layer in self.layers for key, value in layer.buffers().items()}
        known = params.keys() | buffers.keys()
        if strict:
            missing, unexpected = sorted(known - state.keys()), sorted(state.keys() - known)
            if missing or unexpected:
                raise ValueError(f"load_state_dict: missing keys {missing[:5]}, unexpected keys "
                                 f"{unexpected[:5]}; pass strict=False to load only the keys that match")
        arrays = {}
        for key, value in state.items():
            if key not in known:
                continue
            value = value if backend.on_gpu(value) else np.asarray(value)
            expected = params[key].shape if key in params else np.shape(buffers[key][2])
            if value.shape != tuple(expected):
                raise ValueError(f"load_state_dict: {key!r} has shape {value.shape}, the model's is "
                                 f"{tuple(expected)}")
            if value.dtype.kind not in "fiu":
                raise ValueError(f"load_state_dict: {key!r} holds {value.dtype}, not numbers")
            arrays[key] = value
        for key, value in arrays.items():
            if key in params:
                data = params[key].data
                np.copyto(data, backend.to_device(value, backend.device_of(data)), casting="unsafe")
            else:
                layer, name, _ = buffers[key]
                layer.set_buffer(name, backend.to_device(value.astype(self.dtype), self.device))

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the parameters (the default dtype for a model without parameters)."""
        for layer in self.layers:  # the first parameter, without listing them all (forward asks every batch)
            for p in layer.parameters():
                return p.data.dtype
        if self._dtype is not None:
            return self._dtype
        return get_default_dtype()

    @property
    def device(self) -> str:
        """Where the parameters are: "cpu" (NumPy arrays) or "cuda" (CuPy arrays, see :meth:`to`)."""
        for layer in self.layers:  # the first parameter, without listing them all (forward asks every batch)
            for p in layer.parameters():
                return backend.device_of(p.data)
        return self._device

    def to(self, device: str) -> Sequential:
        """Move the model to ``device``, "cpu" or "cuda" (an NVIDIA GPU through CuPy); returns self.

        Parameters, their gradients, buffers (BatchNorm's running statistics) and the optimizer's
        state move; the same layer code then runs on the device's arrays (:mod:`axon.backend`).
        :meth:`predict` still returns NumPy arrays, and model files and checkpoints are written
        from host copies in the same format, so a GPU-trained file loads on a CPU-only machine.
        Raises :class:`axon.backend.DeviceError` (a ValueError) when CuPy or a GPU is missing.
        """
        device = backend.check_device(device)
        for layer in self.layers:
            layer.to_device(device)
        if self.optimizer is not None:
            self.optimizer.to_device(device)
        self._device = device
        return self

    def to_dtype(self, dtype: str | type | np.dtype) -> Sequential:
        """Convert every parameter and buffer to ``dtype`` ("float32" or "float64"); returns self."""
        dt = resolve_dtype(dtype)
        self._dtype = dt
        for layer in self.layers:
            layer.to_dtype(dt)
        return self

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i: int) -> Layer:
        return self.layers[i]

    # -- description -----------------------------------------------------------------
    def infer_input_shape(self) -> tuple[int, ...] | None:
        """One sample's input shape: ``input_shape`` when set, else ``(in_features,)`` of a first Dense.

        None when it cannot be told (e.g. a CNN built without ``input_shape``).
        """
        if self.input_shape is not None:
            return self.input_shape
        for layer in self.layers:
            in_features = getattr(layer, "in_features", None)
            if in_features is not None:
                return (int(in_features),)
            if layer.parameters():
                return None
        return None

    def summary(self, input_shape: tuple[int, ...] | None = None) -> str:
        """A table of layer, output shape (per sample) and parameter count, with the total.

        ``input_shape`` is one sample's shape, e.g. ``(1, 8, 8)``; it is inferred when the first
        layer with parameters is a Dense layer.
        """
        shape = tuple(input_shape) if input_shape is not None else self.infer_input_shape()
        rows = [("Layer (type)", "Output shape", "Params")]
        total = trainable = 0
        for layer in self.layers:
            if shape is not None:
                shape = layer.output_shape(shape)
            count = sum(p.size for p in layer.parameters())
            total += count
            trainable += sum(p.size for p in layer.parameters() if p.trainable)
            shown = "(n, " + ", ".join(map(str, shape)) + ")" if shape is not None else "?"
            rows.append((f"{layer.name} ({type(layer).__name__})", shown, f"{count:,}"))
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        line = "-" * (sum(widths) + 6)

        def fmt(r: tuple[str, str, str]) -> str:
            return f"{r[0]:<{widths[0]}}   {r[1]:<{widths[1]}}   {r[2]:>{widths[2]}}"

        out = [fmt(rows[0]), line, *(fmt(r) for r in rows[1:]), line,
               f"Total params: {total:,}   Trainable: {trainable:,}   dtype: {self.dtype.name}"]
        return "\n".join(out)

    def get_config(self) -> dict[str, Any]:
        """The architecture as JSON-serialisable data: layer types, names and constructor arguments."""
        return {"layers": [{"type": type(layer).__name__, "name": layer.name,
                            "config": layer.get_config()} for layer in self.layers],
                "input_shape": list(self.input_shape) if self.input_shape is not None else None}

    def __repr__(self) -> str:
        inner = ",\n".join(f"  {layer!r}" for layer in self.layers)
        return f"Sequential(\n{inner}\n)"

    # -- files -------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Save to one safe file, as :func:`axon.save` (``model.save(p)`` = ``ax.save(model, p)``)."""
        from axon.io.model_file import save
        save(self, path)

    # -- the Keras-style interface (implemented in axon.training) --------------------------
    def compile(self, loss: str | Loss | type, optimizer: str | Optimizer | type | None = None,
                metrics: Sequence[str | Callable] | str | Callable | None = None) -> None:
        """Attach a loss, an optimizer (bound to this model's parameters) and metrics.

        Parameters
        ----------
        loss : a Loss instance, class or name: "cross_entropy" (softmax + log-likelihood, from
            logits; Keras' "categorical_crossentropy" and "sparse_categorical_crossentropy"),
            "mse" ("mean_squared_error"), "quadratic", "bce" ("binary_crossentropy"),
            "cross_entropy_cost" (Nielsen's cross-entropy cost, summed over the outputs).
        optimizer : an Optimizer instance (created with or without ``model.parameters()``), a
            class, or a name ("sgd", "adam", "adamw", "rmsprop", "adagrad"); default ``SGD(lr=0.01)``.
        metrics : names ("accuracy", "top_5_accuracy", "mse", "mae") or callables
            ``metric(y_pred, y_true) -> float``.
        """
        _training().compile(self, loss, optimizer, metrics)

    def fit(self, X: Any, y: Any, *, epochs: int = 1, batch_size: int = 32,
            validation_data: tuple[Any, Any] | None = None, validation_split: float = 0.0,
            callbacks: Iterable[Callback] | None = None, shuffle: bool = True, seed: int | None = None,
            verbose: int = 1, resume_from: str | os.PathLike | None = None, device: str | None = None
            ) -> History:
        """Train on (X, y) with minibatch gradient descent; returns a :class:`axon.training.History`.

        Each step is the course's explicit loop: ``out = forward(xb, training=True)``, loss
        (+ penalties), ``zero_grad()``, ``backward(loss.backward())``, ``optimizer.step()``.

        Parameters
        ----------
        X : inputs (n, features) or images (n, c, h, w), raw (``model.preprocessor`` is applied).
        y : targets: class indices (n,) or one-hot (n, k) for SoftmaxCrossEntropy, values otherwise.
        epochs : the total number of passes over the training data (>= 1).
        batch_size : samples per gradient step (>= 1); the last batch of an epoch may be smaller.
        validation_data : (X_val, y_val), evaluated after every epoch (``val_loss``, ``val_<metric>``).
        validation_split : instead, hold out this last fraction of (X, y), as Keras: the split is
            taken before any shuffling, so sort-ordered data should be shuffled first.
        callbacks : :class:`axon.callbacks.Callback` objects (EarlyStopping, ModelCheckpoint, ...).
        shuffle : a new permutation of the samples every epoch (indices only; each batch is one gather).
        seed : an int >= 0 that fixes this run's shuffling and dropout masks (bit-identical on the
            same machine); None draws them from axon's generator. Not a numpy Generator (which
            other ``seed`` arguments take): its state moves on as it is used, so the same generator
            would not give the same run twice. The initial weights come from where the layers
            were built: call ``ax.set_seed(s)`` before building the model to fix those too.
        verbose : 0 silent, 1 progress bar (closing lines only when output is not a terminal),
            2 one line per epoch.
        resume_from : a checkpoint written by ModelCheckpoint: continue exactly where it stopped
            (same data, batch_size and callbacks; ``epochs`` is the total, not the number left).
        device : "cuda" trains on an NVIDIA GPU (CuPy, the ``[gpu]`` extra): the model moves there
            (:meth:`to`, it stays there after fit) and the data too, once, when it fits in half
            the GPU's free memory, else batch by batch; "cpu" moves it back; None (default) trains
            where the model is.

        Ctrl-C finishes the current batch, writes a checkpoint where a ModelCheckpoint is given,
        and returns the history with ``history.interrupted = True``. A NaN or infinite loss
        raises :class:`axon.training.TrainingDivergedError`, keeping the last finite weights.
        """
        return _training().fit(self, X, y, epochs=epochs, batch_size=batch_size,
                               validation_data=validation_data, validation_split=validation_split,
                               callbacks=callbacks, shuffle=shuffle, seed=seed, verbose=verbose,
                               resume_from=resume_from, device=device)

    def evaluate(self, X: Any, y: Any, batch_size: int = 256, verbose: int = 0) -> dict[str, float]:
        """The loss (mean over samples, plus the layers' penalties) and metrics on (X, y).

        Inference mode, in batches of ``batch_size``. Returns ``{"loss": ..., "accuracy": ...}``;
        ``verbose=1`` also prints them on one line.
        """
        return _training().evaluate(self, X, y, batch_size=batch_size, verbose=verbose)

    def predict(self, X: Any, batch_size: int = 256, verbose: int = 0) -> np.ndarray:
        """The output with the loss's link applied, shape (n, outputs).

        Probabilities for SoftmaxCrossEntropy (softmax) and BinaryCrossEntropy(from_logits=True)
        (sigmoid); the raw output for MSE and for a model that was not compiled. Inference mode,
        in batches of ``batch_size``; ``verbose`` is accepted for Keras habits (prediction is silent).
        """
        return _training().predict(self, X, batch_size=batch_size, verbose=verbose)


def _check_layer(layer: Any, where: str) -> None:
    if not isinstance(layer, Layer):
        raise TypeError(f"Sequential takes layers; {where} is {type(layer).__name__}")


def _training() -> Any:
    # The one lazy import of the Keras-style facade: axon.training builds on this module.
    import axon.training
    return axon.training
