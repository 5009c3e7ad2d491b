"""The search space: which networks and training settings an evolution may try.

A :class:`SearchSpace` lists, for each gene, the values allowed: a range ``(low, high)`` for the
depth, the number of conv blocks, the dropout probability and the learning rate; a tuple of
choices for the widths, activations, batch norm, filters, optimizers, batch sizes, L1 and L2.
A gene with one value is fixed (not searched). Each trial draws one value per gene
(:meth:`SearchSpace.suggest`, through Optuna) and becomes an :class:`Architecture`: a
``--layers`` spec in the token grammar of :mod:`axon.architectures` plus the training settings,
built by :func:`axon.architectures.build_model` exactly as ``axon train`` builds it.

The genome has a fixed length: ``units_1 .. units_D`` for the deepest network D allowed, whatever
the depth drawn (a depth of 2 uses ``units_1`` and ``units_2``; the other widths are carried
along unused, as recessive genes). NSGA-II's crossover then mixes parents gene by gene.

Token spec of a trial, left to right (see :mod:`axon.architectures`):

* per conv block: ``conv{filters}x3`` (``,bn``) ``,maxpool2``: a 3×3 convolution, BatchNorm
  before the activation when drawn, then a 2×2 max pool that halves the image;
* per hidden layer: ``{units}`` (``,bn``): Dense, BatchNorm before the activation when drawn,
  the activation, then Dropout when the dropout drawn is > 0.

Example: depth 2, units 128 and 64, batch norm on, one conv block of 16 filters gives
``"conv16x3,bn,maxpool2,128,bn,64,bn"``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from axon.validation import is_int


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _split(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _number(text: str, name: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"space.{name}: {text!r} is not a number") from None


def parse_range(value: Any, name: str) -> tuple[float, float]:
    """``"1:3"``, ``"0.2"``, ``[1, 3]`` or ``3`` as a pair ``(low, high)`` (one value: low = high)."""
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(":")]
        if len(parts) not in (1, 2) or not all(parts):
            raise ValueError(f"space.{name}: {value!r} is not a range; write LOW:HIGH, e.g. 1:3, or one value")
        nums = [_number(p, name) for p in parts]
    elif isinstance(value, (list, tuple)):
        if len(value) not in (1, 2) or not all(_is_number(v) for v in value):
            raise ValueError(f"space.{name}: {value!r} is not a range; give (low, high), e.g. (1, 3)")
        nums = [float(v) for v in value]
    elif _is_number(value):
        nums = [float(value)]
    else:
        raise ValueError(f"space.{name}: {value!r} is not a range; give (low, high), e.g. (1, 3)")
    return (nums[0], nums[-1])


def parse_choices(value: Any, name: str) -> tuple[Any, ...]:
    """``"16,32,64"``, ``[16, 32]`` or ``16`` as a tuple of choices (strings are split at commas)."""
    if isinstance(value, str):
        items: list[Any] = _split(value)
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        items = [value]
    if not items:
        raise ValueError(f"space.{name}: no choices given; list at least one, e.g. {name}=16,32")
    return tuple(items)


def _as_bool(v: Any, name: str) -> bool:
    if isinstance(v, bool):
        return v
    low = str(v).strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"space.{name}: {v!r} is not true or false")


@dataclass(frozen=True)
class Architecture:
    """One trial's network and training settings, as ``axon train`` options.

    ``layers`` is the ``--layers`` spec (e.g. ``"128,bn,64,bn"``); ``activations`` holds one name
    per conv block and per hidden Dense layer, in that order (all the same unless the space draws
    them per layer; empty for the linear model). :meth:`build` makes the untrained model,
    :meth:`train_command` the equivalent ``axon train`` command line.
    """

    layers: str
    activations: tuple[str, ...]
    dropout: float
    optimizer: str
    lr: float
    batch_size: int
    l1: float = 0.0
    l2: float = 0.0

    @property
    def activation(self) -> str:
        """The activation of the whole network, ``"mixed"`` when the layers differ, ``"none"``
        for the linear model."""
        names = set(self.activations)
        if not names:
            return "none"
        return self.activations[0] if len(names) == 1 else "mixed"

    def build(self, input_shape: tuple[int, ...], n_outputs: int):
        """The untrained :class:`axon.Sequential` for one sample's ``input_shape`` and ``n_outputs``.

        :func:`axon.architectures.build_model` builds it as ``axon train`` would, each conv block
        and hidden layer with its own activation and that activation's initialiser (one name
        stands for all the layers).
        """
        from axon.architectures import build_model

        names = set(self.activations)
        activation = list(self.activations) if len(names) > 1 else (self.activations[0] if names else "relu")
        return build_model(self.layers, input_shape, n_outputs, activation=activation, dropout=self.dropout,
                           l1=self.l1, l2=self.l2)

    def train_command(self, dataset: str = "digits", *, epochs: int | None = None, patience: int | None = None,
                      seed: int | None = None) -> str:
        """The ``axon train`` command that trains this architecture the way the trial did (the
        numbers written in full, so that the same seed gives the same weights).

        With activations drawn per layer there is no such flag; the command then uses the first
        and says so in a trailing comment.
        """
        parts = ["axon", "train", "--dataset", dataset, "--layers", self.layers or '""',
                 "--activation", self.activations[0] if self.activations else "relu",
                 "--dropout", repr(self.dropout), "--optimizer", self.optimizer, "--lr", repr(self.lr),
                 "--batch-size", str(self.batch_size)]
        if self.l1:
            parts += ["--l1", repr(self.l1)]
        parts += ["--l2", repr(self.l2)]
        if epochs is not None:
            parts += ["--epochs", str(epochs)]
        if patience is not None:
            parts += ["--early-stopping", str(patience)]
        if seed is not None:
            parts += ["--seed", str(seed)]
        text = " ".join(parts)
        if len(set(self.activations)) > 1:
            text += f"   # per-layer activations {','.join(self.activations)} have no axon train flag"
        return text

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (the activations as a list)."""
        d = asdict(self)
        d["activations"] = list(self.activations)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Architecture:
        """The inverse of :meth:`to_dict`."""
        return cls(**{**d, "activations": tuple(d["activations"])})

    def __str__(self) -> str:
        extra = f", l1 {self.l1:g}" if self.l1 else ""
        return (f"[{self.layers or 'linear'}] {'/'.join(dict.fromkeys(self.activations)) or '-'}, dropout "
                f"{self.dropout:.2f}, {self.optimizer} lr {self.lr:.2g}, batch {self.batch_size}{extra}, "
                f"l2 {self.l2:g}")


@dataclass(frozen=True)
class SearchSpace:
    """Which architectures and training settings a search may draw (see the module docstring).

    Parameters
    ----------
    depth : (min, max) number of hidden Dense layers; 0 allows the linear model.
    units : the widths a hidden layer may have.
    activations : names from :data:`axon.architectures.ACTIVATIONS`.
    per_layer_activation : draw an activation per conv block and hidden layer instead of one for
        the network.
    dropout : (min, max) dropout probability after each hidden layer, drawn uniformly.
    batch_norm : (False,), (True,) or both: BatchNorm after every conv and Dense layer, or not.
    conv_blocks : (min, max) conv blocks (conv 3×3, optional BatchNorm, max pool 2×2) before the
        Dense layers; needs image data (flat rows of a square length are reshaped, as
        ``axon train --model cnn`` does).
    filters : the number of filters a conv block may have.
    optimizers : names from :data:`axon.optim.registry.OPTIMIZERS` (SGD gets momentum 0.9, as
        ``axon train``).
    lr : (min, max) learning rate, drawn on a log scale.
    batch_size, l1, l2 : the choices for each.

    A space that cannot be searched (a negative depth, an unknown activation, a learning rate
    <= 0, a dropout of 1...) raises ValueError naming the field and what is allowed.
    """

    depth: tuple[int, int] = (1, 3)
    units: tuple[int, ...] = (16, 32, 64, 128, 256)
    activations: tuple[str, ...] = ("relu", "tanh", "leaky_relu")
    per_layer_activation: bool = False
    dropout: tuple[float, float] = (0.0, 0.5)
    batch_norm: tuple[bool, ...] = (False, True)
    conv_blocks: tuple[int, int] = (0, 0)
    filters: tuple[int, ...] = (8, 16, 32)
    optimizers: tuple[str, ...] = ("adam", "sgd")
    lr: tuple[float, float] = (3e-4, 3e-2)
    batch_size: tuple[int, ...] = (32, 64, 128)
    l1: tuple[float, ...] = (0.0,)
    l2: tuple[float, ...] = (0.0, 1e-5, 1e-4, 1e-3)

    def __post_init__(self) -> None:
        from axon.architectures import ACTIVATIONS
        from axon.optim.registry import OPTIMIZERS

        def int_range(name: str, low_min: int) -> None:
            lo, hi = getattr(self, name)
            if not (float(lo).is_integer() and float(hi).is_integer()) or lo < low_min or lo > hi:
                raise ValueError(f"space.{name}: ({lo}, {hi}) must be whole numbers with {low_min} <= min <= max")
            object.__setattr__(self, name, (int(lo), int(hi)))

        def choices(name: str, ok, what: str) -> None:
            values = tuple(getattr(self, name))
            if not values or not all(ok(v) for v in values):
                raise ValueError(f"space.{name}: {list(values)} must be one or more {what}")
            object.__setattr__(self, name, tuple(dict.fromkeys(values)))  # no repeats, order kept

        for name in ("depth", "conv_blocks", "dropout", "lr"):
            object.__setattr__(self, name, parse_range(getattr(self, name), name))
        for name in ("units", "activations", "batch_norm", "filters", "optimizers", "batch_size", "l1", "l2"):
            object.__setattr__(self, name, parse_choices(getattr(self, name), name))
        object.__setattr__(self, "per_layer_activation", _as_bool(self.per_layer_activation, "per_layer_activation"))
        int_range("depth", 0)
        int_range("conv_blocks", 0)
        object.__setattr__(self, "units", tuple(_int_choice(v, "units") for v in self.units))
        object.__setattr__(self, "filters", tuple(_int_choice(v, "filters") for v in self.filters))
        object.__setattr__(self, "batch_size", tuple(_int_choice(v, "batch_size") for v in self.batch_size))
        object.__setattr__(self, "batch_norm", tuple(_as_bool(v, "batch_norm") for v in self.batch_norm))
        object.__setattr__(self, "activations", tuple(str(v).lower() for v in self.activations))
        object.__setattr__(self, "optimizers", tuple(str(v).lower() for v in self.optimizers))
        object.__setattr__(self, "l1", tuple(_float_choice(v, "l1") for v in self.l1))
        object.__setattr__(self, "l2", tuple(_float_choice(v, "l2") for v in self.l2))
        choices("units", lambda v: v >= 1, "positive layer widths, e.g. (32, 64, 128)")
        choices("filters", lambda v: v >= 1, "positive filter counts, e.g. (8, 16)")
        choices("batch_size", lambda v: v >= 1, "positive batch sizes, e.g. (32, 64)")
        choices("activations", lambda v: v in ACTIVATIONS, f"of {', '.join(ACTIVATIONS)}")
        choices("optimizers", lambda v: v in OPTIMIZERS, f"of {', '.join(OPTIMIZERS)}")
        choices("batch_norm", lambda v: True, "booleans")
        choices("l1", lambda v: v >= 0, "penalties >= 0, e.g. (0, 1e-5)")
        choices("l2", lambda v: v >= 0, "penalties >= 0, e.g. (0, 1e-4)")
        lo, hi = self.dropout
        if not 0 <= lo <= hi < 1:
            raise ValueError(f"space.dropout: ({lo}, {hi}) must satisfy 0 <= min <= max < 1")
        lo, hi = self.lr
        if not 0 < lo <= hi:
            raise ValueError(f"space.lr: ({lo}, {hi}) must satisfy 0 < min <= max, e.g. (3e-4, 3e-2)")
        if self.depth[1] == 0 and self.conv_blocks[1] == 0 and self.dropout[1] > 0:
            object.__setattr__(self, "dropout", (0.0, 0.0))  # a linear model has no hidden layer to drop

    # -- conversions ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (tuples as lists); :meth:`from_dict` reads it back."""
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v) for f in fields(self)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SearchSpace:
        """A space from a mapping of field names (``-`` or ``_``) to values or text such as ``"1:3"``
        (ranges) and ``"16,32,64"`` (choices); fields left out keep their defaults."""
        names = {f.name for f in fields(cls)}
        given: dict[str, Any] = {}
        for key, value in d.items():
            name = str(key).replace("-", "_")
            if name not in names:
                raise ValueError(f"space: unknown field {key!r}; the fields are {', '.join(sorted(names))}")
            given[name] = value
        return cls(**given)

    # -- drawing a trial -------------------------------------------------------------------------
    def suggest(self, trial: Any) -> Architecture:
        """Draw one value per gene through an Optuna ``trial`` and return the :class:`Architecture`.

        Every gene that has more than one value is suggested on every trial (the fixed-length
        genome of the module docstring), so crossover and parameter importances see them all.
        """
        def pick(name: str, options: tuple) -> Any:
            return options[0] if len(options) == 1 else trial.suggest_categorical(name, list(options))

        def span(name: str, bounds: tuple, **kw: Any) -> Any:
            lo, hi = bounds
            if lo == hi:
                return lo
            return (trial.suggest_int if isinstance(lo, int) else trial.suggest_float)(name, lo, hi, **kw)

        depth = span("depth", self.depth)
        n_conv = span("conv_blocks", self.conv_blocks)
        units = [pick(f"units_{i + 1}", self.units) for i in range(self.depth[1])]
        filters = [pick(f"filters_{i + 1}", self.filters) for i in range(self.conv_blocks[1])]
        slots = self.conv_blocks[1] + self.depth[1]  # conv blocks first, then Dense layers
        if self.per_layer_activation:
            acts = [pick(f"activation_{i + 1}", self.activations) for i in range(slots)]
        else:
            acts = [pick("activation", self.activations)] * slots
        bn = pick("batch_norm", self.batch_norm)
        dropout = span("dropout", self.dropout)
        optimizer = pick("optimizer", self.optimizers)
        lr = span("lr", self.lr, log=True)
        batch_size = pick("batch_size", self.batch_size)
        l1, l2 = pick("l1", self.l1), pick("l2", self.l2)
        tokens: list[str] = []
        for f in filters[:n_conv]:
            tokens += [f"conv{f}x3", *(["bn"] if bn else []), "maxpool2"]
        for u in units[:depth]:
            tokens += [str(u), *(["bn"] if bn else [])]
        used = acts[:n_conv] + acts[self.conv_blocks[1]:self.conv_blocks[1] + depth]
        return Architecture(layers=",".join(tokens), activations=tuple(used),
                            dropout=float(round(dropout, 4)) if depth else 0.0, optimizer=optimizer,
                            lr=float(lr), batch_size=int(batch_size), l1=float(l1), l2=float(l2))

    def largest(self) -> Architecture:
        """The deepest, widest architecture of the space (to check that it fits the data)."""
        tokens: list[str] = []
        for _ in range(self.conv_blocks[1]):
            tokens += [f"conv{max(self.filters)}x3", "maxpool2"]
        tokens += [str(max(self.units))] * self.depth[1]
        return Architecture(",".join(tokens), (self.activations[0],), self.dropout[1], self.optimizers[0],
                            self.lr[1], max(self.batch_size))

    def check_fits(self, input_shape: tuple[int, ...], n_outputs: int) -> None:
        """Raise ValueError when the largest network of the space cannot take ``input_shape``
        (too many conv blocks for the image size, conv blocks on data that are not images)."""
        arch = self.largest()
        try:
            arch.build(input_shape, n_outputs)
        except ValueError as e:
            raise ValueError(f"space: the largest network it allows ({arch.layers}) does not fit samples of "
                             f"shape {tuple(input_shape)}: {e}. Allow fewer conv blocks "
                             f"(conv_blocks) or none for data that are not images") from None


def _int_choice(v: Any, name: str) -> int:
    if is_int(v):
        return int(v)
    if isinstance(v, str) and v.strip().lstrip("-").isdigit():
        return int(v)
    if isinstance(v, float) and v.is_integer():
        return int(v)
    raise ValueError(f"space.{name}: {v!r} is not a whole number")


def _float_choice(v: Any, name: str) -> float:
    if isinstance(v, str):
        return _number(v, name)
    if not _is_number(v):
        raise ValueError(f"space.{name}: {v!r} is not a number")
    return float(v)


__all__ = ["Architecture", "SearchSpace", "parse_choices", "parse_range"]
