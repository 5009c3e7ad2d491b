"""MNIST and Fashion-MNIST: 70,000 28×28 grey images in 10 classes, read from the four IDX files.

The files are looked for in ``path`` (a folder) or else in the cache folder
(``$AXON_DATA_HOME/<name>/``, default ``~/.cache/axon/<name>/``, see :func:`data_home`); each may be
gzip-compressed (``train-images-idx3-ubyte.gz``, as published) or plain (``train-images-idx3-ubyte``,
or ``train-images.idx3-ubyte`` as some copies name it). Missing files are downloaded (when
``download=True``) from the first of the data set's mirrors that works, checked against the published
SHA-256 digests (:data:`SHA256`) and written atomically; without a network the error says exactly
which files to put where.

Mirrors: ``MIRRORS[name]`` lists base URLs tried in order. Override them with the ``mirrors=``
argument or the environment variables ``AXON_MNIST_MIRRORS`` / ``AXON_FASHION_MNIST_MIRRORS``
(base URLs separated by commas or spaces), e.g. a local ``file:///data/mnist/`` copy.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from axon._config import resolve_dtype
from axon.datasets import download as _dl
from axon.datasets.idx import IdxFormatError, read_idx
from axon.validation import check_int

# The four files and what they hold; the same names for both data sets.
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

# Base URLs, tried in order. yann.lecun.com often refuses downloads now, so it comes last.
MIRRORS: dict[str, list[str]] = {
    "mnist": [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ],
    "fashion-mnist": [
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ],
}
MIRRORS_ENV = {"mnist": "AXON_MNIST_MIRRORS", "fashion-mnist": "AXON_FASHION_MNIST_MIRRORS"}

# Published SHA-256 digests of the .gz files (the same values TensorFlow Datasets and torchvision's
# mirrors serve; torchvision itself lists MD5s).
SHA256: dict[str, dict[str, str]] = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
}

TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}

FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                         "Bag", "Ankle boot")

VALIDATION_SIZE = 10_000  # the course's 50k / 10k / 10k split

Split = tuple[np.ndarray, np.ndarray]


def _candidates(stem: str) -> list[str]:
    """File names a copy of ``stem`` may have: gzip, plain, and the dotted variant of some copies."""
    dotted = stem.replace("-idx", ".idx", 1)
    return [stem + ".gz", stem, dotted, dotted + ".gz"]


def _find(folder: Path, stem: str) -> Path | None:
    for name in _candidates(stem):
        if (folder / name).is_file():
            return folder / name
    return None


def _missing_message(name: str, folder: Path, missing: list[str], reason: str) -> str:
    # One line a user can act on: what is missing, why, where to put it, where to get it.
    files = ", ".join(stem + ".gz" for stem in missing)
    return (f"{TITLES[name]} is not available: {reason}. Download {files} from {MIRRORS[name][0]} into "
            f"{folder} (or give the folder holding them: path=..., axon --data-dir DIR, or AXON_DATA_HOME)")


def _locate(name: str, path: str | os.PathLike | None, download: bool,
            mirrors: Sequence[str] | None, progress: bool) -> dict[str, Path]:
    """Find (or download) the four files; return {key: file path}."""
    folder = Path(path).expanduser() if path is not None else _dl.data_home(name)
    if path is not None and Path(folder).exists() and not Path(folder).is_dir():
        raise ValueError(f"path must be a folder holding the four {TITLES[name]} IDX files; {folder} is a file")
    found = {key: _find(folder, stem) for key, stem in FILES.items()}
    missing = [FILES[key] for key, p in found.items() if p is None]
    if not missing:
        return found  # type: ignore[return-value]
    if not download:
        raise _dl.DatasetNotFoundError(_missing_message(name, folder, missing, "the files are not there "
                                                        "and download=False"))
    urls = list(mirrors) if mirrors is not None else _dl.mirrors_from_env(MIRRORS_ENV[name], MIRRORS[name])
    for stem in missing:
        filename = stem + ".gz"
        try:
            _dl.fetch(filename, folder, urls, SHA256[name][filename], progress=progress, dataset=TITLES[name])
        except _dl.DatasetNotFoundError as exc:  # the full list of attempts stays in exc (the cause)
            reason = f"downloading {filename} failed ({_dl.failure_summary(exc)})"
            raise _dl.DatasetNotFoundError(_missing_message(name, folder, missing, reason)) from exc
    return {key: _find(folder, stem) for key, stem in FILES.items()}  # type: ignore[misc]


def _images_and_labels(images_file: Path, labels_file: Path) -> tuple[np.ndarray, np.ndarray]:
    images, labels = read_idx(images_file), read_idx(labels_file)
    if images.ndim != 3:
        raise IdxFormatError(f"{images_file}: expected images of shape (n, rows, cols), the file holds shape "
                             f"{images.shape}; is it a label file?")
    if labels.ndim != 1:
        raise IdxFormatError(f"{labels_file}: expected labels of shape (n,), the file holds shape {labels.shape}")
    if len(images) != len(labels):
        raise IdxFormatError(f"{images_file} holds {len(images)} images but {labels_file} holds {len(labels)} "
                             "labels; the files do not belong together")
    return images, labels


def _to_arrays(images: np.ndarray, labels: np.ndarray, flatten: bool, dtype: np.dtype) -> Split:
    X = images.astype(dtype)
    X /= 255  # in place: stays in dtype, values in [0, 1]
    n, h, w = images.shape
    X = X.reshape(n, h * w) if flatten else X.reshape(n, 1, h, w)
    return X, labels.astype(np.int64)


def load_idx_dataset(name: str, path: str | os.PathLike | None = None, download: bool = True, *,
                     validation: bool | int = False, flatten: bool = True, dtype=None,
                     mirrors: Sequence[str] | None = None, progress: bool = True
                     ) -> tuple[Split, Split] | tuple[Split, Split, Split]:
    """Load a data set stored as MNIST's four IDX files: ``name`` is "mnist" or "fashion-mnist".

    See :func:`load_mnist` for the parameters and what it returns.
    """
    if name not in MIRRORS:
        raise ValueError(f"name must be one of {sorted(MIRRORS)}, got {name!r}")
    dtype = resolve_dtype(dtype)
    files = _locate(name, path, download, mirrors, progress)
    train = _to_arrays(*_images_and_labels(files["train_images"], files["train_labels"]), flatten, dtype)
    test = _to_arrays(*_images_and_labels(files["test_images"], files["test_labels"]), flatten, dtype)
    if not validation:  # False or 0
        return train, test
    n_val = VALIDATION_SIZE if validation is True else validation
    n_val = check_int(n_val, "validation (True, False or a number of images)", maximum=len(train[0]) - 1)
    X, y = train
    # The last images as validation (not a random draw): the course's fixed 50k/10k/10k split.
    return (X[:-n_val], y[:-n_val]), (X[-n_val:], y[-n_val:]), test


def load_mnist(path: str | os.PathLike | None = None, download: bool = True, *,
               validation: bool | int = False, flatten: bool = True, dtype=None,
               mirrors: Sequence[str] | None = None, progress: bool = True
               ) -> tuple[Split, Split] | tuple[Split, Split, Split]:
    """Load MNIST's handwritten digits: 60,000 training and 10,000 test images, 28×28, classes 0..9.

    Parameters
    ----------
    path : str or PathLike, optional
        A folder holding the four IDX files (plain or ``.gz``). Default: the cache folder
        ``$AXON_DATA_HOME/mnist/`` or ``~/.cache/axon/mnist/``. Files missing there are downloaded
        into it when ``download`` is True.
    download : bool
        Download missing files (checked against :data:`SHA256`). With False, missing files raise
        :class:`DatasetNotFoundError` at once.
    validation : bool or int
        False: return ``(train, test)``. True: also split off the last 10,000 training images as a
        validation set, the course's 50k/10k/10k split, and return ``(train, val, test)``. An int
        splits off that many instead.
    flatten : bool
        True: ``X`` of shape ``(n, 784)``, one row per image (for Dense layers). False: NCHW
        ``(n, 1, 28, 28)`` (for Conv2D).
    dtype : str or dtype, optional
        float32 or float64; default: axon's default dtype (float32 unless changed).
    mirrors : sequence of str, optional
        Base URLs to download from instead of ``MIRRORS["mnist"]`` / ``$AXON_MNIST_MIRRORS``.
    progress : bool
        Show a progress bar while downloading.

    Returns
    -------
    ((X_train, y_train), (X_test, y_test)), or with ``validation``
    ((X_train, y_train), (X_val, y_val), (X_test, y_test))
        ``X`` holds pixel values ``x = byte / 255`` in [0, 1], in ``dtype``; ``y`` holds int64 labels.

    Raises
    ------
    DatasetNotFoundError
        The files are missing and could not be downloaded (message: which files, which folder).
    IdxFormatError
        A file is corrupt or truncated, or images and labels do not match.

    Examples
    --------
    >>> (X, y), (Xt, yt) = ax.datasets.load_mnist()                     # doctest: +SKIP
    >>> train, val, test = ax.datasets.load_mnist(validation=True)     # doctest: +SKIP
    >>> X.shape, X.dtype, y.dtype                                       # doctest: +SKIP
    ((60000, 784), dtype('float32'), dtype('int64'))
    """
    return load_idx_dataset("mnist", path, download, validation=validation, flatten=flatten, dtype=dtype,
                            mirrors=mirrors, progress=progress)


def load_fashion_mnist(path: str | os.PathLike | None = None, download: bool = True, *,
                       validation: bool | int = False, flatten: bool = True, dtype=None,
                       mirrors: Sequence[str] | None = None, progress: bool = True
                       ) -> tuple[Split, Split] | tuple[Split, Split, Split]:
    """Load Zalando's Fashion-MNIST: 60,000 + 10,000 28×28 grey images of clothes in 10 classes.

    The same files, shapes and parameters as :func:`load_mnist` (cache folder
    ``<data home>/fashion-mnist/``, mirrors ``MIRRORS["fashion-mnist"]`` or
    ``$AXON_FASHION_MNIST_MIRRORS``). Class ``k`` is named ``FASHION_MNIST_CLASSES[k]``
    (0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag,
    9 Ankle boot). Licence: MIT (Zalando SE).
    """
    return load_idx_dataset("fashion-mnist", path, download, validation=validation, flatten=flatten,
                            dtype=dtype, mirrors=mirrors, progress=progress)
