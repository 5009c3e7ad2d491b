"""The search report (:mod:`axon.search.report`) takes each figure's direction from
:data:`axon.search.settings.OBJECTIVES` (no Optuna needed for these)."""

from __future__ import annotations

import pytest

pytest.importorskip("matplotlib")

from axon.search import report  # noqa: E402
from axon.search.result import TrialRecord  # noqa: E402
from axon.search.settings import OBJECTIVES  # noqa: E402
from axon.search.space import Architecture  # noqa: E402


def _record(number: int, generation: int, **figures: float) -> TrialRecord:
    arch = Architecture("8", ("relu",), 0.0, "adam", 1e-3, 32, 0.0, 0.0)
    return TrialRecord(number, "COMPLETE", generation, arch, {"params": 100.0, **figures}, {})


def test_best_per_generation_follows_the_objectives_directions(monkeypatch):
    monkeypatch.setitem(OBJECTIVES, "val_score", "maximize")  # an objective the report does not name
    records = [_record(0, 0, val_score=0.2, val_loss=0.5), _record(1, 0, val_score=0.9, val_loss=0.7),
               _record(2, 1, val_score=0.4, val_loss=0.3), _record(3, 1, val_score=0.1, val_loss=0.2)]
    assert [r.number for r in report.best_per_generation(records, "val_score")] == [1, 2]
    assert [r.number for r in report.best_per_generation(records, "val_loss")] == [0, 3]
