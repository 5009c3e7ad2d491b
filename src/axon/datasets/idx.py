"""The IDX file format of MNIST and Fashion-MNIST: read and write, plain or gzip-compressed.

An IDX file is a header and then the array's values, big-endian, in C order::

    bytes 0-1   0x00 0x00          (magic: two zero bytes)
    byte  2     dtype code         0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3     ndim               number of dimensions
    then ndim × uint32             the size of each dimension (big-endian)
    then prod(dims) × itemsize     the values

So MNIST's image file starts ``00 00 08 03`` (2051: uint8, 3 dims: n × 28 × 28) and its label file
``00 00 08 01`` (2049: uint8, 1 dim: n). :func:`read_idx` checks every part of the header and that
the file holds exactly as many bytes as the header promises, and raises :class:`IdxFormatError`
(a ``ValueError``) naming the file and the problem otherwise.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

# dtype code -> big-endian NumPy dtype, as the format's specification lists them.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dt.newbyteorder("=").str[1:]: code for code, dt in IDX_DTYPES.items()}


class IdxFormatError(ValueError):
    """A file that is not a valid IDX file (bad magic, unknown dtype, truncated or too long)."""


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def read_idx_bytes(raw: bytes, name: str = "<bytes>") -> np.ndarray:
    """Parse the bytes of an (uncompressed) IDX file into an array.

    Parameters
    ----------
    raw : bytes
        The whole file content.
    name : str
        What to call the data in error messages (usually the file's path).

    Returns
    -------
    numpy.ndarray
        Shape ``dims`` from the header, dtype as the header's code in native byte order
        (MNIST: uint8). The array owns its memory and is writable.

    Raises
    ------
    IdxFormatError
        When the magic bytes, the dtype code or the length do not match the format.
    """
    if len(raw) < 4:
        raise IdxFormatError(f"{name}: not an IDX file: only {len(raw)} bytes, a header needs at least 4")
    zero, code, ndim = raw[0:2], raw[2], raw[3]
    if zero != b"\x00\x00":
        raise IdxFormatError(f"{name}: not an IDX file: the first two bytes are {zero.hex()} instead of 0000 "
                             "(is it compressed with something other than gzip, or a different format?)")
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise IdxFormatError(f"{name}: unknown IDX dtype code 0x{code:02X}; known codes are {known}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IdxFormatError(f"{name}: truncated IDX header: {ndim} dimensions need {header} bytes, "
                             f"the file has {len(raw)}")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = IDX_DTYPES[code]
    expected = header + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "too long"
        raise IdxFormatError(f"{name}: IDX file {what}: the header declares shape {tuple(dims)} of "
                             f"{dtype.newbyteorder('=').name} ({expected} bytes in all), the file has {len(raw)} "
                             "bytes; the download or copy is probably incomplete: delete it and fetch it again")
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)
    return data.astype(dtype.newbyteorder("="))  # native order, and a writable copy


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file, plain or gzip-compressed (detected from its first bytes, not its name).

    Parameters
    ----------
    path : str or PathLike
        The file, e.g. ``train-images-idx3-ubyte.gz``.

    Returns
    -------
    numpy.ndarray
        The array of the shape the header declares, e.g. ``(60000, 28, 28)`` uint8 for MNIST's
        training images and ``(60000,)`` uint8 for its labels.

    Raises
    ------
    IdxFormatError
        The content is not a valid IDX file, or the gzip stream is corrupt.
    FileNotFoundError
        The file does not exist.
    """
    path = Path(path)
    if _is_gzip(path):
        try:
            with gzip.open(path, "rb") as f:
                raw = f.read()
        except (OSError, EOFError, zlib.error) as exc:
            raise IdxFormatError(f"{path}: corrupt gzip file ({exc}); delete it and fetch it again") from exc
    else:
        raw = path.read_bytes()
    return read_idx_bytes(raw, name=str(path))


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write ``array`` as an IDX file; gzip-compressed when the name ends in ``.gz``.

    The dtype must be one the format knows (uint8, int8, int16, int32, float32, float64); values are
    stored big-endian. Used to make test files and to convert data into MNIST's format.

    Parameters
    ----------
    path : str or PathLike
        Where to write.
    array : numpy.ndarray
        Any shape with at most 255 dimensions, each below 2**32.
    """
    array = np.asarray(array)
    key = array.dtype.newbyteorder("=").str[1:]
    if key not in _CODES:
        raise TypeError(f"write_idx: array dtype {array.dtype} has no IDX code; use one of uint8, int8, int16, "
                        "int32, float32, float64")
    code = _CODES[key]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()
    path = Path(path)
    if path.suffix == ".gz":
        # mtime=0 keeps the file byte-identical between runs (stable checksums in tests).
        with open(path, "wb") as raw_file, gzip.GzipFile(fileobj=raw_file, mode="wb", mtime=0) as f:
            f.write(payload)
    else:
        path.write_bytes(payload)
