"""axon.fast: who loads Numba, and when (fresh interpreters, so that nothing loaded it before)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.importorskip("numba")


def _run(code: str, **env: str) -> list[str]:
    result = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env},
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_an_mlp_never_loads_numba_and_its_optimizer_keeps_the_numpy_code():
    # Loading Numba costs ~0.4 s and ~150 MiB (LLVM): more than the one-pass step saves an MLP.
    out = _run("import sys, numpy as np, axon as ax\n"
               "m = ax.Sequential(ax.Dense(20, 16), ax.ReLU(), ax.Dense(16, 3))\n"
               "m.compile(loss=ax.losses.SoftmaxCrossEntropy(), optimizer=ax.optim.Adam())\n"
               "X = np.random.default_rng(0).random((64, 20), dtype=np.float32)\n"
               "m.fit(X, np.arange(64) % 3, epochs=2, verbose=0)\n"
               "print('numba' in sys.modules, ax.fast.loops('axon.optim.compiled_loops', load=False))")
    assert out == ["False", "None"]


def test_a_cnn_loads_numba_and_then_the_optimizer_uses_the_one_pass_step():
    out = _run("import sys, numpy as np, axon as ax\n"
               "m = ax.Sequential(ax.Conv2D(1, 4, 5, padding=2), ax.ReLU(), ax.MaxPool2D(2), ax.Flatten(),\n"
               "                  ax.Dense(4 * 14 * 14, 3))\n"
               "opt = ax.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)\n"
               "X = np.random.default_rng(0).random((8, 1, 28, 28), dtype=np.float32)\n"
               "loss = ax.losses.SoftmaxCrossEntropy()\n"
               "for _ in range(3):\n"
               "    loss.forward(m.forward(X, training=True), np.arange(8) % 3)\n"
               "    m.zero_grad(); m.backward(loss.backward()); opt.step()\n"
               "print('numba' in sys.modules, m.layers[0]._layout, opt._fused(m.layers[0].weight.data) is not None)")
    assert out == ["True", "direct", "True"]


def test_axon_kernels_numpy_keeps_numba_out_even_for_a_cnn():
    out = _run("import sys, numpy as np, axon as ax\n"
               "c = ax.Conv2D(1, 2, 5, padding=2); c.forward(np.zeros((1, 1, 20, 20), 'float32'))\n"
               "p = ax.MaxPool2D(2); p.forward(np.zeros((1, 1, 20, 20), 'float32'))\n"
               "print('numba' in sys.modules, c._layout, hasattr(p, '_arg'))", AXON_KERNELS="numpy")
    assert out == ["False", "per_sample", "False"]


def test_a_numba_that_cannot_work_here_warns_and_the_numpy_code_runs(monkeypatch):
    import importlib

    import numpy as np

    import axon as ax
    from axon import fast

    def broken(name):
        raise RuntimeError("cannot cache function 'conv2d': no locator available")
    monkeypatch.setattr(fast, "_modules", {})
    monkeypatch.setattr(fast, "_enabled", True)
    monkeypatch.setattr(importlib, "import_module", broken)
    conv = ax.Conv2D(1, 2, 5, padding=2)
    with pytest.warns(RuntimeWarning, match="NUMBA_CACHE_DIR"):
        y = conv.forward(np.zeros((2, 1, 20, 20), np.float32))
    assert conv._layout == "per_sample" and y.shape == (2, 2, 20, 20)


def test_other_dtypes_keep_the_numpy_code():
    import numpy as np

    import axon as ax
    x = np.arange(2 * 3 * 6 * 6).reshape(2, 3, 6, 6) % 7     # integers, e.g. raw pixels
    pool = ax.MaxPool2D(2)
    y = pool.forward(x)
    assert not hasattr(pool, "_arg") and y.dtype == x.dtype
    np.testing.assert_array_equal(y, x.reshape(2, 3, 3, 2, 3, 2).max(axis=(3, 5)))


def test_the_enabled_context_switches_the_loops_for_its_block_and_restores_the_setting():
    import numpy as np

    import axon as ax
    from axon import fast
    conv, x = ax.Conv2D(1, 2, 5, padding=2), np.zeros((1, 1, 20, 20), np.float32)
    before = fast._enabled
    with fast.enabled(False):
        conv.forward(x)
        assert conv._layout == "per_sample"
        with pytest.raises(ValueError), fast.enabled(True):
            raise ValueError("the setting comes back even so")
        assert fast._enabled is False
    assert fast._enabled is before
    conv.forward(x)
    assert conv._layout == ("direct" if before else "per_sample")
