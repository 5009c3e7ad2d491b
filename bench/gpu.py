"""The GPU check (issue 17): axon's layers on CuPy against the CPU, then training epochs on an
NVIDIA GPU beside PyTorch CUDA and axon on the CPU.

Run from the source tree on a machine with a GPU; NumPy, CuPy, PyTorch with CUDA and safetensors
are all it needs (nothing is installed)::

    PYTHONPATH=src python3 -m bench.gpu           # about 4 minutes on one H200
    PYTHONPATH=src python3 -m bench.gpu --quick   # a smoke run: fewer samples and rounds

Three parts, each reported even when another fails:

1. correctness, in float64: every layer of the common table (tests/layer_table.py) forward and
   backward on the GPU against the CPU (the largest relative error of the output, the input
   gradient and every parameter gradient), a gradient check on the GPU, a masked sequence model,
   every loss and every optimizer;
2. epochs: the MLP 784-256-128-10 (ReLU) and the LeNet-like CNN of bench/cnn.py, batch 128 and
   1024, SGD with momentum, seconds per 60,000-sample epoch for axon on CuPy (``fit``, the data
   on the GPU), PyTorch CUDA eager (the same loop, reading the loss every batch as ``fit`` does,
   and without reading it), and axon on the CPU (every core; the CNN on 10,000 samples, scaled
   to 60,000), in interleaved rounds, medians;
3. the ceiling: float32 matrix products of 8192 x 8192 on the GPU (CuPy and PyTorch), and the
   fraction of it each epoch reaches.

It prints a short table last and writes bench/RESULTS-gpu.md and bench/RESULTS-gpu.json.
``--stand-in`` runs the same code on tests/fake_gpu.py (CuPy's interface on the CPU, no PyTorch
CUDA), to check the script where there is no GPU; its figures mean nothing.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import clock, cpu_model, median

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the layer table, and the stand-in for --stand-in

N_TRAIN, FEATURES, CLASSES = 60_000, 784, 10
BATCHES = (128, 1024)
CPU_CNN_SAMPLES = 10_000  # axon's CNN on the CPU: this many samples per timed epoch, scaled to 60,000
TARGETS = {"mlp_vs_torch": 2.0, "mlp_vs_cpu": 10.0}  # issue 17, MLP at batch 1024


def log(text: str) -> None:
    print(text, flush=True)


# -- the device ----------------------------------------------------------------------------------
class Device:
    """The GPU module in use (CuPy, or the stand-in) and how to wait for it."""

    def __init__(self, stand_in: bool) -> None:
        from axon import backend
        if stand_in:
            import fake_gpu
            fake_gpu.use()
        self.xp = backend.gpu()
        self.stand_in = stand_in

    def sync(self) -> None:
        cuda = getattr(self.xp, "cuda", None)
        if cuda is not None:
            cuda.Device().synchronize()

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {"gpu module": f"{self.xp.__name__} {getattr(self.xp, '__version__', '')}".strip()}
        cuda = getattr(self.xp, "cuda", None)
        if cuda is not None:
            props = cuda.runtime.getDeviceProperties(0)
            name = props["name"]
            info["gpu"] = name.decode() if isinstance(name, bytes) else str(name)
            info["gpu memory"] = f"{props['totalGlobalMem'] / 2**30:.0f} GiB"
            info["cuda runtime"] = cuda.runtime.runtimeGetVersion()
            info["cuda driver"] = cuda.runtime.driverGetVersion()
        return info


def torch_cuda() -> Any:
    """torch when it has a usable CUDA device, else None."""
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def environment(dev: Device) -> dict[str, Any]:
    import axon
    torch = torch_cuda()
    info = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "cpu": cpu_model(),
            "cores": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "numpy": np.__version__, "axon": getattr(axon, "__version__", "?"), **dev.describe(),
            "torch": f"{torch.__version__} (CUDA {torch.version.cuda})" if torch else "no CUDA torch"}
    if torch is not None:
        info["torch gpu"] = torch.cuda.get_device_name(0)
    return info


# -- 1. correctness ------------------------------------------------------------------------------
def rel_error(a: Any, b: np.ndarray) -> float:
    """‖a − b‖ / (‖a‖ + ‖b‖) with ``a`` brought to the host (0 for two zero arrays)."""
    from axon import backend
    a = np.asarray(backend.to_host(a), dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denom == 0 else float(np.linalg.norm(a - b) / denom)


def _pass(model: Any, X: Any, g: Any, training: bool) -> list[Any]:
    """Output, input gradient and parameter gradients of one forward and backward pass."""
    out = model.forward(X, training=training)
    model.zero_grad()
    gx = model.backward(g, input_grad=True)
    return [out, gx] + [p.grad for p in model.parameters()]


def check_layers(tolerance: float) -> list[dict[str, Any]]:
    import axon as ax
    from axon import backend
    from layer_table import INTEGER_INPUT, LAYERS, TRAINING_MODE, make_input, model_for

    rows = []
    for kind in sorted(LAYERS):
        try:
            ax.set_seed(0)
            cpu, in_shape = model_for(kind, 5)
            gpu = copy.deepcopy(cpu).to("cuda")
            rng = np.random.default_rng(1)
            X = make_input(kind, (16, *in_shape), rng, np.float64)
            g = rng.normal(size=(16, 2))
            # Dropout draws other masks on the GPU: compared in inference; its masks in the gradient check
            training = kind in TRAINING_MODE and kind != "dropout"
            theirs = _pass(cpu, X, g, training)
            ours = _pass(gpu, X, backend.to_device(g, "cuda"), training)
            pairs = list(zip(ours, theirs))
            if kind in INTEGER_INPUT:
                del pairs[1]  # integer ids have no input gradient
            errors = [rel_error(a, b) for a, b in pairs]
            check = ax.gradcheck(gpu, ax.losses.MSE(), X[:6], rng.normal(size=(6, 2)), training=kind in TRAINING_MODE,
                                 max_entries=12)
            err = max(errors)
            rows.append({"check": kind, "vs_cpu": err, "gradcheck": check.max_rel_error,
                         "ok": err <= tolerance and check.max_rel_error <= 1e-6})
        except Exception as e:  # one layer's failure is a row, not the end of the check
            rows.append({"check": kind, "error": f"{type(e).__name__}: {e}", "ok": False})
    rows.append(_guarded("masked sequence model", lambda: _check_sequence_model(tolerance)))
    rows.append(_guarded("dropout masks", _check_dropout))
    for name, cls in sorted(ax.losses.LOSS_REGISTRY.items()):
        rows.append(_guarded(f"loss {name}", lambda cls=cls: _check_loss(cls(), tolerance)))
    for name, cls in sorted(ax.optim.OPTIMIZERS.items()):
        rows.append(_guarded(f"optimizer {name}", lambda cls=cls: _check_optimizer(cls, tolerance)))
    return rows


def _guarded(name: str, check: Callable[[], tuple[float, bool]]) -> dict[str, Any]:
    try:
        err, ok = check()
        return {"check": name, "vs_cpu": err, "ok": ok}
    except Exception as e:
        return {"check": name, "error": f"{type(e).__name__}: {e}", "ok": False}


def _check_sequence_model(tolerance: float) -> tuple[float, bool]:
    """Padding masks through an Embedding of 300 ids (scatter-add), LSTM, attention, GRU."""
    from axon import backend
    from layer_table import masked_sequence_model
    cpu, ids = masked_sequence_model(8, 16, 12)
    gpu = copy.deepcopy(cpu).to("cuda")
    g = np.random.default_rng(11).normal(size=(16, 2))
    errors = []
    for a, b in zip(_grads(gpu, ids, backend.to_device(g, "cuda")), _grads(cpu, ids, g)):
        errors.append(rel_error(a, b))
    err = max(errors)
    return err, err <= tolerance


def _grads(model: Any, ids: np.ndarray, g: Any) -> list[Any]:
    out = model.forward(ids, training=True)
    model.zero_grad()
    model.backward(g)
    return [out] + [p.grad for p in model.parameters()]


def _check_dropout() -> tuple[float, bool]:
    import axon as ax
    from axon import backend
    x = backend.to_device(np.ones((512, 512)), "cuda")
    y = backend.to_host(ax.Dropout(0.3, seed=0).forward(x, training=True))
    zeros = float(np.mean(y == 0))
    ok = abs(zeros - 0.3) < 0.01 and set(np.unique(y)) <= {0.0, 1 / 0.7}
    return abs(zeros - 0.3), ok


def _check_loss(loss: Any, tolerance: float) -> tuple[float, bool]:
    from axon import backend
    rng = np.random.default_rng(4)
    out = rng.normal(size=(32, 5))
    if not getattr(loss, "from_logits", True):
        out = 1 / (1 + np.exp(-out))
    target = rng.integers(0, 5, 32) if type(loss).__name__ == "SoftmaxCrossEntropy" else rng.random((32, 5))
    value, grad = loss.forward(out, target), loss.backward()
    gpu_value = loss.forward(backend.to_device(out, "cuda"), target)
    err = max(abs(gpu_value - value) / max(abs(value), 1e-30), rel_error(loss.backward(), grad))
    return err, err <= tolerance


def _check_optimizer(cls: type, tolerance: float) -> tuple[float, bool]:
    import axon as ax
    ax.set_seed(5)
    cpu = ax.Sequential(ax.Dense(6, 5), ax.Tanh(), ax.Dense(5, 3)).to_dtype(np.float64)
    gpu = copy.deepcopy(cpu)
    rng = np.random.default_rng(6)
    X, y = rng.normal(size=(32, 6)), rng.normal(size=(32, 3))
    for model, device in ((cpu, "cpu"), (gpu, "cuda")):
        model.compile("mse", cls(lr=0.01))
        model.fit(X, y, epochs=3, batch_size=8, shuffle=False, verbose=0, device=device)
    err = max(rel_error(a.data, b.data) for a, b in zip(gpu.parameters(), cpu.parameters()))
    return err, err <= tolerance


# -- 2. epochs -----------------------------------------------------------------------------------
def mlp_axon() -> Any:
    import axon as ax
    ax.set_seed(0)
    return ax.Sequential(ax.Dense(FEATURES, 256, init="he"), ax.ReLU(), ax.Dense(256, 128, init="he"), ax.ReLU(),
                         ax.Dense(128, CLASSES))


def mlp_torch(model: Any) -> Any:
    """The MLP in PyTorch with the axon model's initial weights (axon's Dense is (in, out))."""
    import torch
    net = torch.nn.Sequential(torch.nn.Linear(FEATURES, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                              torch.nn.ReLU(), torch.nn.Linear(128, CLASSES))
    dense = [layer for layer in model.layers if layer.parameters()]
    with torch.no_grad():
        for a, t in zip(dense, [m for m in net if isinstance(m, torch.nn.Linear)]):
            t.weight.copy_(torch.from_numpy(np.ascontiguousarray(a.weight.data.T)))
            t.bias.copy_(torch.from_numpy(a.bias.data))
    return net


def networks() -> dict[str, dict[str, Any]]:
    from bench.cnn import axon_model as lenet_axon
    from bench.cnn import torch_model as lenet_torch
    return {
        "MLP 784-256-128-10": {"axon": mlp_axon, "torch": mlp_torch, "shape": (FEATURES,),
                               "macs": FEATURES * 256 + 256 * 128 + 128 * CLASSES, "first_macs": FEATURES * 256},
        # conv1 6@5x5 on 28x28 (pad 2), conv2 16@5x5 on 14x14 -> 10x10, then 400-120-84-10
        "LeNet-like CNN": {"axon": lenet_axon, "torch": lenet_torch, "shape": (1, 28, 28),
                           "macs": 28 * 28 * 6 * 25 + 10 * 10 * 16 * 150 + 400 * 120 + 120 * 84 + 84 * CLASSES,
                           "first_macs": 28 * 28 * 6 * 25},
    }


def training_flops(net: dict[str, Any], n: int) -> float:
    """Multiply-adds of an epoch, forward (1x) and backward (2x; the first layer has no input gradient)."""
    return 2.0 * n * (3 * net["macs"] - net["first_macs"])


class Contestant:
    """One way to train one network at one batch size: ``epoch()`` trains one epoch over
    ``samples`` samples and returns its seconds; ``times`` collects seconds per 60,000 samples."""

    def __init__(self, name: str, epoch: Callable[[], float], samples: int) -> None:
        self.name, self.epoch, self.samples = name, epoch, samples
        self.times: list[float] = []

    def record(self) -> None:
        self.times.append(self.epoch() * N_TRAIN / self.samples)


def axon_gpu(net: dict[str, Any], X: np.ndarray, y: np.ndarray, batch: int, dev: Device) -> Contestant:
    import axon as ax
    model = net["axon"]()
    model.compile("cross_entropy", ax.optim.SGD(lr=0.01, momentum=0.9))
    model.to("cuda")
    Xd, yd = dev.xp.asarray(X), dev.xp.asarray(y)  # once: the data lives on the GPU

    def epoch() -> float:
        dev.sync()
        start = clock()
        model.fit(Xd, yd, epochs=1, batch_size=batch, verbose=0)
        dev.sync()
        return clock() - start
    return Contestant("axon on CuPy (fit)", epoch, len(X))


def axon_cpu(net: dict[str, Any], X: np.ndarray, y: np.ndarray, batch: int, n: int) -> Contestant:
    import axon as ax
    model = net["axon"]()
    model.compile("cross_entropy", ax.optim.SGD(lr=0.01, momentum=0.9))
    Xc, yc = X[:n], y[:n]

    def epoch() -> float:
        start = clock()
        model.fit(Xc, yc, epochs=1, batch_size=batch, verbose=0)
        return clock() - start
    label = "axon on the CPU (fit)" + (f", {n:,} samples scaled" if n < N_TRAIN else "")
    return Contestant(label, epoch, n)


def torch_gpu(net: dict[str, Any], X: np.ndarray, y: np.ndarray, batch: int, read_loss: bool) -> Contestant:
    torch = torch_cuda()
    model = net["axon"]()
    tnet = net["torch"](model).cuda()
    opt = torch.optim.SGD(tnet.parameters(), lr=0.01, momentum=0.9)
    Xt, yt = torch.from_numpy(X).cuda(), torch.from_numpy(y).cuda()
    n = len(X)

    def epoch() -> float:
        torch.cuda.synchronize()
        start = clock()
        order = torch.randperm(n, device="cuda")
        for lo in range(0, n, batch):
            idx = order[lo:lo + batch]
            loss = torch.nn.functional.cross_entropy(tnet(Xt[idx]), yt[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if read_loss:
                loss.item()
        torch.cuda.synchronize()
        return clock() - start
    return Contestant("PyTorch CUDA eager" + (", loss.item() per batch" if read_loss else ", no sync"), epoch, n)


def run_epochs(dev: Device, rounds: int, n: int, cpu_rounds: int, deadline: float) -> list[dict[str, Any]]:
    rng = np.random.default_rng(0)
    rows = []
    for net_name, net in networks().items():
        X = (rng.standard_normal((n, *net["shape"])) if len(net["shape"]) == 1
             else rng.random((n, *net["shape"]))).astype(np.float32)
        y = rng.integers(0, CLASSES, n).astype(np.int64)
        for batch in BATCHES:
            if clock() > deadline:
                log(f"  {net_name} batch {batch}: skipped, the time is up")
                continue
            contestants = [axon_gpu(net, X, y, batch, dev)]
            if torch_cuda() is not None:
                contestants += [torch_gpu(net, X, y, batch, True), torch_gpu(net, X, y, batch, False)]
            cpu_n = min(n, CPU_CNN_SAMPLES) if "CNN" in net_name else n
            cpu = axon_cpu(net, X, y, batch, cpu_n)
            for c in contestants:  # warm-up: CuPy compiles its kernels, cuDNN picks its algorithms
                c.epoch()
            cpu.epoch()
            for r in range(rounds):
                for c in contestants:
                    c.record()
                if r < cpu_rounds:
                    cpu.record()
            flops = training_flops(net, N_TRAIN)
            for c in [*contestants, cpu]:
                rows.append({"network": net_name, "batch": batch, "contestant": c.name,
                             "seconds": median(c.times), "min": min(c.times), "max": max(c.times),
                             "rounds": len(c.times), "tflops": flops / median(c.times) / 1e12})
                log(f"  {net_name:<20} batch {batch:>4}  {c.name:<45} {median(c.times):8.3f} s/epoch")
    return rows


# -- 3. the ceiling ------------------------------------------------------------------------------
def ceiling(dev: Device, size: int) -> dict[str, float]:
    """TFLOP/s of float32 products size x size x size on the GPU (median of 10), CuPy and torch."""
    out: dict[str, float] = {}
    xp = dev.xp
    a = xp.asarray(np.random.default_rng(0).standard_normal((size, size), dtype=np.float32))
    b = a.copy()
    times = []
    for _ in range(12):
        dev.sync()
        start = clock()
        a @ b
        dev.sync()
        times.append(clock() - start)
    out["cupy float32"] = 2 * size ** 3 / median(times[2:]) / 1e12
    torch = torch_cuda()
    if torch is not None:
        ta = torch.randn(size, size, device="cuda")
        times = []
        for _ in range(12):
            torch.cuda.synchronize()
            start = clock()
            ta @ ta
            torch.cuda.synchronize()
            times.append(clock() - start)
        out["torch float32"] = 2 * size ** 3 / median(times[2:]) / 1e12
        out["torch tf32 allowed"] = float(torch.backends.cuda.matmul.allow_tf32)
    return out


# -- the report ----------------------------------------------------------------------------------
def ratios(epochs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """axon on CuPy against the fastest PyTorch CUDA row and against axon on the CPU, per row."""
    out = []
    keys = sorted({(r["network"], r["batch"]) for r in epochs}, key=lambda k: (k[0], k[1]))
    for net, batch in keys:
        rows = [r for r in epochs if r["network"] == net and r["batch"] == batch]
        ours = next(r["seconds"] for r in rows if r["contestant"].startswith("axon on CuPy"))
        torch_rows = [r["seconds"] for r in rows if r["contestant"].startswith("PyTorch")]
        cpu = next(r["seconds"] for r in rows if r["contestant"].startswith("axon on the CPU"))
        out.append({"network": net, "batch": batch, "axon_gpu": ours,
                    "vs_torch": ours / min(torch_rows) if torch_rows else None, "cpu_speedup": cpu / ours})
    return out


def markdown(env: dict, checks: list, epochs: list, ceil: dict, summary: list, args: argparse.Namespace,
             seconds: float) -> str:
    lines = ["# axon on the GPU (issue 17)", "",
             f"Command: `PYTHONPATH=src python3 -m bench.gpu{' --quick' if args.quick else ''}`, "
             f"{seconds:.0f} s. One machine, one run: every figure below was measured in this call.", "",
             "## Machine", ""]
    lines += [f"- {k}: {v}" for k, v in env.items()]
    lines += ["", "## 1. Every layer on the GPU against the CPU (float64)", "",
              "Relative error ‖gpu − cpu‖ / (‖gpu‖ + ‖cpu‖), the largest over the output, the input gradient and "
              "every parameter gradient; then `ax.gradcheck` run on the GPU (central differences).", "",
              "| check | vs CPU | gradcheck | ok |", "|---|---:|---:|---|"]
    for r in checks:
        if "error" in r:
            lines.append(f"| {r['check']} | {r['error']} | | FAILED |")
        else:
            gc = f"{r['gradcheck']:.1e}" if "gradcheck" in r else ""
            lines.append(f"| {r['check']} | {r['vs_cpu']:.1e} | {gc} | {'yes' if r['ok'] else 'FAILED'} |")
    lines += ["", "## 2. Seconds per 60,000-sample epoch (median of interleaved rounds)", "",
              "SGD with momentum 0.9, softmax cross-entropy, shuffled batches. axon: `model.fit(X_gpu, y_gpu, "
              "epochs=1)` with the data on the GPU (the loss is read every batch, a synchronisation). "
              "PyTorch: the eager loop, with `loss.item()` every batch (as fit) and without.", "",
              "| network | batch | contestant | s/epoch | min | max | rounds | TFLOP/s |",
              "|---|---:|---|---:|---:|---:|---:|---:|"]
    for r in epochs:
        lines.append(f"| {r['network']} | {r['batch']} | {r['contestant']} | {r['seconds']:.3f} | {r['min']:.3f} | "
                     f"{r['max']:.3f} | {r['rounds']} | {r['tflops']:.3f} |")
    lines += ["", "## 3. The matrix ceiling", ""]
    lines += [f"- {k}: {v:.1f} TFLOP/s" if "tflop" not in k and "allowed" not in k else f"- {k}: {v}"
              for k, v in ceil.items()]
    peak = ceil.get("cupy float32")
    lines += ["", "## Summary", "", "| network | batch | axon on CuPy s/epoch | / PyTorch CUDA | CPU / GPU | "
              "of the float32 ceiling |", "|---|---:|---:|---:|---:|---:|"]
    nets = networks()
    for r in summary:
        vs = f"{r['vs_torch']:.2f}x" if r["vs_torch"] is not None else "n/a"
        frac = (f"{training_flops(nets[r['network']], N_TRAIN) / r['axon_gpu'] / 1e12 / peak:.1%}"
                if peak else "n/a")
        lines.append(f"| {r['network']} | {r['batch']} | {r['axon_gpu']:.3f} | {vs} | {r['cpu_speedup']:.1f}x | "
                     f"{frac} |")
    mlp = next((r for r in summary if r["network"].startswith("MLP") and r["batch"] == 1024), None)
    if mlp is not None:
        lines += ["", f"Targets (MLP, batch 1024): within {TARGETS['mlp_vs_torch']:.0f}x of PyTorch CUDA: "
                  + (f"{mlp['vs_torch']:.2f}x, {'met' if mlp['vs_torch'] <= TARGETS['mlp_vs_torch'] else 'missed'}"
                     if mlp["vs_torch"] is not None else "n/a")
                  + f"; at least {TARGETS['mlp_vs_cpu']:.0f}x faster than axon on the CPU: "
                  f"{mlp['cpu_speedup']:.1f}x, {'met' if mlp['cpu_speedup'] >= TARGETS['mlp_vs_cpu'] else 'missed'}."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples and rounds (a smoke run)")
    parser.add_argument("--stand-in", action="store_true", help="tests/fake_gpu.py instead of CuPy (no GPU)")
    parser.add_argument("--samples", type=int, default=None,
                        help="training samples per timed epoch (default 60,000; 6,000 with --quick or --stand-in)")
    parser.add_argument("--budget", type=float, default=420.0, help="seconds after which the epochs stop")
    parser.add_argument("--out", default=str(REPO / "bench" / "RESULTS-gpu"), help="path of the .md/.json, no suffix")
    args = parser.parse_args(argv)
    started = clock()
    deadline = started + args.budget
    dev = Device(args.stand_in)
    env = environment(dev)
    log("axon GPU check: " + ", ".join(f"{k} {v}" for k, v in env.items() if k in ("gpu", "gpu module", "torch", "cpu")))
    results: dict[str, Any] = {"environment": env}
    checks: list[dict[str, Any]] = []
    epochs: list[dict[str, Any]] = []
    ceil: dict[str, float] = {}
    try:
        log("1. every layer on the GPU against the CPU (float64)")
        checks = check_layers(tolerance=1e-9)
        for r in checks:
            log(f"  {r['check']:<28} " + (r["error"] if "error" in r else
                                          f"{r['vs_cpu']:.1e} {'ok' if r['ok'] else 'FAILED'}"))
    except Exception:
        traceback.print_exc()
    try:
        log("2. seconds per 60,000-sample epoch")
        n = args.samples or (6_000 if args.quick or args.stand_in else N_TRAIN)
        epochs = run_epochs(dev, rounds=2 if args.quick else 5, n=n, cpu_rounds=1 if args.quick else 3,
                            deadline=deadline)
    except Exception:
        traceback.print_exc()
    try:
        log("3. the matrix ceiling")
        ceil = ceiling(dev, 1024 if args.stand_in else 8192)
    except Exception:
        traceback.print_exc()
    summary = ratios(epochs)
    results.update(checks=checks, epochs=epochs, ceiling=ceil, summary=summary)
    text = markdown(env, checks, epochs, ceil, summary, args, clock() - started)
    Path(args.out + ".md").write_text(text)
    Path(args.out + ".json").write_text(json.dumps(results, indent=1, default=str))
    log("")
    log(text[text.index("## Summary"):] if "## Summary" in text else text)
    failed = [r["check"] for r in checks if not r["ok"]]
    if failed:
        log(f"FAILED checks: {', '.join(failed)}")
    log(f"written: {args.out}.md and .json ({time.strftime('%H:%M:%S')}, {clock() - started:.0f} s)")
    return 1 if failed or not checks else 0


if __name__ == "__main__":
    sys.exit(main())
