"""The optimizer base class: parameters, learning rate, per-parameter state, clipping, decay."""

from __future__ import annotations

import math
from collections.abc import Iterable
from types import ModuleType
from typing import Any

import numpy as np

from axon import backend, fast
from axon.parameter import Parameter


def _check_number(name: str, value: Any, *, low: float = 0.0, high: float | None = None,
                  low_open: bool = False, high_open: bool = True, hint: str = "") -> float:
    """Validate a hyperparameter and return it as a Python float (keeps float32 arrays float32)."""
    ok = not isinstance(value, bool) and isinstance(value, (int, float, np.number)) \
        and math.isfinite(float(value))
    if ok:
        v = float(value)
        ok = (v > low if low_open else v >= low) and \
            (high is None or (v < high if high_open else v <= high))
    if not ok:
        lo = "(" if low_open else "["
        hi = "inf)" if high is None else (f"{high})" if high_open else f"{high}]")
        raise ValueError(f"{name} must be a number in {lo}{low}, {hi}, got {value!r}{hint}")
    return float(value)


class Optimizer:
    """Updates parameters from their gradients: θ ← θ − η·(a direction computed from g).

    Every step, for each trainable parameter θ with gradient g = ``θ.grad``:

    1. clipping (if ``clip_norm`` is set): all gradients are scaled by
       min(1, clip_norm / (‖g‖₂ + 1e-6)), where ‖g‖₂ is the global norm over every trainable
       parameter, as ``torch.nn.utils.clip_grad_norm_`` (the ``.grad`` arrays change in place);
    2. weight decay λ (L2, coupled): g ← g + λθ (:class:`~axon.optim.AdamW` instead decays θ
       directly, θ ← θ(1 − ηλ));
    3. the subclass's :meth:`update` changes ``θ.data`` in place.

    Frozen parameters (``Parameter.trainable == False``) are skipped: no update, no state, and
    their gradients are not counted in the clipping norm.

    Parameters
    ----------
    params : the parameters to update, in a stable order; may be omitted and bound later with
        :meth:`bind` (``model.compile`` does this).
    lr : learning rate η >= 0 (the ``lr`` property; a learning-rate schedule sets it every epoch).
    weight_decay : decay coefficient λ >= 0.
    clip_norm : if set (> 0), the largest global gradient norm allowed.

    Attributes
    ----------
    state : list of dicts, ``state[i]`` holds the i-th parameter's state: its arrays (momentum,
        moments; same shape and dtype as the parameter) and ``"step"``, the number of updates
        that parameter received. Keys beginning with ``_`` are scratch buffers, not state.
    iterations : number of calls to :meth:`step`.

    All updates are in place with Python-float coefficients, so float32 parameters stay float32
    and no array is allocated per step after the first.
    """

    #: AdamW sets this: the decay acts on θ directly instead of being added to g.
    decoupled_weight_decay = False

    def __init__(self, params: Iterable[Parameter] | None = None, lr: float = 0.01,
                 weight_decay: float = 0.0, clip_norm: float | None = None) -> None:
        self.lr = lr
        self.weight_decay = _check_number("weight_decay", weight_decay)
        self.clip_norm = None if clip_norm is None else _check_number(
            "clip_norm", clip_norm, low_open=True, hint="; or None for no clipping")
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
        self._lr = _check_number("learning rate lr", value, hint="; try 1e-3")

    def bind(self, params: Iterable[Parameter]) -> None:
        """Attach the parameters to update (an ordered list, e.g. ``model.parameters()``).

        Resets the state: call it before :meth:`load_state_dict`, not after.
        """
        if isinstance(params, Parameter):
            params = [params]
        params = list(params)
        for p in params:
            if not isinstance(p, Parameter):
                raise TypeError(f"optimizer parameters must be axon Parameters, got {type(p).__name__}; "
                                "pass model.parameters()")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("the same Parameter appears twice in the optimizer's parameters")
        self.params = params
        self.state = [{} for _ in params]
        self.iterations = 0

    def zero_grad(self) -> None:
        """Reset the gradients of all bound parameters."""
        for p in self.params:
            p.zero_grad()

    def grad_norm(self) -> float:
        """The global L2 norm √(Σ‖g‖²) over the trainable parameters' gradients."""
        return math.sqrt(sum(float(np.vdot(p.grad, p.grad)) for p in self.params if p.trainable))

    def _clip(self) -> None:
        assert self.clip_norm is not None
        scale = self.clip_norm / (self.grad_norm() + 1e-6)
        if scale < 1.0:
            for p in self.params:
                if p.trainable:
                    p.grad *= scale

    @staticmethod
    def _scratch(state: dict[str, Any], key: str, like: np.ndarray) -> np.ndarray:
        """A scratch array like ``like`` kept in ``state`` so steps allocate nothing."""
        buf = state.get(key)
        if buf is None or buf.shape != like.shape or buf.dtype != like.dtype:
            buf = state[key] = np.empty_like(like)
        return buf

    @staticmethod
    def _fused(*arrays: np.ndarray) -> tuple[ModuleType, list[np.ndarray]] | None:
        """The one-pass update loops (:mod:`axon.optim.compiled_loops`) and flat views of ``arrays``,
        when they apply: the loops are on and Numba is loaded already (see :mod:`axon.fast`: an
        optimizer never loads it), and the arrays are C-contiguous NumPy arrays of one float dtype.
        Otherwise None, and the NumPy code runs."""
        if not fast.takes(*arrays) or not all(a.flags.c_contiguous for a in arrays):
            return None
        loops = fast.loops("axon.optim.compiled_loops", load=False)
        return None if loops is None else (loops, [a.reshape(-1) for a in arrays])

    @staticmethod
    def _array(state: dict[str, Any], key: str, like: np.ndarray, fill: float = 0.0) -> np.ndarray:
        """The state array ``key``, created filled with ``fill`` or cast to ``like``'s dtype."""
        arr = state.get(key)
        if arr is None:
            arr = state[key] = np.full_like(like, fill)
        elif arr.dtype != like.dtype:  # the model changed dtype (to_dtype) after some steps
            arr = state[key] = arr.astype(like.dtype)
        return arr

    def step(self) -> None:
        """Apply one update to every trainable parameter from its ``.grad``."""
        if not self.params:
            raise RuntimeError("optimizer has no parameters: pass model.parameters() or call model.compile")
        if self.clip_norm is not None:
            self._clip()
        self.iterations += 1
        wd = self.weight_decay
        coupled = wd and not self.decoupled_weight_decay
        for p, state in zip(self.params, self.state):
            if not p.trainable:
                continue
            g = p.grad
            if coupled:  # g + λθ into a scratch buffer: the user's .grad stays as backward left it
                buf = self._scratch(state, "_g", g)
                np.multiply(p.data, wd, out=buf)
                buf += g
                g = buf
            state["step"] = state.get("step", 0) + 1
            self.update(p, g, state)

    def update(self, p: Parameter, g: np.ndarray, state: dict[str, Any]) -> None:
        """Change ``p.data`` in place given its gradient ``g`` (coupled weight decay included).

        ``state["step"]`` is this parameter's update count t, already incremented (t = 1 on the
        first update). ``g`` must not be modified: it may be the parameter's ``.grad``.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement update(p, g, state)")

    def to_device(self, device: str) -> None:
        """Move the state arrays (moments, velocities) to ``device``, as :meth:`Sequential.to` does."""
        self.state = [{k: backend.to_device(v, device) if backend.is_array(v) else v for k, v in s.items()}
                      for s in self.state]

    # -- saving ------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """Hyperparameters (JSON-serialisable), the constructor's keyword arguments."""
        return {"lr": self.lr, "weight_decay": self.weight_decay, "clip_norm": self.clip_norm}

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly, as plain data.

        ``{"type": class name, "config": get_config(), "iterations": int,
        "state": [per-parameter dict of name -> array copy, plus "step" -> int]}``.
        Scratch buffers are left out; arrays are host (NumPy) copies wherever the model runs.
        """
        return {"type": type(self).__name__, "config": self.get_config(), "iterations": self.iterations,
                "state": [{k: (backend.host_copy(v) if backend.is_array(v) else v)
                           for k, v in s.items() if not k.startswith("_")} for s in self.state]}

    def load_state_dict(self, d: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned; parameters must already be bound, same order.

        Hyperparameters in ``d["config"]`` replace the current ones (checked as the constructor
        checks them); arrays are copied, cast to each parameter's dtype and put on its device. Everything is checked
        before anything changes: a state that does not fit raises ValueError and leaves the
        optimizer as it was.
        """
        if not isinstance(d, dict) or not isinstance(d.get("state"), list):
            raise ValueError("optimizer state must be a dict with a 'state' list, as state_dict() gives")
        if d.get("type", type(self).__name__) != type(self).__name__:
            raise ValueError(f"optimizer state is for {d['type']}, not {type(self).__name__}; "
                             f"create a {d['type']} optimizer to load it")
        if len(d["state"]) != len(self.params):
            raise ValueError(f"optimizer state has {len(d['state'])} parameters, the optimizer has "
                             f"{len(self.params)}; bind the same model's parameters first")
        config = d.get("config", {})
        if not isinstance(config, dict):
            raise ValueError("optimizer config must be a dict")
        try:  # the constructor checks every hyperparameter (JSON turned tuples into lists)
            kwargs: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in config.items()}
            checked = type(self)(**kwargs)
        except TypeError as e:
            raise ValueError(f"optimizer config {config!r} does not fit {type(self).__name__}: {e}") from None
        from axon.validation import check_int
        iterations = check_int(d.get("iterations", 0), "optimizer iterations", minimum=0)
        state = []
        for p, s in zip(self.params, d["state"]):
            if not isinstance(s, dict):
                raise ValueError(f"optimizer state of {p.name} must be a dict")
            restored: dict[str, Any] = {}
            for k, v in s.items():
                if backend.is_array(v):
                    if v.shape != p.data.shape:
                        raise ValueError(f"optimizer state {k!r} of {p.name} has shape {v.shape}, "
                                         f"expected {p.data.shape}")
                    v = backend.to_device(v.astype(p.data.dtype, copy=True), backend.device_of(p.data))
                elif k == "step":
                    v = check_int(v, f"optimizer step of {p.name}", minimum=0)
                else:
                    raise ValueError(f"optimizer state {k!r} of {p.name} must be an array")
                restored[k] = v
            state.append(restored)
        for k in config:
            setattr(self, k, getattr(checked, k))
        self.iterations = iterations
        self.state = state

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"
