"""Debian's Chromium for the tests that open pages (report.html, the studio): where it is, and how it runs.

No browser is ever downloaded: tests that need one skip, with the reason, where this finds none.
"""

from __future__ import annotations

import shutil
from pathlib import Path

#: Headless, sandbox off (containers), no network of its own, no first-run pages.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars"]


def chromium_path() -> str | None:
    """The Chromium (or Chrome) executable on PATH or in /usr/bin, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
        if path:
            return path
    return None
