"""The studio: a local web app to train, steer and look inside networks while they learn.

``axon studio`` serves three pages from this package (plain HTML and JavaScript in ``static/``, no
build step, nothing fetched from the network):

- Playground (:mod:`axon.studio.playground`): a small network on 2-D points, trained live, every
  neuron drawn as a heat map, every setting in the URL;
- Train (:mod:`axon.studio.trainer`): ``axon train`` runs started from the page or from the
  command line with ``--studio`` (:mod:`axon.studio.live`), with live curves and controls;
- Inside (:mod:`axon.studio.inside`): a model file, one drawn digit, every layer's activations
  and δ, units switched off.

The web stack (Starlette, uvicorn, websockets) is the ``studio`` extra, imported only by
:mod:`axon.studio.app`; ``axon train --studio`` needs none of it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

#: The command that installs what the studio needs.
INSTALL = 'pip install -e ".[studio]"'


def path_id(path: Path) -> str:
    """The id the pages use for a run folder or a model file: 12 hex digits of the SHA-1 of its resolved path."""
    return hashlib.sha1(str(Path(path).resolve()).encode()).hexdigest()[:12]


class StudioExtraMissing(ImportError, ValueError):
    """The studio's web packages are not installed; the message names the install command.

    An ``ImportError`` and also a ``ValueError``, the class axon uses for errors a user can fix (the
    command line prints its message as one line).
    """


def require() -> None:
    """Raise :class:`StudioExtraMissing` naming the install command when the studio's web packages are missing."""
    missing = []
    for module in ("starlette", "uvicorn", "websockets"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise StudioExtraMissing(f"axon studio needs {', '.join(missing)}: install the studio extra with {INSTALL} "
                          f"(in your axon folder)")
