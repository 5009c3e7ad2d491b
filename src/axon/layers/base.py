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
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

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

    def zero_grad(self) -> None:
        """Reset the gradient of every parameter to zero."""
        for p in self._params.values():
            p.zero_grad()

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

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this layer (JSON-serialisable); saved in model files."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"
