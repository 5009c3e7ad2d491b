"""Optuna, imported on first use, with an error that names the extra when it is missing."""

from __future__ import annotations

import warnings
from typing import Any

INSTALL = 'pip install -e ".[search]"'


def require_optuna() -> Any:
    """The ``optuna`` module, quiet (warnings only); ImportError naming the extra when absent."""
    try:
        import optuna
    except ImportError as err:
        raise ImportError(f"axon.search needs Optuna: {INSTALL} (or pip install optuna)") from err
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # Heartbeats and the retry callback are marked experimental; they are what makes a killed
    # worker lose only its own trial, so they are used on purpose.
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    return optuna
