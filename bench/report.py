"""The table printed at the end and bench/RESULTS.md."""

from __future__ import annotations

import statistics
from typing import Any

LOOP, FIT, TORCH, SK, CEIL = ("axon loop", "axon fit", "PyTorch", "scikit-learn", "NumPy matmul ceiling")
NUMPY_ONLY = "axon NumPy only"  # the CNN without the compiled loops (AXON_KERNELS=numpy)
ONE_PASS = "axon one pass"  # the optimizer step as one compiled loop

OPTIMISATIONS = """\
What was changed for speed (pure NumPy, in the library's hot paths), and why. The figures in this
section were measured when each change was made (interleaved before/after in one process, on
machines of this kind, at the commits of the git log): they explain the choices and are not
comparable with the tables above, which come from one run.

- `Sequential.backward(grad)` computes the parameters' gradients only (`input_grad=True` asks for
  ∂C/∂x too): training never needs ∂C/∂x of the input, and for 784-256-128-10 the product δ·Wᵀ of
  the first layer is 29% of a step's floating-point work. The layers before the first one with
  parameters are skipped and that one calls `Layer.backward_params` (Dense skips the product), as
  PyTorch skips what no tensor requires. So the README's loop as written is the fast path, and
  `fit` runs exactly that loop (section a: the loop and fit within a few per cent of each other).
- `Parameter.accumulate_matmul`: BP4's aᵀ·δ is written straight into the gradient buffer with
  `np.matmul(..., out=)`: no temporary, no copy.
- `Parameter.zero_grad` is lazy (PyTorch's `set_to_none` semantics): it marks the gradient as
  zero and the next backward overwrites the buffer; nothing is filled with zeros every step.
- ReLU and LeakyReLU backward multiply by the 0/1 mask instead of `np.where` (which branches per
  element: 150 µs against 14 µs for a 128x256 batch); LeakyReLU forward is max(z, αz).
- Sigmoid and Tanh backward: one temporary instead of three.
- log_softmax reduces a short class axis on a transposed copy: NumPy's row-by-row max of
  128x10 logits took 15 µs, the vectorised one 3 µs (SoftmaxCrossEntropy forward 43 → 15 µs).
- Optimizers update in place with Python-float coefficients into per-parameter scratch buffers
  (no allocation per step, float32 stays float32); weight decay goes into a scratch buffer, the
  user's `.grad` stays as backward left it.
- Adam keeps its moments as decaying sums (S₁ ← β₁S₁ + g, S₂ ← β₂S₂ + g²; m = (1 − β₁)S₁,
  v = (1 − β₂)S₂) and folds the step size into the denominator: 10 NumPy passes per update
  instead of 13. The epoch went from 0.931 to 0.907 s on 1 thread and from 0.643 to 0.599 s on 2
  (interleaved, same process). Its step is now faster than PyTorch's default Adam (section e).
- Conv2D's backward runs col2im batch-last, (C, kh, kw, Ho, Wo, N): each kernel offset then adds
  runs of Wo·N contiguous numbers instead of rows of Wo (10 in LeNet's second convolution).
  That layer's backward went from 0.212 to 0.140 s per epoch; the LeNet epoch from 1.21x to
  0.97x PyTorch on 1 thread.
- MaxPool2D's backward over tiled windows: the first kernel offset needs no "unclaimed" mask and
  the last takes what is still unclaimed, 12 passes for a 2x2 window instead of 20 (LeNet's two
  pools: 0.066 -> 0.042 s per epoch), ties still routed to the first maximum as in PyTorch.
- `Sequential.dtype` (asked by every forward) looks at the first parameter only.
- Conv2D with a small output (Ho·Wo < 256, LeNet's second convolution) runs batch-last: the
  columns are one (C·kh·kw, Ho·Wo·N) matrix, so forward, ∂C/∂W and ∂C/∂X_col are one product
  each for the batch instead of 64 per-sample products too small for BLAS, and im2col copies runs
  of Wo·N numbers instead of Wo (per batch of 64: im2col 0.85 → 0.20 ms, ∂C/∂W 0.74 → 0.63 ms,
  forward product 0.53 → 0.48 ms plus 0.08 ms for the copy to NCHW, which adds the bias in the
  same pass). The LeNet epoch became 0.90x (0.83–1.00) of what it was on 1 thread and 0.90x on
  2 (median of interleaved rounds; one round hit a stall of the machine, so no range). The first
  convolution (784 output pixels) keeps the per-sample layout: batch-last its im2col is faster
  (0.49 → 0.21 ms) but the product is not (0.60 against 0.62 ms) and the copy of its 301k outputs
  to NCHW costs 0.35 ms.

Before and after the first round of these, the same script in a quiet moment (1 BLAS thread, CPU
time, median of 3 epochs, SGD with momentum, the explicit loop; the first commit's code against
the optimised one): one epoch went from 0.975 s to 0.66 s (1.48x faster), with the matmul ceiling
of the same shapes near 0.45 s, so the achieved fraction rose from about 46% to 70%. The tiny
3-4-1 net was already near its floor (33 µs per step before and after: a step is about 40 NumPy
calls of ~0.6 µs each).

Compiled loops (Numba 0.68, issue 14; `axon.fast`), each against the NumPy code it replaces, one
core, per batch of 64 unless said:

- Conv2D of stride 1 with small kernels (C·kh·kw <= 75) and large outputs (Ho·Wo >= 256, the
  layout im2col served per sample) runs directly, without columns: a compiled loop per kernel row
  over the padded input read as one flat row, 5 (or 3) taps written out so the accumulator is
  read and written once per row. LeNet's first convolution: forward 1.02 → 0.51 ms, ∂C/∂W 0.90 →
  0.51 ms (each sample's share on its thread, summed in sample order: the same bits on any thread
  count). A loop per tap took 0.75 ms, and indices the compiler cannot prove non-negative (`x[o +
  t]` instead of a slice) kept it scalar at 4.8 ms. Other shapes measured (forward, 1 thread):
  3 channels 3×3 at 32×32 1.85 against 2.04 ms, 8 channels 3×3 at 16×16 1.13 against 1.35 ms,
  1 channel 3×3 with 16 filters 0.83 against 0.71 ms (behind; kept for the simple rule). LeNet's
  second convolution (C = 6, 8×8 outputs) stays batch-last on im2col: the direct loop took 1.27
  against 0.58 ms there.
- 2×2 MaxPool2D: one pass that keeps each window's maximum and its offset (uint8), with selects
  and no branch (0.24 ms forward; with a branch per comparison 1.2-1.5 ms), and a backward that
  computes where each gradient goes (0.11 ms; a branch per window, or selects writing all four
  positions, 0.37-0.56 ms); NumPy's 12 passes
  took 0.78 ms for both. A loop for any window size measured 1.3-1.7 ms forward: other windows
  keep the NumPy code. NaN in a window gives NaN, as `np.maximum`.
- The optimizers' updates in one pass over the weights, the same float operations in the same
  order (the same bits, tested): on one array of 235,146 weights SGD with momentum 99 → 48 µs,
  Adam 317 → 99 µs (section e has the MLP's six arrays; with Numba's default error model the
  division's zero check kept Adam's loop scalar: 659 µs).
- The batch split over two threads (`axon._workers`, the BLAS thread count) helps only while
  OpenBLAS's idle threads sleep: right after a 2-thread product they spin on the second vCPU, and
  the first convolution's forward on two threads took 0.84 ms against 0.43 ms with no product
  before it (0.77 ms on one thread). `OPENBLAS_THREAD_TIMEOUT=4` (set before NumPy loads) removes
  that (0.46 ms), but made axon's MLP epoch slower (0.61 → 0.625 s on 2 threads: each product
  wakes the threads again) and PyTorch's faster (0.95 → 0.85 s; it shares the process, and the
  spinning took its second core too), so axon does not set it.

Tried for issue 14 and not kept (every figure measured side by side in one process, float32):

- numexpr 2.14.2 (the manylinux wheel; fused, multi-threaded expressions with `out=`). Results
  are bit-identical to NumPy's when the constants are passed as float32 scalars (a Python float
  makes numexpr compute float32 arrays in float64), but every expression is slower than NumPy's
  separate passes on this machine, at every size tried: ReLU of 200k values 1,113 µs on 1 thread
  and 603 µs on 2, against NumPy's 165 µs; the ReLU mask-multiply 1,116 / 637 against 91 µs;
  Adam's update as 3 fused expressions 1,599 / 981 µs against NumPy's ten passes, 310 µs; SGD's
  504 / 381 against 94 µs; at 1.25M values still 5,564 against 3,882 µs (Adam, 2 threads). Its
  per-call overhead is ~30 µs and its float32 loops run at 0.6 ns a value where NumPy's run at
  0.2 ns.
- Chunked ufuncs on a small pool of Python threads (NumPy releases the GIL), the thread count
  following BLAS's (threadpoolctl), blocks of 100k numbers or more, bit-identical to the plain
  calls. Alone they help: Adam's update of 200k weights 308 → 192 µs, ReLU of 200k 164 → 105 µs,
  a whole Adam step 477 → 367 µs on 2 threads (SGD's 156 → 159 µs: no gain). In an epoch they
  did not: the MLP on 2 threads took 1.06x (1.05–1.10) of the plain epoch with SGD and 1.09x
  (0.86–1.20) with Adam; LeNet with im2col, the convolution products and ReLU split took 1.01x
  (0.99–1.03) on 2 threads, and 1.03x with BLAS on 1 thread and the pool on 2. Two threads on
  this machine's two vCPUs give 1.2x on a 1.25M-value multiply and 1.35x on the convolution's
  batched products, not 2x, and at 2 BLAS threads even the functions that use no BLAS take longer
  (cProfile of one LeNet epoch on 1 and 2 threads: im2col 0.112 → 0.162 s, ReLU 0.025 → 0.038 s,
  pooling's backward 0.073 → 0.100 s), so a hand-off costs what the second half saves.
- `OPENBLAS_THREAD_TIMEOUT=4` (BLAS's idle threads sleep at once instead of spinning): the LeNet
  epoch on 2 threads was no faster (axon / PyTorch 1.18 and 1.24 against 1.23 and 1.33 with the
  default, separate processes in turn).

Tried earlier and not kept: the optimizer's update split over two Python threads (NumPy releases the GIL)
took 0.29 ms and 0.49 ms per Adam step in two runs against 0.33 ms on one thread: the hand-off
costs about what the second half saves, and the thread would compete with BLAS's own;
a flat buffer holding every parameter (one ufunc call per operation instead of one per parameter;
built in full, with the checks that re-pack when an array is replaced, and tested bit for bit
against per-parameter updates) made a step faster (Adam 266-283 against 284-301 µs, SGD 81-87
against 100-114 µs) but the epoch no faster beyond noise (Adam 0.966 against 0.990 s, SGD 0.845
against 0.835 s, interleaved), so parameters keep their own arrays; Adam in
cache-sized chunks was slower (more Python calls); gathering the batch with `np.take(..., out=)`
into a reused buffer was slower than `X[idx]` (0.032 against 0.024 s per epoch); Conv2D entirely
batch-last (one product per layer instead of one per sample) was faster for LeNet's second
convolution (about 0.125 against 0.175 s per epoch) but 2.5x slower for its first (C = 1, F = 6:
a 6 x 25 by 25 x 50,176 product ran at a quarter of the speed of 64 small ones then), so only the
backward's col2im was made batch-last; the layout by output size above came later, and measured
a LeNet epoch with the first convolution batch-last too at about the same speed (0.653 against
0.628 s on 1 thread, 0.571 against 0.598 s on 2, one timing each, so within noise).
"""

ANALYSIS = """\
Why the rows that miss are where they are, from the notes above, the profile below and the
measurements of the optimisations tried (next section):

- MLP against scikit-learn: scikit-learn's epoch runs the same float32 products (no input
  gradient either) through the same NumPy and OpenBLAS, and the ceiling (those products and
  nothing else, near this CPU's peak on one thread) is most of its time: the notes give the
  ceiling's share of each library's epoch. Where it is about half (SGD on 1 thread), 0.6x
  scikit-learn leaves under a tenth of its epoch for all the element-wise work, which the notes
  show takes axon a third or more of its own epoch; only fewer products could meet it.
- What is left besides the products: the optimizer's update (SGD's four NumPy passes and Adam's
  ten over 235k weights whose arrays no longer sit in cache after the forward pass; one compiled
  pass once Numba is loaded, which an MLP alone does not do: section e's *one pass* row), the
  gather of the batch (`X[idx]`, random rows of a 188 MB array, bound by memory), the ReLU masks,
  the bias sums, the loss and Python's calls.
- 2 threads: NumPy's element-wise work stays on one thread. Splitting it over a second thread
  (a thread pool, numexpr) made the epochs slower here, not faster (next section): this machine's
  second vCPU adds far less than a core (1.2-1.35x on large element-wise work and on the small
  products), and at 2 BLAS threads the element-wise functions themselves run slower. PyTorch,
  whose element-wise kernels use both threads, gains more from the second one (compare its 1- and
  2-thread rows).
- The CNN on 2 threads: the first convolution and both poolings run
  compiled loops split over the threads, but right after BLAS's 2-thread products OpenBLAS's idle
  thread spins on the second vCPU for a while, so the split gains little in an epoch (see the
  notes); the second convolution's products, ReLU and the rest run as on 1 thread. PyTorch's
  oneDNN convolution splits the batch over its threads. Without the compiled loops (*NumPy
  only*, `AXON_KERNELS=numpy`) the first convolution's per-sample products (6x25 by 25x784) are under OpenBLAS's threshold for a
  second thread and im2col, ReLU and pooling are element-wise work on one core.
- Rows measured while the machine was busy (*CPU used by others*, the load averages, rounds whose
  every contestant slowed down) move the medians; the ranges show how far.\
"""


SEQUENCES_ANALYSIS = """\
Why the rows are where they are (the ceiling column says how much of axon's time is products):

- LSTM and GRU: the products are batched as far as the recurrence allows (x·W_ih of all steps is
  one product before the walk, the weight gradients two products over all T·N rows after it, ∂C/∂x
  one more; only hₜ₋₁·W_hh and δₜ·W_hhᵀ run per step). What is left is element-wise, and most of it
  is the gates' squashing functions: per LSTM step 5·N·H = 41k tanh values (the sigmoid gates as
  ½(1 + tanh(z/2)), so one tanh call serves all four gates). NumPy's float32 tanh takes about 3 ns
  a value on this CPU (AVX2, no AVX-512; 2.8 ns measured on 41k values, 14.6 ns in float64), so the
  tanh calls of a batch take about 6 ms; the other element-wise passes (about 15 per step forward and 25 backward over (N, H)
  arrays) are the rest of the gap between axon and the ceiling column. PyTorch's CPU LSTM is a fused kernel with vectorised squashing
  functions: it takes little more than its products, which is why the LSTM misses the target while
  the GRU (3·N·H tanh values per step, and PyTorch's GRU is not fused as tightly) meets it.
- Conv1D: im2col over the 5 kernel offsets, the col2im adds of backward and the transposes between
  (N, C, L) and the (C, N·L) column layout of the single product are about a quarter of the time;
  PyTorch's oneDNN convolution runs at its products' speed. A product per kernel offset instead of
  im2col needs the same passes to add the offsets' results (NumPy has no GEMM with beta = 1).
- The transformer encoder is products almost entirely (attention's softmax exp is the largest
  element-wise part); it is slightly ahead of PyTorch.
- 2 threads: NumPy's element-wise work stays on one thread. PyTorch's sequence layers were slower
  on 2 threads than on 1 on this machine (compare its rows), so the 2-thread rows that meet the
  target say that, not that axon gained from the second thread. Rows measured with most of the
  machine taken by other jobs (the last column) measure the machine.\
"""


def _fmt_s(v: float | None) -> str:
    return "–" if v is None else f"{v:.3f}"


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def _paired(row: dict, a: str, b: str) -> float | None:
    """a / b as the median over rounds of the ratio within each round (both measured minutes apart,
    so a slow period of the machine cancels), or the ratio of the medians for rows without rounds."""
    ta, tb = row.get("all", {}).get(a), row.get("all", {}).get(b)
    if ta and tb and len(ta) == len(tb):
        return statistics.median(x / y for x, y in zip(ta, tb))
    return _ratio(row["seconds"].get(a), row["seconds"].get(b))


def _spread(row: dict, a: str, b: str) -> str:
    """``70% (66–73%)``: the paired ratio a / b as a percentage, with its lowest and highest round."""
    ta, tb = row.get("all", {}).get(a), row.get("all", {}).get(b)
    v = _paired(row, a, b)
    if v is None or not ta or not tb or len(ta) != len(tb):
        return _fmt_r(v, True)
    r = [x / y for x, y in zip(ta, tb)]
    return f"{v:.0%} ({min(r):.0%}–{max(r):.0%})"


def _fmt_us(v: float | None) -> str:
    return "–" if v is None else f"{v * 1e6:.0f}"


def _fmt_load(row: dict) -> str:
    v = row.get("other_load")
    return "–" if v is None else f"{v:.0%}"


def _fmt_r(v: float | None, pct: bool = False) -> str:
    if v is None:
        return "–"
    return f"{100 * v:.0f}%" if pct else f"{v:.2f}x"


def _range(row: dict, a: str, b: str) -> str:
    """``0.65x (0.61–0.70)``: the paired ratio a / b with its lowest and highest round."""
    ta, tb = row.get("all", {}).get(a), row.get("all", {}).get(b)
    v = _paired(row, a, b)
    if v is None or not ta or not tb or len(ta) != len(tb):
        return _fmt_r(v)
    r = [x / y for x, y in zip(ta, tb)]
    return f"{v:.2f}x ({min(r):.2f}–{max(r):.2f})"


def mlp_table(rows: list[dict]) -> list[str]:
    names = [LOOP, FIT, TORCH, SK, CEIL]
    out = ["| threads | optimizer | " + " | ".join(names) + " | loop / PyTorch | fit / PyTorch "
           "| loop / scikit-learn | fit / scikit-learn | CPU used by others |",
           "|---|---|" + "---|" * (len(names) + 5)]
    for r in rows:
        s = r["seconds"]
        out.append(f"| {r['threads']} | {r['optimizer']} | " +
                   " | ".join(_fmt_s(s.get(n)) for n in names) +
                   f" | {_range(r, LOOP, TORCH)} | {_range(r, FIT, TORCH)} | {_range(r, LOOP, SK)} "
                   f"| {_range(r, FIT, SK)} | {_fmt_load(r)} |")
    return out


def ceiling_table(rows: list[dict], flops: float) -> list[str]:
    out = ["| threads | optimizer | ceiling GFLOP/s | ceiling / loop | ceiling / fit | fit / loop |",
           "|---|---|---|---|---|---|"]
    for r in rows:
        s = r["seconds"]
        out.append(f"| {r['threads']} | {r['optimizer']} | {flops / s[CEIL] / 1e9:.0f} | "
                   f"{_spread(r, CEIL, LOOP)} | {_spread(r, CEIL, FIT)} | {_range(r, FIT, LOOP)} |")
    return out


def cnn_table(c: dict) -> list[str]:
    """Seconds per epoch: axon (with its compiled loops), axon on NumPy only, PyTorch."""
    out = ["| threads | axon | axon NumPy only | PyTorch | axon / PyTorch | NumPy only / PyTorch "
           "| CPU used by others |", "|---|---|---|---|---|---|---|"]
    for r in c["rows"]:
        s = r["seconds"]
        out.append(f"| {r['threads']} | {_fmt_s(s.get('axon'))} | {_fmt_s(s.get(NUMPY_ONLY))} | "
                   f"{_fmt_s(s.get('torch'))} | {_range(r, 'axon', 'torch')} | {_range(r, NUMPY_ONLY, 'torch')} "
                   f"| {_fmt_load(r)} |")
    return out


def inference_table(rows: list[dict]) -> list[str]:
    """Rows per second of ``predict`` and the time ratios (axon's seconds over the other's)."""
    out = ["| threads | model | batch | axon rows/s | PyTorch rows/s | onnxruntime rows/s "
           "| axon / PyTorch (time) | axon / onnxruntime (time) |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        rate = r["rows_per_s"]
        cells = [("–" if rate.get(k) is None else f"{rate[k]:,.0f}") for k in ("axon", "PyTorch", "onnxruntime")]
        out.append(f"| {r['threads']} | {r['model']} | {r['batch']:,} | {' | '.join(cells)} | "
                   f"{_range(r, 'axon', 'PyTorch')} | {_range(r, 'axon', 'onnxruntime')} |")
    return out


def sequences_table(rows: list[dict]) -> list[str]:
    """Section f: the sequence layers, ms per batch (forward + backward), axon against PyTorch."""
    lines = ["| threads | configuration | axon ms | PyTorch ms | NumPy ceiling ms | axon / PyTorch "
             "| ceiling / axon | CPU used by others |", "|---|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: (r["threads"], r["case"])):
        s = r["seconds"]
        ms = [("–" if s.get(k) is None else f"{s[k] * 1e3:.1f}") for k in ("axon", "PyTorch", "NumPy ceiling")]
        lines.append(f"| {r['threads']} | {r['case']} | {' | '.join(ms)} | {_range(r, 'axon', 'PyTorch')} "
                     f"| {_spread(r, 'NumPy ceiling', 'axon')} | {_fmt_load(r)} |")
    return lines


def targets(results: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) for each target of issue 14 (and the older ones kept) that was measured.

    "measured" gives the median ratio over rounds and, in brackets, its lowest and highest round.
    """
    out: list[tuple[str, str, bool | None]] = []

    def plural(n: int) -> str:
        return f"{n} thread{'s' if n > 1 else ''}"

    for r in results.get("mlp", []):
        for ours, label in ((LOOP, "explicit loop"), (FIT, "fit")):
            for other, need in ((TORCH, 0.7), (SK, 0.6)):
                v = _paired(r, ours, other)
                if v is not None:
                    out.append((f"MLP epoch, axon {label} <= {need}x {other} ({r['optimizer']}, "
                                f"{plural(r['threads'])})", _range(r, ours, other), v <= need))
    for r in results.get("cnn", {}).get("rows", []):
        v = _paired(r, "axon", "torch")
        if v is not None:
            out.append((f"LeNet-like CNN epoch <= 0.9x PyTorch ({plural(r['threads'])})",
                        _range(r, "axon", "torch"), v <= 0.9))
    for r in results.get("inference", []):
        v = _paired(r, "axon", "PyTorch")
        if r["batch"] >= 10_000 and v is not None:
            out.append((f"{r['model']} predict, batch {r['batch']:,}: axon time <= 1.0x PyTorch eager "
                        f"({plural(r['threads'])})", _range(r, "axon", "PyTorch"), v <= 1.0))
    for r in results.get("tiny", []):
        v = _paired(r, "axon", "PyTorch")
        if v is not None:
            out.append((f"tiny net {r['net']}: axon step <= 0.2x PyTorch's (issue 9)", f"{v:.2f}x", v <= 0.2))
    for r in results.get("sequences", []):
        v = _paired(r, "axon", "PyTorch")
        if v is not None:
            out.append((f"{r['case']} forward + backward <= 1.0x PyTorch (issue 15; {plural(r['threads'])})",
                        f"{v:.2f}x", v <= 1.0))
    imp = results.get("imports", {})
    if "axon" in imp:
        out.append(("import axon <= 0.15 s", f"{imp['axon']:.3f} s", imp["axon"] <= 0.15))
    mem = results.get("memory", {})
    if "axon" in mem and "PyTorch" in mem:
        a, t = mem["axon"], mem["PyTorch"]
        out.append(("peak memory of the MNIST-sized fit <= PyTorch's (whole process)",
                    f"{a['peak_mib']:.0f} vs {t['peak_mib']:.0f} MiB", a["peak_mib"] <= t["peak_mib"]))
        da, dt = a["peak_mib"] - a["before_mib"], t["peak_mib"] - t["before_mib"]
        out.append(("… and above the memory held before training", f"{da:.0f} vs {dt:.0f} MiB", da <= dt))
    return out


def markdown(results: dict[str, Any]) -> str:
    from bench.mlp import flops_per_epoch
    env, cfg = results["environment"], results["config"]
    lines = ["# axon benchmarks", "",
             f"Written by `{cfg['command']}` on {cfg['date']} ({cfg['mode']} mode, {cfg['seconds']:.0f} s"
             f"{'' if cfg.get('complete', True) else '; INCOMPLETE: the run was still going or was stopped'}). "
             "Every comparison ran interleaved in one process: each round runs one epoch of every "
             "contestant in every configuration. Times are wall-clock medians; a ratio is the median "
             "over rounds of the ratio within a round, so a slow minute of the shared machine "
             "cancels out of it. *CPU used by others* is the share of the cores other processes "
             "(and the hypervisor) took during a configuration's epochs. "
             "The load averages below say how busy the machine was: with other work on every core, "
             "2 BLAS threads can stall for seconds in OpenBLAS's spin-waits (for NumPy and PyTorch "
             "alike), and those rows measure the machine, not the libraries.", "",
             "## Machine and versions", "", "| | |", "|---|---|"]
    for k, v in env.items():
        if isinstance(v, list):
            v = "<br>".join(v)
        lines.append(f"| {k} | {v} |")
    if "mlp" in results:
        rows = results["mlp"]
        n = rows[0]["n"]
        lines += ["", f"## a. MLP 784-256-128-10, ReLU, softmax cross-entropy, batch 128, {n:,} float32 samples",
                  "", f"Seconds per epoch, median of {cfg['rounds']} epochs. *axon loop* is the explicit loop of "
                  "the README's quick start as written (`model.backward(loss.backward())`: parameter "
                  "gradients only, the fast path, as PyTorch skips what no tensor requires); *fit* is "
                  "`model.fit(epochs=1, verbose=0)` timed from its first to its last batch by a "
                  "callback (its per-call setup is listed below). PyTorch runs its usual loop on the same "
                  "arrays; scikit-learn's MLPClassifier one `partial_fit` (same architecture and solver, "
                  "alpha=0). Each ratio is the median of the rounds' ratios, the lowest and highest "
                  "round in brackets.", ""]
        lines += mlp_table(rows)
        setups = [f"{r['threads']} thread(s), {r['optimizer']}: {r['fit_setup']:.3f} s" for r in rows
                  if r.get("fit_setup") is not None]
        if setups:
            lines += ["", "`fit`'s setup per call (input checks, first permutation; not in the epoch time): " +
                      "; ".join(setups) + "."]
        lines += ["", "## b. The ceiling: NumPy float32 products of exactly one step's shapes", "",
                  "Per batch: three forward products, three aᵀ·δ and the two δ·Wᵀ a step needs, into "
                  "preallocated arrays; nothing else. The fraction is ceiling time / axon time, the "
                  "median over rounds, with the lowest and highest round in brackets.", ""]
        lines += ceiling_table(rows, flops_per_epoch(n))
    if results.get("cnn"):
        c = results["cnn"]
        lines += ["", f"## CNN: LeNet-like, {c['n']:,} synthetic 28×28 images, batch {c['batch']}", "",
                  "conv 6@5×5 pad 2 → ReLU → maxpool 2 → conv 16@5×5 → ReLU → maxpool 2 → 120 → 84 → 10, SGD "
                  f"momentum; seconds per epoch, median of {c['rounds']} interleaved rounds (`bench/cnn.py`).", ""]
        lines += cnn_table(c)
    if results.get("inference"):
        lines += ["", "## Inference: `predict` throughput", "",
                  "The MLP of section a and the CNN above (untrained weights: the work does not depend on "
                  "them), rows per second for one call on a batch of 1, 64 and 10,000 float32 rows "
                  "(`bench/inference.py`): axon's `model.predict(X)` (default batch_size 256), PyTorch eager "
                  "(`torch.inference_mode`, the whole batch in one call, softmax), onnxruntime on the model "
                  "`ax.export_onnx` wrote (softmax in the graph). A ratio is axon's time over the other's, "
                  "the median of interleaved rounds.", ""]
        lines += inference_table(results["inference"])
        if results.get("inference_note"):
            lines += ["", results["inference_note"]]
    if "tiny" in results:
        lines += ["", "## c. Framework overhead: tiny sigmoid nets, 1 thread", "",
                  "| net | steps | axon µs/step | PyTorch µs/step | axon / PyTorch |", "|---|---|---|---|---|"]
        for r in results["tiny"]:
            s = r["seconds"]
            lines.append(f"| {r['net']} | {r['steps']} | {s['axon'] * 1e6:.1f} | "
                         f"{s.get('PyTorch', float('nan')) * 1e6:.1f} | {_fmt_r(_paired(r, 'axon', 'PyTorch'))} |")
    if results.get("optimizer"):
        lines += ["", "## e. The optimizer step alone", "",
                  "`step()` on the MLP's 235,146 parameters with fixed gradients (`bench/optimizer.py`), µs per "
                  "step, median of interleaved rounds. PyTorch's default runs one kernel per operation, as "
                  "axon's NumPy code does (*axon*, what an MLP runs); `fused=True` makes one pass over the "
                  "weights, as axon's compiled loop (*one pass*, what runs once Numba is loaded, e.g. by "
                  "a CNN; the same bits as the NumPy code).", "",
                  "| threads | optimizer | axon | axon one pass | PyTorch | PyTorch fused | axon / PyTorch "
                  "| one pass / PyTorch fused |", "|---|---|---|---|---|---|---|---|"]
        for r in results["optimizer"]:
            s = r["seconds"]
            lines.append(f"| {r['threads']} | {r['optimizer']} | {s['axon'] * 1e6:.0f} | "
                         f"{_fmt_us(s.get(ONE_PASS))} | {_fmt_us(s.get('PyTorch'))} | "
                         f"{_fmt_us(s.get('PyTorch fused'))} | {_fmt_r(_paired(r, 'axon', 'PyTorch'))} | "
                         f"{_fmt_r(_paired(r, ONE_PASS, 'PyTorch fused'))} |")
    if results.get("sequences"):
        from bench.sequences import CONV_SHAPE, ENCODER_SHAPE, RNN_SHAPE
        r, c, e = RNN_SHAPE, CONV_SHAPE, ENCODER_SHAPE
        lines += ["", "## f. Sequence layers (issue 15): one batch, forward + backward", "",
                  f"LSTM and GRU: T = {r['T']}, N = {r['N']}, D = H = {r['H']}, every step's output; Conv1D: "
                  f"({c['N']}, {c['C']}, {c['L']}), {c['F']} filters of {c['k']}; transformer encoder: "
                  f"{e['layers']} pre-norm layers, T = {e['T']}, d = {e['d']}, {e['heads']} heads, "
                  f"feed-forward {e['ff']}, batch {e['N']} (`bench/sequences.py`). The input's gradient is "
                  "computed in both libraries. Milliseconds per batch, median of interleaved rounds; the "
                  "ceiling is NumPy doing only the batch's matrix products.", ""]
        lines += sequences_table(results["sequences"])
        if results.get("sequences_profile"):
            lines += ["", "Where axon's time goes in the configurations that miss the target (cProfile, own time "
                      "per function, 1 thread):", ""]
            for case, text in results["sequences_profile"].items():
                lines += [f"{case}:", "", "```", text, "```", ""]
        lines += ["", SEQUENCES_ANALYSIS]
    if "imports" in results or "memory" in results:
        lines += ["", "## d. Import time and peak memory", ""]
        if results.get("imports"):
            lines += ["Median of fresh interpreters, after one warm-up import that writes the bytecode "
                      "cache (as a first import does unless PYTHONDONTWRITEBYTECODE is set, as it is on "
                      "these machines):", "",
                      "| import | seconds |", "|---|---|"]
            lines += [f"| {k} | {v:.3f} |" for k, v in results["imports"].items()]
        if results.get("memory"):
            lines += ["", "One epoch of the MLP with Adam (axon: `fit`), each in its own process, 1 thread. "
                      "The data (X and y) is held before training starts.", "",
                      "| framework | RSS before training (MiB) | peak RSS (MiB) | peak above before (MiB) | data (MiB) |",
                      "|---|---|---|---|---|"]
            for k, m in results["memory"].items():
                lines.append(f"| {k} | {m['before_mib']:.0f} | {m['peak_mib']:.0f} | "
                             f"{m['peak_mib'] - m['before_mib']:.0f} | {m['data_mib']:.0f} |")
    tg = targets(results)
    if tg:
        lines += ["", "## Targets (issues 14 and 15, and the older ones kept)", "", "| target | measured | met |",
                  "|---|---|---|"]
        lines += [f"| {t} | {m} | {'yes' if ok else 'NO'} |" for t, m, ok in tg]
    if results.get("mlp"):
        lines += ["", "## Where the time goes, and why a target is missed or close", ""] + \
            results.get("notes", []) + ["", ANALYSIS]
    if results.get("profile"):
        lines += ["", "## Profile of one axon epoch", "",
                  f"cProfile, the README's explicit loop, SGD with momentum, "
                  f"{results['profile_threads']} thread(s); `tottime` is the function's own time, numpy's "
                  "products included in the layer that calls them.", "", "```", results["profile"], "```"]
    if results.get("mlp") or results.get("cnn"):
        lines += ["", "## Optimisations", "", OPTIMISATIONS]
    return "\n".join(lines) + "\n"


def console(results: dict[str, Any]) -> str:
    out = []
    if "mlp" in results:
        out += mlp_table(results["mlp"])
    tg = targets(results)
    if tg:
        out += ["", "Targets:"] + [f"  [{'ok' if ok else 'MISSED'}] {t}: {m}" for t, m, ok in tg]
    return "\n".join(out)
