"""The playground's settings: one value per control, read from a page (or its URL) and checked.

Every setting has one name used everywhere: the key in the page's URL (``#dataset=spiral&lr=0.03``),
in the WebSocket messages and in :class:`Settings`. :func:`parse` takes strings (from a URL) or
JSON values (from a message), checks each one and raises ValueError naming the setting, what it
got and what it accepts, so a width of -3 or a learning rate "abc" is a message on the page.

Settings split in two kinds (:data:`LIVE`): those that apply to the running network at once
(learning rate, optimizer, activations, dropout, L1/L2, batch size, speed) and those that
define the data or the shape of the network, whose change starts a new network from the seed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

#: Data sets by problem: classification (labels) and regression (a value per point).
DATASETS = {
    "classification": ("circle", "xor", "gaussians", "spiral", "moons"),
    "regression": ("plane", "gaussians"),
}
#: Data sets whose number of classes can be chosen (the others have two).
MULTICLASS = ("gaussians", "spiral")
#: Input features, computed from the point (x₁, x₂); labels as the page shows them.
FEATURES = {
    "x1": "x₁", "x2": "x₂", "x1sq": "x₁²", "x2sq": "x₂²", "x1x2": "x₁x₂",
    "sin1": "sin(πx₁)", "sin2": "sin(πx₂)",
}
#: Activations of a hidden layer ("linear": none).
ACTIVATIONS = ("tanh", "relu", "leaky_relu", "sigmoid", "linear")
#: Optimizers the page offers (axon.optim names; "momentum": SGD with momentum).
OPTIMIZERS = ("sgd", "momentum", "adam", "rmsprop", "adagrad")
#: Control groups a lesson can hide (``hide=data,features`` or ``hide=all``).
PANELS = ("data", "features", "layers", "training", "regularization", "export", "curve")

#: Most hidden layers a playground network may have.
MAX_LAYERS = 6
#: Most neurons in one hidden layer.
MAX_WIDTH = 16
#: Most points a playground data set may hold.
MAX_POINTS = 2000

#: Settings that change the running network without starting a new one.
LIVE = frozenset({"acts", "dropout", "l1", "l2", "optimizer", "lr", "batch", "speed", "hide", "show_test"})


@dataclass(frozen=True)
class Settings:
    """Everything the playground's controls set. Defaults: TensorFlow Playground's first screen."""

    problem: str = "classification"
    dataset: str = "circle"
    classes: int = 2
    noise: float = 0.0           # percent, 0..50
    ratio: float = 50.0          # percent of the points used for training, 10..90
    points: int = 400
    seed: int = 1
    features: tuple[str, ...] = ("x1", "x2")
    layers: tuple[int, ...] = (4, 2)
    acts: tuple[str, ...] = ("tanh", "tanh")
    dropout: float = 0.0
    l1: float = 0.0
    l2: float = 0.0
    optimizer: str = "sgd"
    lr: float = 0.03
    batch: int = 10
    speed: float = 50.0          # most epochs per second while playing; 0: as fast as it goes
    show_test: int = 0           # 1: the page draws the test points too
    hide: tuple[str, ...] = field(default=())

    @property
    def n_train(self) -> int:
        """Points in the training split (at least 1, at most points - 1)."""
        return min(max(1, round(self.points * self.ratio / 100)), self.points - 1)

    @property
    def n_classes(self) -> int:
        """Classes of a classification problem (0 for regression)."""
        if self.problem == "regression":
            return 0
        return self.classes if self.dataset in MULTICLASS else 2

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON values (tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def to_query(self) -> dict[str, str]:
        """The settings as URL parameters (lists comma-separated); :func:`parse` reads them back."""
        out = {}
        for k, v in self.to_dict().items():
            out[k] = ",".join(str(x) for x in v) if isinstance(v, list) else _number_text(v)
        return out

    def restart_needed(self, other: Settings) -> bool:
        """Whether going from ``self`` to ``other`` changes the data or the network's shape."""
        return any(getattr(self, f.name) != getattr(other, f.name) for f in fields(self) if f.name not in LIVE)


def _number_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return str(v)


# -- reading values --------------------------------------------------------------------------
def _number(name: str, value: Any, lo: float, hi: float, *, integer: bool = False) -> float:
    what = "a whole number" if integer else "a number"
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{name}: expected {what} from {lo:g} to {hi:g}, got {value!r}")
    try:
        x = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected {what} from {lo:g} to {hi:g}, got {value!r}") from None
    if not math.isfinite(x) or not lo <= x <= hi or (integer and not x.is_integer()):
        raise ValueError(f"{name}: expected {what} from {lo:g} to {hi:g}, got {value!r}")
    return x


def _list(name: str, value: Any) -> list[str]:
    if isinstance(value, str):
        return [t.strip() for t in value.split(",") if t.strip()]
    if isinstance(value, (list, tuple)):
        return [str(t).strip() for t in value]
    raise ValueError(f"{name}: expected a comma-separated list, got {value!r}")


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    text = str(value).strip().lower()
    if text not in choices:
        raise ValueError(f"{name}: {value!r} is not one of {', '.join(choices)}")
    return text


def parse(values: Mapping[str, Any], base: Settings | None = None) -> Settings:
    """Settings from page values over ``base`` (default :class:`Settings()`); unknown keys are errors.

    Raises ValueError with one message for the first bad value, e.g.
    ``layers: width -3 is not a whole number from 1 to 16``.
    """
    s = base or Settings()
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(values) - known - {"run"})
    if unknown:
        raise ValueError(f"unknown setting {unknown[0]!r}; settings are {', '.join(sorted(known))}")
    new: dict[str, Any] = {}
    v = values.get
    if "problem" in values:
        new["problem"] = _choice("problem", v("problem"), tuple(DATASETS))
    problem = new.get("problem", s.problem)
    if "dataset" in values:
        new["dataset"] = _choice("dataset", v("dataset"), DATASETS[problem])
    elif s.dataset not in DATASETS[problem]:
        new["dataset"] = DATASETS[problem][0]
    if "classes" in values:
        new["classes"] = int(_number("classes", v("classes"), 2, 4, integer=True))
    if "noise" in values:
        new["noise"] = _number("noise", v("noise"), 0, 50)
    if "ratio" in values:
        new["ratio"] = _number("ratio", v("ratio"), 10, 90)
    if "points" in values:
        new["points"] = int(_number("points", v("points"), 20, MAX_POINTS, integer=True))
    if "seed" in values:
        new["seed"] = int(_number("seed", v("seed"), 0, 2**31 - 1, integer=True))
    if "features" in values:
        feats = [_choice("features", f, tuple(FEATURES)) for f in _list("features", v("features"))]
        if not feats:
            raise ValueError("features: choose at least one input feature (x1, x2, x1sq, x2sq, x1x2, sin1, sin2)")
        new["features"] = tuple(f for f in FEATURES if f in feats)  # the page's order, no repeats
    if "layers" in values:
        widths = _list("layers", v("layers"))
        if len(widths) > MAX_LAYERS:
            raise ValueError(f"layers: at most {MAX_LAYERS} hidden layers, got {len(widths)}")
        out = []
        for w in widths:
            try:
                out.append(int(_number("layers", w, 1, MAX_WIDTH, integer=True)))
            except ValueError:
                raise ValueError(f"layers: width {w} is not a whole number from 1 to {MAX_WIDTH}") from None
        new["layers"] = tuple(out)
    layers = new.get("layers", s.layers)
    if "acts" in values:
        acts = tuple(_choice("acts", a, ACTIVATIONS) for a in _list("acts", v("acts")))
    else:
        acts = s.acts
    # One activation per hidden layer: a shorter list repeats its last entry (or tanh).
    acts = tuple(acts[i] if i < len(acts) else (acts[-1] if acts else "tanh") for i in range(len(layers)))
    new["acts"] = acts
    if "dropout" in values:
        new["dropout"] = _number("dropout", v("dropout"), 0, 0.9)
    for key in ("l1", "l2"):
        if key in values:
            new[key] = _number(key, v(key), 0, 10)
    if "optimizer" in values:
        new["optimizer"] = _choice("optimizer", v("optimizer"), OPTIMIZERS)
    if "lr" in values:
        lr = _number("lr", v("lr"), 0, 10)
        if lr == 0:
            raise ValueError("lr: the learning rate must be > 0 (e.g. 0.03)")
        new["lr"] = lr
    if "batch" in values:
        new["batch"] = int(_number("batch", v("batch"), 1, MAX_POINTS, integer=True))
    if "speed" in values:
        new["speed"] = _number("speed", v("speed"), 0, 10_000)
    if "show_test" in values:
        flag = str(v("show_test")).strip().lower()
        flag = {"true": "1", "false": "0", "on": "1", "off": "0"}.get(flag, flag)
        new["show_test"] = int(_number("show_test", flag, 0, 1, integer=True))
    if "hide" in values:
        hide = _list("hide", v("hide"))
        if hide == ["all"]:
            hide = list(PANELS)
        new["hide"] = tuple(p for p in PANELS if p in {_choice("hide", h, PANELS) for h in hide})
    return replace(s, **new)
