"""The sequence section of the benchmarks runs and renders (one short round; no timing asserted)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

pytest.importorskip("threadpoolctl")  # a dev dependency; the bench modules below are the project's own

from bench import report, sequences  # noqa: E402


def test_the_ceiling_does_the_products_of_one_lstm_batch():
    s = sequences.RNN_SHAPE
    flops = sum(2 * a[0] * a[1] * b[1] for a, b in sequences.products("LSTM"))
    # forward: x·W_ih once and hₜ₋₁·W_hh per step; backward: δₜ·W_hhᵀ per step, then ∂W_ih, ∂W_hh, ∂x.
    TN, D, H = s["T"] * s["N"], s["D"], s["H"]
    assert flops == 2 * (TN * D * 4 * H + TN * H * 4 * H + TN * 4 * H * H + D * TN * 4 * H + H * TN * 4 * H
                         + TN * 4 * H * D)


def test_one_round_runs_and_renders():
    rows = sequences.run(rounds=1, thread_counts=(1,), log=lambda _: None, reps=1, cases=("Conv1D",))
    assert rows[0]["case"] == "Conv1D" and rows[0]["seconds"]["axon"] > 0
    text = "\n".join(report.sequences_table(rows))
    assert "| 1 | Conv1D |" in text
    assert any("Conv1D forward + backward" in t for t, _, _ in report.targets({"sequences": rows}))
