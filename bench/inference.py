"""Inference throughput: ``model.predict`` on batches of 1, 64 and 10,000 rows, in rows per second,
for the MLP 784-256-128-10 of section a and the LeNet-like CNN, against PyTorch eager (the same
weights, ``torch.inference_mode``, softmax applied as ``predict`` applies it) and onnxruntime
running the model ``ax.export_onnx`` wrote (softmax included in the graph).

Every contestant gets the same float32 array and returns probabilities. axon calls
``model.predict(X)`` as a user would (its default ``batch_size=256`` splits the 10,000 rows);
PyTorch runs the whole batch in one call, onnxruntime one ``session.run`` with as many intra-op
threads as BLAS gets (not spinning between runs: its spinning threads slowed whichever contestant
ran next, 1.2x for axon's MLP at 2 threads). Each timing repeats the call until about ``budget`` seconds have passed;
rounds are interleaved, and a ratio is the median of the per-round ratios.

Run ``python -m bench --sections inference``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.common import clock, median, threads

BATCHES = (1, 64, 10_000)


def _mlp():
    import axon as ax
    from bench.mlp import _axon_model
    model = _axon_model()
    model.compile(loss=ax.losses.SoftmaxCrossEntropy(), optimizer=ax.optim.SGD(lr=0.01))
    return model


def _cnn():
    import axon as ax
    from bench.cnn import axon_model
    model = axon_model()
    model.input_shape = (1, 28, 28)
    model.compile(loss=ax.losses.SoftmaxCrossEntropy(), optimizer=ax.optim.SGD(lr=0.01))
    return model


def _torch_mlp(model):
    """The MLP in PyTorch with the axon model's weights (Dense keeps W as (in, out))."""
    import torch
    layers: list = []
    for layer in model.layers:
        if layer.parameters():
            lin = torch.nn.Linear(*layer.weight.data.shape)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(layer.weight.data.T)))
                lin.bias.copy_(torch.from_numpy(layer.bias.data))
            layers.append(lin)
        else:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def _torch_cnn(model):
    from bench.cnn import torch_model
    return torch_model(model)


MODELS: dict[str, tuple[Callable, Callable, Callable[[int], tuple[int, ...]]]] = {
    # name -> (axon model, PyTorch twin, shape of a batch of n rows)
    "MLP 784-256-128-10": (_mlp, _torch_mlp, lambda n: (n, 784)),
    "LeNet-like CNN": (_cnn, _torch_cnn, lambda n: (n, 1, 28, 28)),
}


def _repeat(fn: Callable[[], object], budget: float) -> float:
    """Seconds per call of ``fn``, repeating it until ``budget`` seconds have passed (at least twice)."""
    calls, start = 0, clock()
    while True:
        fn()
        calls += 1
        elapsed = clock() - start
        if calls >= 2 and elapsed >= budget:
            return elapsed / calls


def contestants(name: str, nt: int, tmp: Path) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    """``{contestant: predict(X) -> probabilities}`` for one model; PyTorch and onnxruntime when installed."""
    make, torch_twin, _ = MODELS[name]
    model = make()
    out: dict[str, Callable[[np.ndarray], np.ndarray]] = {"axon": model.predict}
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        net = torch_twin(model).eval()

        def torch_predict(X):
            with torch.inference_mode():
                return torch.softmax(net(torch.from_numpy(X)), dim=1).numpy()
        out["PyTorch"] = torch_predict
    try:
        import onnxruntime as ort
    except ImportError:
        ort = None
    if ort is not None:
        import axon as ax
        path = tmp / f"{name.split()[0]}.onnx"
        ax.export_onnx(model, path)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = nt
        opts.inter_op_num_threads = 1
        # Its threads would otherwise spin after each run and take the core from the next contestant.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        out["onnxruntime"] = lambda X: sess.run(None, {"input": X})[0]
    return out


def run(rounds: int, thread_counts: tuple[int, ...], log: Callable[[str], None] = print,
        budget: float = 0.25, batches: tuple[int, ...] = BATCHES) -> list[dict]:
    """Rows per second of each contestant per (threads, model, batch), rounds interleaved.

    Returns rows ``{"threads", "model", "batch", "seconds": {name: median s per call},
    "all": {name: [s per call, one per round]}, "rows_per_s": {name: batch / median}}``; the
    contestants' outputs are checked against axon's first (1e-4), so a broken twin cannot win.
    """
    try:
        import torch  # noqa: F401  (imported first, so that threads() limits its pool too)
    except ImportError:
        pass
    rng = np.random.default_rng(0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for nt in thread_counts:
            with threads(nt):
                for name, (_, _, shape) in MODELS.items():
                    fns = contestants(name, nt, Path(tmp))
                    data = {b: rng.random(shape(b), dtype=np.float32) for b in batches}
                    for X in data.values():
                        ref = fns["axon"](X)
                        for k, fn in fns.items():
                            got = fn(X)
                            if not np.allclose(got, ref, atol=1e-4):
                                raise AssertionError(f"inference bench: {k} disagrees with axon on {name}")
                    times: dict[int, dict[str, list[float]]] = {b: {k: [] for k in fns} for b in batches}
                    for _ in range(rounds):
                        for b, X in data.items():
                            for k, fn in fns.items():
                                times[b][k].append(_repeat(lambda fn=fn, X=X: fn(X), budget))
                    for b in batches:
                        sec = {k: median(v) for k, v in times[b].items()}
                        rows.append({"threads": nt, "model": name, "batch": b, "seconds": sec,
                                     "all": times[b], "rows_per_s": {k: b / s for k, s in sec.items()}})
                        log(f"  inference, {nt} thread(s), {name}, batch {b:,}: " +
                            ", ".join(f"{k} {b / s:,.0f} rows/s" for k, s in sec.items()))
    return rows
