"""The progress display picks tqdm's terminal bar or its notebook one (tqdm.auto) by where it runs."""

from __future__ import annotations

import io

import pytest

from axon import progress


@pytest.mark.parametrize("mode, module", [("bar", "tqdm"), ("notebook", "tqdm.auto")])
def test_each_bar_mode_draws_with_its_tqdm(mode, module):
    tqdm_module = pytest.importorskip(module)
    shown = progress.Progress(1, epochs=2, n_batches=3, stream=io.StringIO())
    shown.mode = mode  # as __init__ chooses it on a terminal / in a notebook
    shown.epoch_begin(0)
    assert type(shown._bar) is tqdm_module.tqdm  # (tqdm.auto's is not tqdm's outside Jupyter either)
    shown._bar.close()
