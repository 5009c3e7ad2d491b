"""The GPU path: the same layer code on device arrays, checked against the CPU.

Every test runs twice: on ``fake`` (tests/fake_gpu.py, a CuPy stand-in on the CPU whose arrays
refuse to become NumPy arrays unasked, so a hot path that would copy to the host, or mix host and
device arrays, fails here as it would on a GPU) and on ``cuda`` (CuPy on a real NVIDIA GPU,
skipped cleanly where there is none). On ``fake`` the numbers are NumPy's own, so results must be
equal to the CPU's; on a GPU, equal to float64 rounding.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import axon as ax
import fake_gpu
from axon import backend
from layer_table import INTEGER_INPUT, LAYERS, TRAINING_MODE, make_input, masked_sequence_model, model_for


@pytest.fixture(params=["fake", "cuda"])
def device(request):
    """"cuda" on the stand-in (always) or on a real GPU (skipped without CuPy and a device)."""
    if request.param == "fake":
        fake_gpu.use()
        yield "fake"
        backend.use_gpu_module(None)
        return
    backend.use_gpu_module(None)
    try:
        backend.gpu()
    except backend.DeviceError:
        pytest.skip("needs CuPy and an NVIDIA GPU")
    yield "cuda"


def _close(device, a, b, rtol=1e-10, atol=1e-12):
    """Device result ``a`` equals CPU result ``b`` (exactly on the stand-in)."""
    assert backend.on_gpu(a), f"the result is a {type(a).__name__}, not a device array"
    a = backend.to_host(a)
    if device == "fake":
        np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


@pytest.mark.parametrize("kind", sorted(set(LAYERS) - {"dropout"}))
def test_every_layer_runs_on_the_device_as_on_the_cpu(kind, device):
    ax.set_seed(0)
    cpu, in_shape = model_for(kind, 4)
    gpu = copy.deepcopy(cpu).to("cuda")
    assert gpu.device == "cuda" and cpu.device == "cpu"
    rng = np.random.default_rng(1)
    X = make_input(kind, (5, *in_shape), rng, np.float64)
    g = rng.normal(size=(5, 2))
    training = kind in TRAINING_MODE
    results = []
    for model, grad in ((cpu, g), (gpu, backend.to_device(g, "cuda"))):
        for _ in range(2):  # twice: scratch buffers and caches are reused on the second pass
            out = model.forward(X, training=training)
            model.zero_grad()
            gx = model.backward(grad, input_grad=True)
        results.append((out, gx, [p.grad for p in model.parameters()],
                        [v for layer in model.layers for v in layer.buffers().values()]))
    (out_c, gx_c, grads_c, bufs_c), (out_g, gx_g, grads_g, bufs_g) = results
    _close(device, out_g, out_c)
    if kind not in INTEGER_INPUT:
        _close(device, gx_g, gx_c)
    for a, b in zip(grads_g + bufs_g, grads_c + bufs_c):
        _close(device, a, b)
    assert all(backend.on_gpu(p.data) for p in gpu.parameters())


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_gradients_check_on_the_device(kind, device):
    ax.set_seed(2)
    model, in_shape = model_for(kind, 3)
    model.to("cuda")
    rng = np.random.default_rng(3)
    X = make_input(kind, (4, *in_shape), rng, np.float64)
    report = ax.gradcheck(model, ax.losses.MSE(), X, rng.normal(size=(4, 2)), training=kind in TRAINING_MODE,
                          max_entries=20)
    assert report.max_rel_error <= 1e-6, str(report)


def test_a_masked_sequence_model_on_the_device(device):
    """The paths the table's small cases miss (layer_table.masked_sequence_model), and an LSTM
    started from a given state."""
    cpu, ids = masked_sequence_model(4, 5, 8)
    gpu = copy.deepcopy(cpu).to("cuda")
    rng = np.random.default_rng(12)
    g = rng.normal(size=(5, 2))
    results = []
    for model, grad in ((cpu, g), (gpu, backend.to_device(g, "cuda"))):
        out = model.forward(ids, training=True)
        model.zero_grad()
        model.backward(grad)
        results.append((out, [p.grad for p in model.parameters()]))
    _close(device, results[1][0], results[0][0])
    for a, b in zip(results[1][1], results[0][1]):
        _close(device, a, b)
    lstm_cpu, lstm_gpu = cpu.layers[1], gpu.layers[1]
    h0 = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    x = rng.normal(size=(5, 6, 4))
    _close(device, lstm_gpu.forward(backend.to_device(x, "cuda"), initial_state=h0), lstm_cpu.forward(x, initial_state=h0))


def test_dropout_on_the_device_is_inverted_dropout(device):
    layer = ax.Dropout(0.25, seed=0)
    x = backend.to_device(np.ones((200, 50)), "cuda")
    y = layer.forward(x, training=True)
    assert backend.on_gpu(y)
    values = backend.to_host(y)
    assert set(np.unique(values)) <= {0.0, 1 / 0.75}
    assert 0.2 < np.mean(values == 0) < 0.3
    np.testing.assert_array_equal(backend.to_host(layer.backward(x)), values)
    again = ax.Dropout(0.25, seed=0).forward(x, training=True)  # the same seed, the same masks
    np.testing.assert_array_equal(backend.to_host(again), values)


LOSSES = {
    "mse": (ax.losses.MSE(), "values"),
    "quadratic": (ax.losses.QuadraticCost(), "values"),
    "bce": (ax.losses.BinaryCrossEntropy(), "probabilities"),
    "bce_probabilities": (ax.losses.BinaryCrossEntropy(from_logits=False), "probabilities"),
    "cross_entropy_cost": (ax.losses.CrossEntropyCost(), "probabilities"),
    "softmax_ce_labels": (ax.losses.SoftmaxCrossEntropy(), "labels"),
    "softmax_ce_onehot": (ax.losses.SoftmaxCrossEntropy(), "onehot"),
    "mse_labels": (ax.losses.MSE(), "labels"),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_every_loss_on_the_device(name, device):
    loss, kind = LOSSES[name]
    rng = np.random.default_rng(4)
    out = rng.normal(size=(6, 3))
    if name == "bce_probabilities":
        out = 1 / (1 + np.exp(-out))
    target = {"values": rng.normal(size=(6, 3)), "probabilities": rng.random((6, 3)),
              "labels": rng.integers(0, 3, 6), "onehot": np.eye(3)[rng.integers(0, 3, 6)]}[kind]
    cpu_value, cpu_grad = loss.forward(out, target), loss.backward()
    for t in (target, backend.to_device(target, "cuda")):  # NumPy targets are taken to the device
        value = loss.forward(backend.to_device(out, "cuda"), t)
        assert isinstance(value, float)
        assert value == pytest.approx(cpu_value, rel=1e-12)
        _close(device, loss.backward(), cpu_grad)
    _close(device, loss.link(backend.to_device(out, "cuda")), loss.link(out))


OPTIMIZERS = {
    "sgd": lambda: ax.optim.SGD(lr=0.1),
    "momentum": lambda: ax.optim.SGD(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "adam": lambda: ax.optim.Adam(lr=0.01, clip_norm=0.5),
    "adamw": lambda: ax.optim.AdamW(lr=0.01, weight_decay=0.1),
    "rmsprop": lambda: ax.optim.RMSProp(lr=0.01, momentum=0.5, centered=True),
    "adagrad": lambda: ax.optim.AdaGrad(lr=0.1),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_steps_on_the_device_as_on_the_cpu(name, device):
    ax.set_seed(5)
    cpu = ax.Sequential(ax.Dense(4, 3), ax.Tanh(), ax.Dense(3, 2)).to_dtype(np.float64)
    gpu = copy.deepcopy(cpu)
    rng = np.random.default_rng(6)
    X, y = rng.normal(size=(8, 4)), rng.normal(size=(8, 2))
    for model in (cpu, gpu):
        model.compile("mse", OPTIMIZERS[name]())
    cpu.fit(X, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    gpu.fit(X, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    gpu.to("cuda")  # the optimizer state made on the CPU moves with the model
    assert all(backend.on_gpu(v) for s in gpu.optimizer.state for v in s.values() if backend.is_array(v))
    gpu.fit(X, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    for a, b in zip(gpu.parameters(), cpu.parameters()):
        _close(device, a.data, b.data)
    gpu.to("cpu")
    assert all(isinstance(p.data, np.ndarray) for p in gpu.parameters())
    assert all(isinstance(v, np.ndarray) for s in gpu.optimizer.state for v in s.values() if backend.is_array(v))


def _digits_like(n=96, seed=7):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 1, 8, 8)).astype(np.float32)
    y = (X[:, 0, :4].sum(axis=(1, 2)) > 0).astype(np.int64) + (X[:, 0, 4:].sum(axis=(1, 2)) > 0)
    return X, y


def _cnn():
    ax.set_seed(8)
    model = ax.Sequential(ax.Conv2D(1, 4, 3, padding=1), ax.BatchNorm2d(4), ax.ReLU(), ax.MaxPool2D(2),
                          ax.Flatten(), ax.Dense(64, 16), ax.ReLU(), ax.Dropout(0.2), ax.Dense(16, 3))
    model.compile("cross_entropy", ax.optim.Adam(lr=0.01), metrics=["accuracy"])
    return model


def test_fit_on_the_device_keeps_the_cpu_schedule_and_predicts_numpy(device, tmp_path):
    X, y = _digits_like()
    cpu, gpu = _cnn(), _cnn()
    cb = [ax.callbacks.EarlyStopping(patience=5, restore_best=True)]
    h_cpu = cpu.fit(X[:64], y[:64], epochs=3, batch_size=16, validation_data=(X[64:], y[64:]), seed=1,
                    verbose=0, callbacks=cb)
    h_gpu = gpu.fit(X[:64], y[:64], epochs=3, batch_size=16, validation_data=(X[64:], y[64:]), seed=1,
                    verbose=0, device="cuda", callbacks=[ax.callbacks.EarlyStopping(patience=5, restore_best=True)])
    assert gpu.device == "cuda"
    # Dropout draws its masks on the device, from the same seeds: other masks, the same run shape
    assert h_gpu.history.keys() == h_cpu.history.keys() and len(h_gpu.epoch) == 3
    assert all(np.isfinite(v).all() for v in h_gpu.history.values())
    p = gpu.predict(X)
    assert isinstance(p, np.ndarray) and p.shape == (96, 3)
    assert isinstance(gpu.evaluate(X, y)["accuracy"], float)
    # a model trained on the GPU is saved from host memory and predicts the same on a CPU
    path = tmp_path / "gpu.axon"
    gpu.save(path)
    back = ax.load_model(path)
    assert back.device == "cpu"
    np.testing.assert_allclose(back.predict(X), p, rtol=1e-5, atol=1e-6)
    assert all(isinstance(v, np.ndarray) for v in gpu.state_dict().values())


def test_fit_without_dropout_matches_the_cpu_run_exactly_on_the_stand_in(device):
    X, y = _digits_like()
    X = X.reshape(len(X), 64)
    models = []
    for dev in ("cpu", "cuda"):
        ax.set_seed(9)
        model = ax.Sequential(ax.Dense(64, 16), ax.BatchNorm1d(16), ax.ReLU(), ax.Dense(16, 3))
        model.compile("cross_entropy", ax.optim.SGD(lr=0.1, momentum=0.9), metrics=["accuracy", "top_2_accuracy"])
        h = model.fit(X, y, epochs=2, batch_size=10, seed=3, verbose=0, device=dev, validation_split=0.25)
        models.append((model, h))
    (cpu, h_cpu), (gpu, h_gpu) = models
    tol = 0 if device == "fake" else 1e-4
    for key in h_cpu.history:
        np.testing.assert_allclose(h_gpu.history[key], h_cpu.history[key], rtol=tol, atol=tol)
    np.testing.assert_allclose(gpu.predict(X), cpu.predict(X), rtol=tol, atol=tol)


def test_a_standardizer_meets_the_data_on_the_device(device):
    from axon.preprocessing import Standardizer

    rng = np.random.default_rng(12)
    X = (rng.normal(size=(40, 3)) * [1, 10, 100] + 5).astype(np.float32)
    y = rng.normal(size=(40, 1)).astype(np.float32)
    models = []
    for dev in ("cpu", "cuda"):
        ax.set_seed(13)
        model = ax.Sequential(ax.Dense(3, 4), ax.Tanh(), ax.Dense(4, 1))
        model.preprocessor = Standardizer().fit(X)
        model.compile("mse", "adam")
        model.fit(X, y, epochs=2, batch_size=8, seed=0, verbose=0, device=dev)
        models.append(model)
    tol = 0 if device == "fake" else 1e-5
    np.testing.assert_allclose(models[1].predict(X), models[0].predict(X), rtol=tol, atol=tol)
    fitted_there = Standardizer().fit(backend.to_device(X, "cuda"))  # statistics come back to the host
    assert isinstance(fitted_there.mean_, np.ndarray)


def test_fit_puts_the_prepared_data_on_the_device_in_the_model_dtype(device, monkeypatch):
    from axon.preprocessing import Standardizer
    from axon.training import FitLoop

    X, y = _digits_like()
    seen = []
    run = FitLoop.run
    monkeypatch.setattr(FitLoop, "run", lambda self, *a: seen.append(self) or run(self, *a))
    model = _cnn()
    model.preprocessor = Standardizer().fit(X)
    model.fit(X.astype(np.float64), y, epochs=1, batch_size=16, verbose=0, device="cuda", validation_split=0.25)
    loop = seen[0]
    for a in (loop.X, loop.val[0]):  # standardised once, in float32: not raw float64 data cast per batch
        assert backend.on_gpu(a) and a.dtype == np.float32
    np.testing.assert_allclose(backend.to_host(loop.X), model.preprocessor.transform(X[:72]), rtol=1e-6, atol=1e-6)


def test_data_too_large_for_the_device_goes_over_batch_by_batch(device, monkeypatch):
    X, y = _digits_like()
    cpu, gpu = _cnn(), _cnn()
    cpu.layers[7].p = gpu.layers[7].p = 0.0  # no dropout: the two runs draw the same numbers
    monkeypatch.setattr(backend, "free_memory", lambda: 0)
    h_cpu = cpu.fit(X, y, epochs=2, batch_size=16, seed=2, verbose=0)
    h_gpu = gpu.fit(X, y, epochs=2, batch_size=16, seed=2, verbose=0, device="gpu")
    tol = 0 if device == "fake" else 1e-4
    np.testing.assert_allclose(h_gpu.history["loss"], h_cpu.history["loss"], rtol=tol, atol=tol)


def test_axon_train_on_the_device(device, tmp_path, capsys):
    from axon.cli.main import main
    from axon.runs import read_json

    run = tmp_path / "run"
    assert main(["train", "--device", "cuda", "--epochs", "2", "--quiet", "--out", str(run)]) == 0
    assert read_json(run / "run.json")["config"]["device"] == "cuda"
    metrics = read_json(run / "metrics.json")
    assert metrics["status"] == "completed" and metrics["test"]["accuracy"] > 0.8
    model = ax.load_model(run / "model.axon")
    assert model.device == "cpu" and (run / "report.html").is_file()


def test_fit_takes_data_already_on_the_device(device):
    X, y = _digits_like()
    model = _cnn()
    Xd, yd = backend.to_device(X, "cuda"), backend.to_device(y, "cuda")
    history = model.fit(Xd, yd, epochs=1, batch_size=16, verbose=0, device="cuda", validation_split=0.25)
    from_host = _cnn().fit(X, y, epochs=1, batch_size=16, verbose=0, device="cuda", validation_split=0.25)
    assert np.isfinite(history.history["val_loss"][0])
    assert history.history == from_host.history  # the same run whether the data started on the host or not
    assert isinstance(model.predict(Xd), np.ndarray)
    with pytest.raises(ValueError, match="label 3"):
        model.fit(Xd, backend.to_device(np.full(len(y), 3), "cuda"), verbose=0)


def test_resume_on_the_device_is_exact(device, tmp_path):
    X, y = _digits_like()
    whole = _cnn()
    whole.fit(X, y, epochs=3, batch_size=16, seed=4, verbose=0, device="cuda")
    first = _cnn()
    ck = tmp_path / "ck.axon"
    first.fit(X, y, epochs=2, batch_size=16, seed=4, verbose=0, device="cuda",
              callbacks=[ax.callbacks.ModelCheckpoint(ck)])
    resumed = _cnn()
    resumed.fit(X, y, epochs=3, batch_size=16, seed=4, verbose=0, device="cuda", resume_from=ck)
    assert resumed.device == "cuda"
    for a, b in zip(resumed.parameters(), whole.parameters()):
        np.testing.assert_array_equal(backend.to_host(a.data), backend.to_host(b.data))


def test_a_callback_may_keep_device_arrays_in_its_checkpoint_state(device, tmp_path):
    class KeepsLastWeights(ax.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.last = self.model.parameters()[0].data.copy()  # where the model is

        def state_dict(self):
            return {"last": self.last}

    X, y = _digits_like()
    model = _cnn()
    keeper = KeepsLastWeights()
    ck = tmp_path / "ck.axon"
    model.fit(X, y, epochs=1, batch_size=16, verbose=0, device="cuda",
              callbacks=[keeper, ax.callbacks.ModelCheckpoint(ck)])
    assert backend.on_gpu(keeper.last)
    (state,) = [c["state"] for c in ax.load_checkpoint(ck).extra["callbacks"] if c["type"] == "KeepsLastWeights"]
    assert isinstance(state["last"], np.ndarray)
    np.testing.assert_array_equal(state["last"], backend.to_host(keeper.last))


def test_data_crosses_to_the_device_once_not_per_batch(device):
    if device != "fake":
        pytest.skip("counts the stand-in's copies")
    X, y = _digits_like(200)
    counts = []
    for epochs in (1, 3):
        model = _cnn()
        fake_gpu.transfers.update(to_device=0, to_host=0)
        model.fit(X, y, epochs=epochs, batch_size=10, verbose=0, device="cuda")  # 20 batches an epoch
        counts.append(dict(fake_gpu.transfers))
    # per epoch: the shuffled order goes over, nothing comes back; the rest happens once per fit
    assert counts[1]["to_device"] - counts[0]["to_device"] <= 2 * 2
    assert counts[1]["to_host"] == counts[0]["to_host"]


def test_every_device_name_is_checked():
    with pytest.raises(backend.DeviceError, match="'cpu' or 'cuda'"):
        ax.Sequential(ax.Dense(2, 1)).to("tpu")
    assert ax.Sequential(ax.Dense(2, 1)).to("cpu").device == "cpu"


def test_without_cupy_the_gpu_is_one_clear_error(monkeypatch):
    backend.use_gpu_module(None)
    monkeypatch.setitem(sys.modules, "cupy", None)  # import cupy raises ImportError
    with pytest.raises(backend.DeviceError, match=r"pip install -e \"\.\[gpu\]\".*cupy-cuda12x"):
        ax.Sequential(ax.Dense(2, 1)).to("cuda")


def test_the_command_line_says_what_to_install(monkeypatch, capsys, tmp_path):
    from axon.cli.main import main

    backend.use_gpu_module(None)
    monkeypatch.setitem(sys.modules, "cupy", None)
    code = main(["train", "--device", "cuda", "--epochs", "1", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and "cupy" in err.lower() and "Traceback" not in err


def test_import_axon_never_imports_cupy():
    code = "import sys, axon; print('cupy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_the_gpu_check_script_runs_on_the_stand_in(tmp_path):
    """bench/gpu.py, prepared for a machine with a GPU, runs end to end here (its figures mean nothing)."""
    repo = Path(__file__).resolve().parents[1]
    if str(repo) not in sys.path:
        sys.path.insert(0, str(repo))
    from bench import gpu

    out = tmp_path / "RESULTS-gpu"
    try:
        assert gpu.main(["--stand-in", "--quick", "--samples", "256", "--out", str(out)]) == 0
    finally:
        backend.use_gpu_module(None)
    text = out.with_suffix(".md").read_text()
    for part in ("## 1. Every layer", "| conv2d |", "| loss SoftmaxCrossEntropy |", "## 2. Seconds",
                 "| LeNet-like CNN | 1024 | axon on CuPy (fit)", "## 3. The matrix ceiling", "## Summary"):
        assert part in text
    assert "FAILED" not in text


def test_the_example_of_docs_gpu_md_runs(device, tmp_path, monkeypatch):
    import re

    text = (Path(__file__).resolve().parents[1] / "docs" / "gpu.md").read_text(encoding="utf-8")
    snippet = re.findall(r"```python\n(.*?)```", text, flags=re.S)[0]
    rng = np.random.default_rng(14)
    X, X_test = rng.normal(size=(64, 784)).astype(np.float32), rng.normal(size=(8, 784)).astype(np.float32)
    names = {"X": X, "y": rng.integers(0, 10, 64), "X_test": X_test}
    monkeypatch.chdir(tmp_path)
    exec(compile(snippet, "docs/gpu.md", "exec"), names)
    assert isinstance(names["probabilities"], np.ndarray) and names["model"].device == "cpu"
    assert ax.load_model(tmp_path / "digits.axon").count_params() == names["model"].count_params()


#: NumPy calls that make host arrays (or scatter on the host): in a function that runs per batch
#: they would copy a GPU array to the host, or fail on it.
HOST_MAKERS = {"zeros", "empty", "ones", "full", "arange", "eye", "identity", "array", "asarray",
               "ascontiguousarray", "asfortranarray", "linspace", "frombuffer", "random", "add.at"}
#: (module, function) where a host array is right, and why.
HOST_ON_PURPOSE = {
    ("axon/training.py", "predict"): "the result is a NumPy array by contract",
    ("axon/layers/positional.py", "sinusoids"): "the table is built once, then moved (PositionalEncoding.table)",
    ("axon/preprocessing.py", "from_arrays"): "statistics read from a model file",
    ("axon/gradcheck.py", "_central_differences"): "the sampled indices and the numerical derivatives",
}
#: Modules that only ever see NumPy arrays: the layers call them for NumPy inputs only.
HOST_ONLY_MODULES = {"axon/layers/compiled.py", "axon/layers/compiled_loops.py"}


def _host_makers_in(path):
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for fn in ast.walk(tree):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or fn.name == "__init__":
            continue  # constructors make the parameters on the host; model.to moves them
        for node in ast.walk(fn):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                name = ast.unparse(node.func)
                if name.startswith("np.") and name[3:] in HOST_MAKERS | {"random." + n for n in ("rand", "random")}:
                    found.append((fn.name, name, node.lineno))
    return found


def test_no_host_array_is_made_in_a_hot_path():
    """The static side of the stand-in's check: the functions of the layers, losses, optimizers
    and the training loop make their arrays through axon.backend (initialisers aside)."""
    src = Path(__file__).resolve().parents[1] / "src"
    files = [*sorted((src / "axon" / "layers").glob("*.py")), *sorted((src / "axon" / "optim").glob("*.py"))]
    files += [src / "axon" / name for name in ("losses.py", "functions.py", "parameter.py", "metrics.py",
                                               "training.py", "preprocessing.py", "gradcheck.py")]
    offenders, excused = [], set()
    for path in files:
        module = str(path.relative_to(src))
        if module in HOST_ONLY_MODULES:
            continue
        for fn, call, line in _host_makers_in(path):
            if (module, fn) in HOST_ON_PURPOSE:
                excused.add((module, fn))
            else:
                offenders.append(f"{module}:{line} {fn}: {call}")
    assert excused == set(HOST_ON_PURPOSE), f"excuses no longer needed: {set(HOST_ON_PURPOSE) - excused}"
    assert not offenders, "host arrays made per batch (use backend.namespace(x).<fn>):\n" + "\n".join(offenders)


def test_reports_count_device_labels_on_the_host(device):
    y, p = np.array([0, 1, 2, 2, 1]), np.array([0, 2, 2, 2, 1])
    c = ax.metrics.confusion_matrix(backend.to_device(y, "cuda"), backend.to_device(p, "cuda"))
    assert type(c) is np.ndarray
    np.testing.assert_array_equal(c, ax.metrics.confusion_matrix(y, p))
