"""The sequence layers against PyTorch (CPU), forward + backward of one batch, float32.

Configurations (issue 15, item 7), every one with the input's gradient computed (a layer inside a
network), in both libraries from the same initial weights:

- LSTM and GRU, T = 50 steps, N = 64, D = H = 128, ``return_sequences=True`` (``nn.LSTM``, ``nn.GRU``
  with ``batch_first=True``), a fixed gradient on every output;
- Conv1D on (64, 32, 256): 64 filters of 5, padding 2 (``nn.Conv1d``);
- a 2-layer pre-norm transformer encoder, T = 64, d = 128, 4 heads, feed-forward 512, batch 32, no
  dropout: axon's Sequential of Residual blocks against ``nn.TransformerEncoder`` of
  ``TransformerEncoderLayer(norm_first=True, dropout=0)``.

Each round times ``reps`` batches of every contestant in every configuration, one after the other
(interleaved), so a busy minute of the machine slows both alike; a figure is the median over
rounds of the mean time per batch, a ratio the median of the per-round ratios. The *ceiling* is
NumPy doing only the matrix products of the same batch (same shapes, preallocated outputs): what
a NumPy implementation cannot go below; the rest of axon's time is element-wise work and Python.
Run ``python -m bench.sequences [--rounds 5]``.
"""

from __future__ import annotations

import cProfile
import io
import pstats
from collections.abc import Callable

import numpy as np

from bench.common import OtherLoad, clock, median, threads

RNN_SHAPE = {"N": 64, "T": 50, "D": 128, "H": 128}
CONV_SHAPE = {"N": 64, "C": 32, "L": 256, "F": 64, "k": 5}
ENCODER_SHAPE = {"N": 32, "T": 64, "d": 128, "heads": 4, "ff": 512, "layers": 2}
CASES = ("LSTM", "GRU", "Conv1D", "Transformer encoder")

Runner = Callable[[], None]


def _rng() -> np.random.Generator:
    return np.random.default_rng(0)


# -- axon ------------------------------------------------------------------------------------------
def _encoder_axon():
    import axon as ax
    s = ENCODER_SHAPE
    d = s["d"]
    layers = []
    for _ in range(s["layers"]):
        layers += [ax.Residual(ax.Sequential(ax.LayerNorm(d), ax.MultiHeadSelfAttention(d, s["heads"]))),
                   ax.Residual(ax.Sequential(ax.LayerNorm(d), ax.Dense(d, s["ff"], init="he"), ax.ReLU(),
                                             ax.Dense(s["ff"], d)))]
    return ax.Sequential(*layers)


def axon_case(case: str) -> tuple[Runner, object, np.ndarray]:
    """(one forward + backward, the axon model or layer, its input) for ``case``."""
    import axon as ax
    ax.set_seed(0)
    rng = _rng()
    if case in ("LSTM", "GRU"):
        s = RNN_SHAPE
        model = getattr(ax, case)(s["D"], s["H"], return_sequences=True)
        x = rng.standard_normal((s["N"], s["T"], s["D"]), dtype=np.float32)
        g = rng.standard_normal((s["N"], s["T"], s["H"]), dtype=np.float32)
    elif case == "Conv1D":
        s = CONV_SHAPE
        model = ax.Conv1D(s["C"], s["F"], s["k"], padding=s["k"] // 2)
        x = rng.standard_normal((s["N"], s["C"], s["L"]), dtype=np.float32)
        g = rng.standard_normal((s["N"], s["F"], s["L"]), dtype=np.float32)
    else:
        s = ENCODER_SHAPE
        model = _encoder_axon()
        x = rng.standard_normal((s["N"], s["T"], s["d"]), dtype=np.float32)
        g = rng.standard_normal((s["N"], s["T"], s["d"]), dtype=np.float32)

    def run() -> None:
        model.forward(x, training=True)
        model.zero_grad()
        model.backward(g)
    return run, model, x


# -- PyTorch -----------------------------------------------------------------------------------------
def torch_case(case: str, model) -> Runner | None:
    """The same computation in PyTorch with axon's initial weights copied in (None without torch)."""
    try:
        import torch
    except ImportError:
        return None
    nn = torch.nn
    rng = _rng()

    def t(a):
        return torch.from_numpy(np.ascontiguousarray(a))

    if case in ("LSTM", "GRU"):
        s = RNN_SHAPE
        net = getattr(nn, case)(s["D"], s["H"], batch_first=True)
        with torch.no_grad():
            for ours, theirs in (("weight_ih", "weight_ih_l0"), ("weight_hh", "weight_hh_l0")):
                getattr(net, theirs).copy_(t(getattr(model, ours).data.T))
            for ours, theirs in (("bias_ih", "bias_ih_l0"), ("bias_hh", "bias_hh_l0")):
                getattr(net, theirs).copy_(t(getattr(model, ours).data))
        x = rng.standard_normal((s["N"], s["T"], s["D"]), dtype=np.float32)
        g = rng.standard_normal((s["N"], s["T"], s["H"]), dtype=np.float32)

        def forward(xt):
            return net(xt)[0]
    elif case == "Conv1D":
        s = CONV_SHAPE
        net = nn.Conv1d(s["C"], s["F"], s["k"], padding=s["k"] // 2)
        with torch.no_grad():
            net.weight.copy_(t(model.weight.data))
            net.bias.copy_(t(model.bias.data))
        x = rng.standard_normal((s["N"], s["C"], s["L"]), dtype=np.float32)
        g = rng.standard_normal((s["N"], s["F"], s["L"]), dtype=np.float32)
        forward = net
    else:
        s = ENCODER_SHAPE
        layer = nn.TransformerEncoderLayer(s["d"], s["heads"], s["ff"], dropout=0.0, batch_first=True,
                                           norm_first=True)
        net = nn.TransformerEncoder(layer, s["layers"], enable_nested_tensor=False)
        x = rng.standard_normal((s["N"], s["T"], s["d"]), dtype=np.float32)
        g = rng.standard_normal((s["N"], s["T"], s["d"]), dtype=np.float32)
        forward = net
    xt = t(x).requires_grad_(True)
    gt = t(g)

    def run() -> None:
        net.zero_grad(set_to_none=True)
        xt.grad = None
        forward(xt).backward(gt)
    return run


# -- the ceiling: only the products ---------------------------------------------------------------
def products(case: str) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """The shapes (a, b) of every matrix product ``a @ b`` one forward + backward needs."""
    if case in ("LSTM", "GRU"):
        s = RNN_SHAPE
        N, T, D, H = s["N"], s["T"], s["D"], s["H"]
        GH = (4 if case == "LSTM" else 3) * H
        return ([((T * N, D), (D, GH))] + [((N, H), (H, GH))] * T          # x·W_ih; hₜ₋₁·W_hh
                + [((N, GH), (GH, H))] * T                                  # δₜ·W_hhᵀ
                + [((D, T * N), (T * N, GH)), ((H, T * N), (T * N, GH)), ((T * N, GH), (GH, D))])
    if case == "Conv1D":
        s = CONV_SHAPE
        ck, nl = s["C"] * s["k"], s["N"] * s["L"]
        return [((s["F"], ck), (ck, nl)), ((s["F"], nl), (nl, ck)), ((ck, s["F"]), (s["F"], nl))]
    s = ENCODER_SHAPE
    N, T, d, h, ff = s["N"], s["T"], s["d"], s["heads"], s["ff"]
    dh = d // h
    per_layer = [((N * T, d), (d, 3 * d)), ((N * h, T, dh), (N * h, dh, T)), ((N * h, T, T), (N * h, T, dh)),
                 ((N * T, d), (d, d)), ((N * T, d), (d, ff)), ((N * T, ff), (ff, d))]
    backward = [((N * T, d), (d, ff)), ((ff, N * T), (N * T, d)), ((N * T, ff), (ff, d)), ((d, N * T), (N * T, ff)),
                ((d, N * T), (N * T, d)), ((N * T, d), (d, d)),
                ((N * h, T, dh), (N * h, dh, T)), ((N * h, T, T), (N * h, T, dh)),      # ∂α, ∂V
                ((N * h, T, T), (N * h, T, dh)), ((N * h, T, T), (N * h, T, dh)),       # ∂Q, ∂K
                ((d, N * T), (N * T, 3 * d)), ((N * T, 3 * d), (3 * d, d))]
    return (per_layer + backward) * s["layers"]


def ceiling_case(case: str) -> Runner:
    rng = _rng()
    ops = []
    for a, b in products(case):
        A, B = rng.standard_normal(a, dtype=np.float32), rng.standard_normal(b, dtype=np.float32)
        ops.append((A, B, np.empty(np.broadcast_shapes(a[:-2], b[:-2]) + (a[-2], b[-1]), dtype=np.float32)))

    def run() -> None:
        for A, B, out in ops:
            np.matmul(A, B, out=out)
    return run


def _time(fn: Runner, reps: int) -> float:
    start = clock()
    for _ in range(reps):
        fn()
    return (clock() - start) / reps


def profile(case: str, n_threads: int, reps: int = 3) -> str:
    """cProfile of axon's forward + backward for ``case`` (its own time per function)."""
    run, _, _ = axon_case(case)
    with threads(n_threads):
        run()
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(reps):
            run()
        prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(10)
    text = out.getvalue()
    return text[text.index("ncalls"):].rstrip() if "ncalls" in text else text


def run(rounds: int = 5, thread_counts: tuple[int, ...] = (1, 2), log: Callable[[str], None] = print,
        reps: int = 3, cases: tuple[str, ...] = CASES) -> list[dict]:
    """Per (threads, case): median seconds per batch of axon, PyTorch and the NumPy ceiling, and the
    per-round values under ``"all"`` (ratios are paired by round)."""
    try:
        import torch  # noqa: F401  (imported first, so that threads() limits its pool too)
    except ImportError:
        pass
    runners = {}
    for case in cases:
        a, model, _ = axon_case(case)
        runners[case] = {"axon": a, "PyTorch": torch_case(case, model), "NumPy ceiling": ceiling_case(case)}
        runners[case] = {k: v for k, v in runners[case].items() if v is not None}
    rows = {(nt, case): {"threads": nt, "case": case, "all": {k: [] for k in runners[case]}, "load": []}
            for nt in thread_counts for case in cases}
    for nt in thread_counts:                                     # warm-up: allocations, first calls
        with threads(nt):
            for case in cases:
                for fn in runners[case].values():
                    fn()
    for r in range(rounds):
        for nt in thread_counts:
            with threads(nt):
                for case in cases:
                    row = rows[(nt, case)]
                    with OtherLoad() as load:
                        for name, fn in runners[case].items():
                            row["all"][name].append(_time(fn, reps))
                    row["load"].append(load.share)
                    log(f"  sequences threads={nt} {case} round {r + 1}/{rounds}: " +
                        ", ".join(f"{k} {v[-1] * 1e3:.1f} ms" for k, v in row["all"].items()))
    out = []
    for row in rows.values():
        row["seconds"] = {k: median(v) for k, v in row["all"].items()}
        shares = [s for s in row.pop("load") if s is not None]
        row["other_load"] = median(shares) if shares else None
        out.append(row)
    return out


if __name__ == "__main__":
    import argparse

    from bench.report import sequences_table
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--cases", default=",".join(CASES))
    args = parser.parse_args()
    rows = run(args.rounds, tuple(int(t) for t in args.threads.split(",")),
               cases=tuple(c.strip() for c in args.cases.split(",")))
    print("\n".join(sequences_table(rows)))
