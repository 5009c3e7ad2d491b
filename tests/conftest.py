"""Shared test fixtures: float64 defaults restored, paths to ../shared."""

from __future__ import annotations

from pathlib import Path

import pytest

import axon as ax

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread():
    """The tests' products are small: one BLAS thread is faster, and immune to a busy machine."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.fixture(autouse=True)
def _restore_default_dtype():
    """Tests may switch the default dtype; put float32 back afterwards."""
    before = ax.get_default_dtype()
    yield
    ax.set_default_dtype(before)


@pytest.fixture
def covid_dir() -> Path:
    """The course's COVID-19 regression data; skips the test where ../shared is absent."""
    path = SHARED / "data" / "covid19-hw1"
    if not (path / "covid.train.csv").exists():
        pytest.skip("../shared/data/covid19-hw1 is not available")
    return path
