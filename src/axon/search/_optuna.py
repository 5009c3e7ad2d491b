"""Optuna, imported on first use, with an error that names the extra when it is missing."""

from __future__ import annotations

import warnings
from typing import Any

#: The command that installs what :mod:`axon.search` needs (Optuna, SQLAlchemy, the PostgreSQL driver).
INSTALL = 'pip install -e ".[search]"'


class OptunaNotInstalledError(ImportError, ValueError):
    """Optuna is not installed, so :mod:`axon.search` cannot run; the message names :data:`INSTALL`.

    An ``ImportError`` and also a ``ValueError``, the class axon uses for errors a user can fix
    (so ``axon evolve`` and ``axon demo evolve`` print it as one line and exit 2).
    """


def require_optuna() -> Any:
    """The ``optuna`` module, quiet (warnings only); :class:`OptunaNotInstalledError` naming the extra when absent."""
    try:
        import optuna
    except ImportError as err:
        raise OptunaNotInstalledError(f"axon.search needs Optuna: {INSTALL} (or pip install optuna)") from err
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # Heartbeats and the retry callback are marked experimental; they are what makes a killed
    # worker lose only its own trial, so they are used on purpose.
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    return optuna
