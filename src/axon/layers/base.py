"""The layer contract that every layer, built in or written by a user, follows.

A layer computes ``y = f(x)`` in ``forward`` and keeps what ``backward`` needs; ``backward`` takes
``∂C/∂y`` and returns ``∂C/∂x``, adding ``∂C/∂θ`` into each parameter's ``.grad``. It never
modifies the gradient it receives.

Writing your own layer::

    import numpy as np
    import axon as ax

    class Scale(ax.Layer):
        '''y = x * s, one learned scale per feature.'''

        def __init__(self, n):
            super().__init__()
            self.s = self.add_parameter("s", np.ones(n, dtype=ax.get_default_dtype()))

        def forward(self, x, training=False):
            self.x = x
            return x * self.s.data

        def backward(self, grad_y):
            self.s.accumulate((grad_y * self.x).sum(axis=0))   # ∂C/∂s = Σₙ δ ⊙ x
            return grad_y * self.s.data                        # ∂C/∂x = δ ⊙ s

    model = ax.Sequential(Scale(3), ax.Dense(3, 1))
    ax.gradcheck(model, ax.losses.MSE(), X, y).ok   # True

Padding masks (variable-length batches). A mask is a boolean array (N, T), True at the real steps
of each sequence and False at the padding. It is made by ``Embedding(..., padding_idx=p)`` from
the ids (``ids != p``) or passed explicitly as ``model.forward(x, mask=m)``, and it travels with
the data from layer to layer (:func:`forward_layers`): a layer whose class sets
``supports_mask = True`` receives it as ``forward(x, training, mask=m)`` (the recurrent layers
carry their state over padded steps, attention ignores padded keys, GlobalAvgPool1D averages
the real steps only); :meth:`Layer.compute_mask` says what mask goes with the output (by default
the input's). The mask is dropped as soon as an output no longer has the (N, T, ...) layout of
the mask (a recurrent layer's last state, a pooled vector, Flatten).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from axon.backend import to_device
from axon.parameter import Parameter

#: Layer classes by type name, for model files (which name a type, never a code path).
LAYER_REGISTRY: dict[str, type[Layer]] = {}


def register_layer(cls: type[Layer]) -> type[Layer]:
    """Class decorator: make a layer type loadable from model files by its class name."""
    LAYER_REGISTRY[cls.__name__] = cls
    return cls


class Layer:
    """Base class of all layers: forward, backward, parameters, and a name.

    Subclasses create parameters with :meth:`add_parameter` in ``__init__`` and implement
    :meth:`forward` and :meth:`backward`. Layers without parameters only implement those two.

    A layer whose training pass draws random numbers (Dropout) sets ``stochastic = True`` and
    keeps its generator as ``self.rng`` (a ``numpy.random.Generator``): ``fit(seed=...)`` gives it
    its own, checkpoints save its state, gradient checks and traces replay it.
    """

    #: Whether ``forward(x, training=True)`` draws from ``self.rng``.
    stochastic: ClassVar[bool] = False
    #: A stochastic layer's generator (other layers have none).
    rng: np.random.Generator
    #: ``forward`` takes ``mask=`` (a padding mask (N, T), True at real steps); see the module doc.
    supports_mask = False
    #: The layer reads integer ids (Embedding): a model passes integer input to it uncast.
    integer_input = False

    def __init__(self, name: str | None = None) -> None:
        self._params: dict[str, Parameter] = {}
        self._name = name or type(self).__name__.lower()

    # -- naming ------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The layer's name, e.g. ``"dense_1"``; its parameters are named ``"dense_1.weight"`` etc."""
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._name = value
        for attr, p in self._params.items():
            p.name = f"{value}.{attr}"

    # -- parameters ----------------------------------------------------------------
    def add_parameter(self, attr: str, data: np.ndarray, trainable: bool = True) -> Parameter:
        """Register ``data`` as a trainable :class:`Parameter` called ``attr`` and return it."""
        p = Parameter(data, f"{self._name}.{attr}", trainable)
        self._params[attr] = p
        return p

    def parameters(self) -> list[Parameter]:
        """The layer's parameters, in the order they were added."""
        return list(self._params.values())

    def named_parameters(self) -> dict[str, Parameter]:
        """``{"weight": Parameter, ...}`` in insertion order."""
        return dict(self._params)

    def buffers(self) -> dict[str, np.ndarray]:
        """Non-trainable state saved with the model (e.g. BatchNorm running statistics)."""
        return {}

    def set_buffer(self, key: str, value: np.ndarray) -> None:
        """Replace the buffer ``key`` (used when loading a model file)."""
        raise KeyError(f"{type(self).__name__} has no buffer {key!r}")

    def sublayers(self) -> list[tuple[str, Layer]]:
        """The layers this one holds, ``[(name inside it, layer), ...]``; none but for wrappers (Residual)."""
        return []

    def zero_grad(self) -> None:
        """Reset the gradient of every parameter to zero."""
        for p in self._params.values():
            p.zero_grad()

    def to_device(self, device: str) -> None:
        """Move parameters, buffers and sublayers to ``device`` ("cpu" or "cuda", :mod:`axon.backend`).

        What a layer keeps of the last batch is replaced by the next forward; scratch buffers are
        checked against the batch's device before reuse.
        """
        for p in self._params.values():
            p.to_device(device)
        for key, value in self.buffers().items():
            self.set_buffer(key, to_device(value, device))
        for _, sub in self.sublayers():
            sub.to_device(device)

    def to_dtype(self, dtype: np.dtype) -> None:
        """Convert parameters and buffers to ``dtype`` (float32 or float64)."""
        for p in self._params.values():
            p.astype(dtype)
        for key, value in self.buffers().items():
            self.set_buffer(key, value.astype(dtype))

    # -- computation -----------------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Compute the output for a batch ``x``; ``training`` turns on dropout and batch statistics."""
        raise NotImplementedError(f"{type(self).__name__} must implement forward(x, training=False)")

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        """Given ∂C/∂y of the last forward, add ∂C/∂θ to the parameters' ``.grad`` and return ∂C/∂x."""
        raise NotImplementedError(f"{type(self).__name__} must implement backward(grad_y)")

    def backward_params(self, grad_y: np.ndarray) -> None:
        """Like :meth:`backward` when nobody needs ∂C/∂x (the first layer of a model in training).

        Adds ∂C/∂θ into the parameters' ``.grad`` and returns nothing; a layer may override it to
        skip computing ∂C/∂x (Dense skips the product δ·Wᵀ, a third of its backward work).
        """
        self.backward(grad_y)

    def __call__(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        return self.forward(x, training=training)

    # -- regularisation --------------------------------------------------------------
    def penalty(self) -> float:
        """The layer's regularisation term added to the mean loss (0 for most layers)."""
        return 0.0

    # -- description -----------------------------------------------------------------
    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Shape of one sample's output given one sample's input shape (no batch axis)."""
        return input_shape

    def compute_mask(self, x: np.ndarray, mask: np.ndarray | None) -> np.ndarray | None:
        """The padding mask (N, T) of this layer's output given its input ``x`` and the input's mask.

        By default the input's mask: right for layers that act on each step alone (Dense on
        (N, T, D), activations, LayerNorm, Dropout). Layers that remove or reshape the time axis
        return None.
        """
        return mask

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this layer (JSON-serialisable); saved in model files."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def forward_layers(layers: list[Layer], x: np.ndarray, training: bool = False,
                   mask: np.ndarray | None = None) -> np.ndarray:
    """Feed ``x`` through ``layers`` in order, handing the padding mask along (see the module doc).

    Used by :class:`axon.Sequential` for integer ids or an explicit mask, and by
    :class:`axon.layers.Residual` for its block.
    """
    for layer in layers:
        x, mask = forward_masked(layer, x, training, mask)
    return x


def forward_masked(layer: Layer, x: np.ndarray, training: bool,
                   mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """One layer's forward with the padding mask: returns ``(output, the output's mask)``."""
    if mask is not None and layer.supports_mask:
        y = layer.forward(x, training=training, mask=mask)  # type: ignore[call-arg]  # supports_mask
    else:
        y = layer.forward(x, training=training)
    mask = layer.compute_mask(x, mask)
    if mask is not None and (y.ndim < 3 or y.shape[:2] != mask.shape):
        mask = None  # the output lost the (N, T, ...) layout the mask describes
    return y, mask
