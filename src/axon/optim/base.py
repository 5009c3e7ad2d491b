"""The optimizer base class: parameters, learning rate, per-parameter state, clipping."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from axon.parameter import Parameter


class Optimizer:
    """Updates parameters from their gradients: θ ← θ − η·(direction from g).

    Parameters
    ----------
    params : the parameters to update; may be omitted and bound later with :meth:`bind`
        (``model.compile`` does this).
    lr : learning rate η > 0.
    weight_decay : L2 coefficient λ added to the gradient, g ← g + λθ (AdamW decouples it).
    clip_norm : if set, gradients are rescaled so their global L2 norm is at most this.

    Subclasses implement :meth:`update` for one parameter; ``self.state[i]`` holds the state
    (momentum, moments) of the i-th parameter.
    """

    def __init__(self, params: Iterable[Parameter] | None = None, lr: float = 0.01,
                 weight_decay: float = 0.0, clip_norm: float | None = None) -> None:
        self.lr = lr
        if not np.isfinite(weight_decay) or weight_decay < 0:
            raise ValueError(f"weight_decay must be a finite number >= 0, got {weight_decay!r}")
        if clip_norm is not None and (not np.isfinite(clip_norm) or clip_norm <= 0):
            raise ValueError(f"clip_norm must be a positive number or None, got {clip_norm!r}")
        self.weight_decay = float(weight_decay)
        self.clip_norm = None if clip_norm is None else float(clip_norm)
        self.params: list[Parameter] = []
        self.state: list[dict[str, Any]] = []
        self.iterations = 0
        if params is not None:
            self.bind(params)

    @property
    def lr(self) -> float:
        """The learning rate η (a Python float, so float32 parameters stay float32)."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
                or not np.isfinite(value) or value <= 0:
            raise ValueError(f"learning rate must be a positive number, got {value!r}; try 1e-3")
        self._lr = float(value)

    def bind(self, params: Iterable[Parameter]) -> None:
        """Attach the parameters to update (an ordered list); resets the state."""
        params = list(params)
        for p in params:
            if not isinstance(p, Parameter):
                raise TypeError(f"optimizer parameters must be axon Parameters, got {type(p).__name__}")
        self.params = params
        self.state = [{} for _ in params]
        self.iterations = 0

    def zero_grad(self) -> None:
        """Reset the gradients of all bound parameters."""
        for p in self.params:
            p.zero_grad()

    def _clip(self) -> None:
        total = np.sqrt(sum(float(np.vdot(p.grad, p.grad)) for p in self.params if p.trainable))
        if total > self.clip_norm:
            scale = self.clip_norm / (total + 1e-12)
            for p in self.params:
                p.grad *= scale

    def step(self) -> None:
        """Apply one update to every trainable parameter from its ``.grad``."""
        if not self.params:
            raise RuntimeError("optimizer has no parameters: pass model.parameters() or call model.compile")
        if self.clip_norm is not None:
            self._clip()
        self.iterations += 1
        for p, state in zip(self.params, self.state):
            if p.trainable:
                g = p.grad
                if self.weight_decay:
                    g = g + self.weight_decay * p.data
                self.update(p, g, state)

    def update(self, p: Parameter, g: np.ndarray, state: dict[str, Any]) -> None:
        """Change ``p.data`` in place given its gradient ``g`` (weight decay included)."""
        raise NotImplementedError

    # -- saving ------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """Hyperparameters (JSON-serialisable)."""
        return {"lr": self.lr, "weight_decay": self.weight_decay, "clip_norm": self.clip_norm}

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly: hyperparameters, step count, per-parameter arrays."""
        return {"type": type(self).__name__, "config": self.get_config(), "iterations": self.iterations,
                "state": [{k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in s.items()}
                          for s in self.state]}

    def load_state_dict(self, d: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (parameters must already be bound, same order)."""
        if d.get("type", type(self).__name__) != type(self).__name__:
            raise ValueError(f"state is for a {d['type']} optimizer, not {type(self).__name__}")
        if len(d["state"]) != len(self.params):
            raise ValueError(f"state has {len(d['state'])} parameters, optimizer has {len(self.params)}")
        for k, v in d.get("config", {}).items():
            setattr(self, k, v)
        self.iterations = int(d["iterations"])
        self.state = []
        for p, s in zip(self.params, d["state"]):
            restored = {}
            for k, v in s.items():
                if isinstance(v, np.ndarray):
                    if v.shape != p.data.shape:
                        raise ValueError(f"optimizer state {k!r} of {p.name} has shape {v.shape}, "
                                         f"expected {p.data.shape}")
                    v = v.astype(p.data.dtype)
                restored[k] = v
            self.state.append(restored)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"
