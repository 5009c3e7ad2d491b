"""Integer settings of a search go through axon.validation's one integer check (no Optuna needed)."""

from __future__ import annotations

import numpy as np
import pytest

from axon.search.settings import Settings
from axon.search.space import SearchSpace
from axon.validation import ArgumentTypeError


def test_numpy_integers_are_integers_and_are_stored_as_python_ints():
    settings = Settings(population=np.int64(8), generations=np.int32(2), seed=np.int64(3))
    assert (settings.population, settings.generations, settings.seed) == (8, 2, 3)
    assert all(type(v) is int for v in (settings.population, settings.generations, settings.seed))
    space = SearchSpace(units=(np.int64(32), 64), batch_size=(np.int16(16),))
    assert space.units == (32, 64) and type(space.units[0]) is int and space.batch_size == (16,)


@pytest.mark.parametrize("kwargs, message", [
    ({"population": 1}, r"population must be an integer >= 2, got 1; e\.g\. population=16"),
    ({"epochs": 0}, "epochs must be a positive integer, got 0"),
    ({"seed": -1}, "seed must be an integer >= 0, got -1"),
])
def test_out_of_range_integers_say_the_range(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Settings(**kwargs)


@pytest.mark.parametrize("kwargs", [{"population": 2.5}, {"patience": True}, {"heartbeat": "5"}])
def test_a_non_integer_is_a_type_error_and_a_value_error(kwargs):
    with pytest.raises(ArgumentTypeError, match=f"{next(iter(kwargs))} must be (a positive|an) integer"):
        Settings(**kwargs)
