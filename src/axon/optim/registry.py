"""Optimizers by name, for the command line, model.compile and saved checkpoints."""

from __future__ import annotations

from typing import Any

from axon.optim.adagrad import AdaGrad
from axon.optim.adam import Adam, AdamW
from axon.optim.base import Optimizer
from axon.optim.rmsprop import RMSProp
from axon.optim.sgd import SGD

#: Optimizer classes by lower-case name; class names (as in ``state_dict()["type"]``) work too.
OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "adam": Adam,
    "adamw": AdamW,
    "rmsprop": RMSProp,
    "adagrad": AdaGrad,
}


def get_optimizer(spec: str | Optimizer | type[Optimizer], **kwargs: Any) -> Optimizer:
    """An optimizer from an instance or a name, constructed with ``kwargs`` (unbound).

    ``spec`` is "sgd", "adam", "adamw", "rmsprop" or "adagrad" (any case; "-" and "_" ignored),
    or an :class:`Optimizer`, returned as is (``kwargs`` must then be empty). Example:
    ``get_optimizer("adam", lr=1e-3)`` is ``Adam(lr=1e-3)``; ``compile`` binds it to the model.
    """
    if isinstance(spec, Optimizer):
        if kwargs:
            raise TypeError(f"get_optimizer got an optimizer instance and keyword arguments "
                            f"{sorted(kwargs)}; set them on the instance instead")
        return spec
    if isinstance(spec, type) and issubclass(spec, Optimizer):
        return spec(**kwargs)
    if not isinstance(spec, str):
        raise TypeError(f"optimizer must be a name or an axon Optimizer, got {type(spec).__name__}")
    key = spec.lower().replace("-", "").replace("_", "")
    if key not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {spec!r}; choose one of {', '.join(OPTIMIZERS)}")
    cls = OPTIMIZERS[key]
    try:
        return cls(**kwargs)
    except TypeError as exc:  # an argument this optimizer does not take, e.g. momentum for Adam
        raise TypeError(f"optimizer {key!r}: {exc}") from None
