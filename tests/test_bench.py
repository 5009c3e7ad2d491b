"""The benchmark package runs end to end on a tiny problem and writes its report (no timing asserted)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

bench_main = pytest.importorskip("bench.__main__")
pytest.importorskip("threadpoolctl")


def test_ceiling_performs_exactly_one_steps_products():
    from bench import mlp
    # 784·256 + 256·128 + 128·10 weights; forward, aᵀ·δ, and δ·Wᵀ for all but the first layer.
    w = 784 * 256 + 256 * 128 + 128 * 10
    assert mlp.flops_per_epoch(10) == 2 * 10 * (3 * w - 784 * 256)


def test_quick_run_writes_results(tmp_path):
    out = tmp_path / "RESULTS.md"
    rc = bench_main.main(["--samples", "384", "--threads", "1", "--optimizers", "sgd-momentum",
                          "--sections", "mlp", "--out", str(out)])
    assert rc == 0
    text = out.read_text(encoding="utf-8")
    assert "## a. MLP 784-256-128-10" in text and "NumPy matmul ceiling" in text
    assert "## Machine and versions" in text and "numpy" in text
    assert "| 1 | sgd-momentum |" in text


def test_the_axon_contestants_train_the_same_float32_network():
    from bench import mlp

    import axon as ax
    X, y = mlp.make_data(512)
    loss = ax.losses.SoftmaxCrossEntropy()
    with_grad, without = mlp.axon_loop("adam", input_grad=True), mlp.axon_loop("adam", input_grad=False)
    before = loss.forward(with_grad.model.forward(X), y)
    for seed in range(3):
        with_grad.epoch(X, y, seed)
        without.epoch(X, y, seed)
    # skipping the unused input gradient changes no update: the same weights, bit for bit
    assert all(np.array_equal(p.data, q.data) for p, q in zip(with_grad.model.parameters(),
                                                              without.model.parameters()))
    assert all(p.data.dtype == np.float32 for p in without.model.parameters())
    assert loss.forward(without.model.forward(X), y) < 0.8 * before  # it learns (memorises 512 rows)


def test_render_rewrites_the_report_from_saved_figures(tmp_path):
    out = tmp_path / "R.md"
    assert bench_main.main(["--samples", "256", "--threads", "1", "--optimizers", "adam",
                            "--sections", "mlp", "--out", str(out)]) == 0
    saved = out.with_suffix(".json")
    assert saved.exists()
    out.unlink()
    assert bench_main.main(["--render", str(saved), "--out", str(out)]) == 0
    assert "| 1 | adam |" in out.read_text(encoding="utf-8")


def test_ratios_pair_rounds_so_a_slow_round_cancels():
    from bench import report
    # Round 2 ran while the machine was slow: both contestants took twice as long.
    row = {"seconds": {"a": 2.0, "b": 2.0}, "all": {"a": [1.0, 2.0, 1.0], "b": [2.0, 4.0, 2.0]}}
    assert report._paired(row, "a", "b") == 0.5
    assert report._spread(row, "a", "b") == "50% (50%–50%)"
    assert report._paired({"seconds": {"a": 3.0, "b": 4.0}}, "a", "b") == 0.75  # no rounds saved


def test_optimizer_step_section_times_axon_and_renders(tmp_path):
    out = tmp_path / "R.md"
    assert bench_main.main(["--threads", "1", "--sections", "optimizer", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "## e. The optimizer step alone" in text and "| 1 | adam |" in text


def test_inference_section_agrees_with_the_other_runtimes_and_renders():
    from bench import inference, report
    rows = inference.run(1, (1,), log=lambda _: None, budget=0.0, batches=(1, 8))
    assert {(r["model"], r["batch"]) for r in rows} == {(m, b) for m in inference.MODELS for b in (1, 8)}
    assert all(r["rows_per_s"]["axon"] > 0 for r in rows)
    table = "\n".join(report.inference_table(rows))
    assert "| 1 | LeNet-like CNN | 8 |" in table


def test_targets_name_both_thread_counts_and_both_axon_rows():
    from bench import report
    row = {"threads": 2, "optimizer": "adam", "seconds": {},
           "all": {report.LOOP: [0.5, 0.6], report.FIT: [0.5, 0.5], report.TORCH: [1.0, 1.0],
                   report.SK: [1.0, 1.0]}}
    got = {t: (m, ok) for t, m, ok in report.targets({"mlp": [row]})}
    assert got["MLP epoch, axon explicit loop <= 0.7x PyTorch (adam, 2 threads)"] == ("0.55x (0.50–0.60)", True)
    assert got["MLP epoch, axon fit <= 0.6x scikit-learn (adam, 2 threads)"] == ("0.50x (0.50–0.50)", True)
