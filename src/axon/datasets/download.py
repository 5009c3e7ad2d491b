"""Downloading data files into a local cache: mirrors, SHA-256 checks, a progress bar, atomic writes.

The cache folder of a data set ``name`` is ``$AXON_DATA_HOME/<name>/`` when the environment
variable ``AXON_DATA_HOME`` is set, else ``~/.cache/axon/<name>/``.

A download streams into a temporary file in the destination folder while hashing it, checks the
SHA-256 digest, flushes it to disk and only then renames it into place (``os.replace``), so a
half-written or corrupt file is never left under the final name: an interrupted download leaves
nothing behind and the next call simply starts again. Each mirror is tried in turn; when all fail,
:class:`DatasetNotFoundError` says which files to put into which folder by hand.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

CHUNK = 1 << 16
TIMEOUT_S = 30.0

# Opens a URL and returns a binary file-like response, with urllib.request.urlopen's signature;
# None means urlopen itself (imported on first download: urllib.request is slow to import).
# A module attribute so tests can serve "downloads" without a network.
Opener = Callable[..., IO[bytes]]
_open_url: Opener | None = None


def _opener() -> Opener:
    if _open_url is not None:
        return _open_url
    import urllib.request

    return urllib.request.urlopen


class DatasetNotFoundError(FileNotFoundError, ValueError):
    """A data set's files are neither in the given folder nor in the cache and could not be downloaded.

    It is a ``FileNotFoundError`` (an ``OSError``) and also a ``ValueError``, the class axon uses for
    errors a user can fix; the message lists the files and the folder to put them in. Raised by
    :func:`fetch`, it has ``failures``: one ``(url, exception)`` per mirror tried.
    """

    failures: list[tuple[str, BaseException]]


class ChecksumError(ValueError):
    """A downloaded file's SHA-256 digest differs from the published one."""


def data_home(name: str | None = None) -> Path:
    """The folder axon caches data sets in (not created here).

    ``$AXON_DATA_HOME`` if set, else ``~/.cache/axon``; with ``name``, that data set's subfolder.
    """
    root = os.environ.get("AXON_DATA_HOME")
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "axon"
    return base / name if name else base


def sha256_of(path: str | os.PathLike) -> str:
    """The hexadecimal SHA-256 digest of a file, read in chunks."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _progress_bar(total: int | None, desc: str, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm  # lazy: import axon stays light

    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024, leave=False)


def download(url: str, dest: str | os.PathLike, sha256: str | None = None, *, progress: bool = True,
             timeout: float = TIMEOUT_S) -> Path:
    """Download ``url`` to the file ``dest`` atomically, checking its SHA-256 digest.

    Parameters
    ----------
    url : str
        Any URL urllib opens (``https://``, ``http://``, ``file://``).
    dest : str or PathLike
        The final file name; its folder is created if needed.
    sha256 : str, optional
        The expected hexadecimal digest; None skips the check.
    progress : bool
        Show a tqdm progress bar (bytes) while downloading.
    timeout : float
        Seconds to wait for the server before giving up.

    Returns
    -------
    pathlib.Path
        ``dest``, which now holds the verified content.

    Raises
    ------
    ChecksumError
        The digest differs (nothing is written under ``dest``).
    OSError
        The URL could not be opened or read (``urllib.error.URLError`` is an ``OSError``).
    """
    import hashlib

    from axon.io.atomic import atomic_write

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with atomic_write(dest) as out, _opener()(url, timeout=timeout) as response:
        headers = getattr(response, "headers", None)
        length = headers.get("Content-Length") if headers is not None else None
        bar = _progress_bar(int(length) if length else None, dest.name, progress)
        try:
            for chunk in iter(lambda: response.read(CHUNK), b""):
                out.write(chunk)
                digest.update(chunk)
                if bar is not None:
                    bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()
        got = digest.hexdigest()
        if sha256 is not None and got != sha256.lower():  # raised inside: nothing is written
            raise ChecksumError(f"{url}: SHA-256 {got} does not match the published {sha256}; the file is "
                                "corrupt or was changed on the server, so it was not saved")
    return dest


def fetch(filename: str, folder: str | os.PathLike, mirrors: Sequence[str], sha256: str | None = None, *,
          progress: bool = True, dataset: str = "the data set") -> Path:
    """Download ``filename`` into ``folder`` from the first mirror that serves it with the right digest.

    Each mirror is a base URL; the file's URL is ``mirror.rstrip("/") + "/" + filename``.

    Returns
    -------
    pathlib.Path
        ``folder / filename``.

    Raises
    ------
    DatasetNotFoundError
        Every mirror failed (no network, not found, wrong checksum); the message lists each attempt.
    """
    from http.client import HTTPException

    dest = Path(folder) / filename
    failures: list[tuple[str, BaseException]] = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + filename
        try:
            return download(url, dest, sha256, progress=progress)
        # URLError, HTTPError and timeouts are OSErrors; a malformed mirror URL and ChecksumError are
        # ValueErrors; a connection cut mid-body can be http.client.IncompleteRead.
        except (OSError, ValueError, HTTPException) as exc:
            failures.append((url, exc))
    tried = "; ".join(f"{url}: {exc}" for url, exc in failures) if failures else "no mirrors were given"
    error = DatasetNotFoundError(f"could not download {filename} for {dataset} from any mirror ({tried}); "
                                 f"download it by other means and put it into {folder}")
    error.failures = failures
    raise error


def failure_summary(error: DatasetNotFoundError) -> str:
    """A short reason for a failed :func:`fetch`: how many mirrors were tried and why the last one
    failed, without the URLs (e.g. "3 mirrors tried; the last: Temporary failure in name
    resolution"), for messages that must stay one readable line."""
    failures = getattr(error, "failures", None)
    if not failures:
        return "no mirrors were given"
    _, exc = failures[-1]
    if isinstance(exc, ChecksumError):
        why = "the file served does not match the published SHA-256 digest"
    else:
        why = str(getattr(exc, "reason", None) or exc)  # URLError keeps the cause in .reason
    n = len(failures)
    return f"{n} mirror{'s' if n > 1 else ''} tried; the last: {why}"


def mirrors_from_env(variable: str, default: Sequence[str]) -> list[str]:
    """Mirror base URLs from an environment variable (separated by commas or whitespace), else ``default``."""
    value = os.environ.get(variable, "").replace(",", " ").split()
    return value or list(default)


__all__ = ["ChecksumError", "DatasetNotFoundError", "data_home", "download", "failure_summary", "fetch",
           "mirrors_from_env", "sha256_of"]
