"""``import`` time and the peak memory of an MNIST-sized fit, each in a fresh interpreter.

Run as a module for one measurement: ``python -m bench.startup memory axon 60000`` prints JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable

from bench.common import median

IMPORTS = {"numpy": "import numpy", "axon": "import axon", "PyTorch": "import torch",
           "scikit-learn": "import sklearn.neural_network"}

_IMPORT_SNIPPET = "import time; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"


def _python(args: list[str], env_extra: dict | None = None, write_bytecode: bool = False) -> str:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, **(env_extra or {})}
    if write_bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    return subprocess.run([sys.executable, *args], cwd=root, env=env, check=True, capture_output=True,
                          text=True).stdout


def import_times(repeats: int, log: Callable[[str], None] = print) -> dict[str, float]:
    """Median seconds of ``import X`` in a fresh interpreter, after one untimed warm-up.

    The warm-up writes the bytecode cache even where PYTHONDONTWRITEBYTECODE is set (as on the
    machines these benchmarks run on): an installed package is compiled by pip and a source checkout
    on its first import, so recompiling every module each time measures the setting, not the import.
    """
    out = {}
    for name, stmt in IMPORTS.items():
        try:
            _python(["-c", stmt], write_bytecode=True)
        except subprocess.CalledProcessError:
            continue
        times = [float(_python(["-c", _IMPORT_SNIPPET.format(stmt=stmt)])) for _ in range(repeats)]
        out[name] = median(times)
        log(f"  import {name}: {out[name] * 1e3:.0f} ms")
    return out


def _status_kib(field: str) -> int:
    """A memory figure of this process from /proc/self/status, in KiB (VmRSS now, VmHWM peak).

    VmHWM, not getrusage's ru_maxrss: the latter keeps the parent's peak across fork and exec.
    """
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _measure_memory(framework: str, n: int) -> dict:
    """Train one epoch of the MLP; RSS before training and the process's peak, in MiB."""
    import warnings

    from bench import mlp
    if framework == "PyTorch":
        import torch
        torch.set_num_threads(1)
    X, y = mlp.make_data(n)
    if framework == "axon":
        import axon as ax
        model = mlp._axon_model()
        model.compile(loss=ax.losses.SoftmaxCrossEntropy(), optimizer=mlp._axon_optimizer("adam"))
        train = lambda: model.fit(X, y, epochs=1, batch_size=mlp.BATCH, seed=0, verbose=0)  # noqa: E731
    elif framework == "PyTorch":
        train = lambda: mlp.torch_loop("adam").epoch(X, y, 0)  # noqa: E731
    else:
        r = mlp.sklearn_mlp("adam")
        train = lambda: r.epoch(X, y, 0)  # noqa: E731
    before = _status_kib("VmRSS")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        train()
    peak = _status_kib("VmHWM")
    return {"before_mib": before / 1024, "peak_mib": peak / 1024, "data_mib": (X.nbytes + y.nbytes) / 2**20}


def peak_memory(n: int, log: Callable[[str], None] = print) -> dict[str, dict]:
    """Peak resident memory of one epoch of training (Adam), per framework, each in its own process."""
    out = {}
    for name in ("axon", "PyTorch", "scikit-learn"):
        try:
            out[name] = json.loads(_python(["-m", "bench.startup", "memory", name, str(n)],
                                           {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}))
        except subprocess.CalledProcessError as exc:
            log(f"  memory {name}: failed ({exc.stderr.strip().splitlines()[-1:]})")
            continue
        m = out[name]
        log(f"  memory {name}: peak {m['peak_mib']:.0f} MiB, {m['peak_mib'] - m['before_mib']:.0f} MiB "
            f"above the {m['before_mib']:.0f} MiB before training")
    return out


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "memory":
        print(json.dumps(_measure_memory(sys.argv[2], int(sys.argv[3]))))
    else:
        sys.exit("usage: python -m bench.startup memory axon|PyTorch|scikit-learn N")
