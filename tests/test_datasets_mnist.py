"""IDX files and the MNIST / Fashion-MNIST loaders: parsing, corrupt files, cache, mirrors, checksums.

Every "download" is served from a file:// URL or a monkeypatched opener: no network is used.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import axon as ax
from axon.datasets import download as dl
from axon.datasets import mnist
from axon.datasets.idx import IDX_DTYPES, IdxFormatError, read_idx, read_idx_bytes, write_idx

N_TRAIN, N_TEST = 30, 12


def _write_set(folder, *, gz=True, n_train=N_TRAIN, n_test=N_TEST, seed=0):
    """Four small MNIST-like IDX files; returns the arrays written."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": (np.arange(n_train) % 10).astype(np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": (np.arange(n_test) * 3 % 10).astype(np.uint8),
    }
    for stem, array in arrays.items():
        write_idx(folder / (stem + (".gz" if gz else "")), array)
    return arrays


def _checksums(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


@pytest.fixture
def data_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("AXON_DATA_HOME", str(home))
    monkeypatch.delenv("AXON_MNIST_MIRRORS", raising=False)
    monkeypatch.delenv("AXON_FASHION_MNIST_MIRRORS", raising=False)
    return home


@pytest.fixture
def served(tmp_path, monkeypatch):
    """A 'mirror' folder with gz files whose SHA-256 digests are the expected ones."""
    src = tmp_path / "mirror"
    arrays = _write_set(src)
    sums = _checksums(src)
    monkeypatch.setitem(mnist.SHA256, "mnist", sums)
    monkeypatch.setitem(mnist.SHA256, "fashion-mnist", sums)
    return src, arrays


# --- the IDX format ---------------------------------------------------------------------------

def test_idx_header_of_mnist_images(tmp_path):
    path = tmp_path / "images-idx3-ubyte"
    write_idx(path, np.zeros((2, 28, 28), np.uint8))
    raw = path.read_bytes()
    assert raw[:4] == bytes([0, 0, 0x08, 3])  # magic 2051
    assert int.from_bytes(raw[4:8], "big") == 2 and int.from_bytes(raw[8:12], "big") == 28
    assert len(raw) == 16 + 2 * 28 * 28


@settings(max_examples=30, deadline=None)
@given(code=st.sampled_from(sorted(IDX_DTYPES)), shape=st.lists(st.integers(0, 5), min_size=1, max_size=4),
       gz=st.booleans(), seed=st.integers(0, 2**16))
def test_idx_round_trip(tmp_path_factory, code, shape, gz, seed):
    dtype = IDX_DTYPES[code].newbyteorder("=")
    rng = np.random.default_rng(seed)
    array = (rng.standard_normal(shape) * 100).astype(dtype)
    path = tmp_path_factory.mktemp("idx") / ("a.idx" + (".gz" if gz else ""))
    write_idx(path, array)
    back = read_idx(path)
    assert back.dtype == dtype and back.shape == tuple(shape)
    np.testing.assert_array_equal(back, array)
    assert back.flags.writeable


def test_gzip_detected_by_content_not_name(tmp_path):
    array = np.arange(12, dtype=np.uint8).reshape(3, 4)
    write_idx(tmp_path / "a.gz", array)
    (tmp_path / "misnamed").write_bytes((tmp_path / "a.gz").read_bytes())
    np.testing.assert_array_equal(read_idx(tmp_path / "misnamed"), array)


@pytest.mark.parametrize("raw, message", [
    (b"\x00\x00", "only 2 bytes"),
    (b"PK\x03\x04" + bytes(20), "first two bytes"),
    (bytes([0, 0, 0x07, 1]) + (3).to_bytes(4, "big") + bytes(3), "unknown IDX dtype code 0x07"),
    (bytes([0, 0, 0x08, 3]) + (2).to_bytes(4, "big"), "truncated IDX header"),
    (bytes([0, 0, 0x08, 1]) + (5).to_bytes(4, "big") + bytes(4), "truncated"),
    (bytes([0, 0, 0x08, 1]) + (5).to_bytes(4, "big") + bytes(6), "too long"),
])
def test_corrupt_idx_is_a_clear_value_error(raw, message):
    with pytest.raises(IdxFormatError, match=message) as info:
        read_idx_bytes(raw, name="f.idx")
    assert isinstance(info.value, ValueError) and "f.idx" in str(info.value)


def test_truncated_download_names_the_file_and_the_sizes(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    write_idx(path, np.zeros((4, 28, 28), np.uint8))
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(IdxFormatError, match=r"declares shape \(4, 28, 28\).*has 3052 bytes") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_corrupt_gzip_stream(tmp_path):
    path = tmp_path / "x.gz"
    write_idx(path, np.zeros((50, 50), np.uint8))
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(IdxFormatError, match="corrupt gzip"):
        read_idx(path)


def test_write_idx_rejects_unknown_dtype(tmp_path):
    with pytest.raises(TypeError, match="no IDX code"):
        write_idx(tmp_path / "a", np.zeros(3, np.int64))


# --- loading from a folder ------------------------------------------------------------------------

@pytest.mark.parametrize("gz", [True, False])
def test_load_mnist_from_folder(tmp_path, gz):
    arrays = _write_set(tmp_path / "m", gz=gz)
    (X, y), (Xt, yt) = ax.datasets.load_mnist(tmp_path / "m", download=False)
    assert X.shape == (N_TRAIN, 784) and Xt.shape == (N_TEST, 784)
    assert X.dtype == np.float32 and y.dtype == np.int64 and yt.dtype == np.int64
    assert 0.0 <= X.min() and X.max() <= 1.0
    np.testing.assert_allclose(X[3].reshape(28, 28), arrays["train-images-idx3-ubyte"][3] / 255, rtol=1e-6)
    np.testing.assert_array_equal(yt, arrays["t10k-labels-idx1-ubyte"])


def test_load_mnist_nchw_float64_and_validation_split(tmp_path):
    _write_set(tmp_path / "m")
    train, val, test = ax.datasets.load_mnist(tmp_path / "m", download=False, validation=10, flatten=False,
                                              dtype="float64")
    (X, y), (Xv, yv), (Xt, _) = train, val, test
    assert X.shape == (20, 1, 28, 28) and Xv.shape == (10, 1, 28, 28) and Xt.shape == (N_TEST, 1, 28, 28)
    assert X.dtype == np.float64
    (Xall, yall), _ = ax.datasets.load_mnist(tmp_path / "m", download=False, flatten=False, dtype="float64")
    np.testing.assert_array_equal(Xv, Xall[-10:])  # the LAST training images are the validation set
    np.testing.assert_array_equal(y, yall[:20])
    np.testing.assert_array_equal(yv, yall[-10:])


def test_validation_true_is_the_last_10000(tmp_path):
    _write_set(tmp_path / "m", n_train=10_005, n_test=2)
    (X, _), (Xv, _), _ = ax.datasets.load_mnist(tmp_path / "m", download=False, validation=True)
    assert len(X) == 5 and len(Xv) == 10_000


@pytest.mark.parametrize("bad", [-1, 30, 2.5, "10"])
def test_bad_validation_size(tmp_path, bad):
    _write_set(tmp_path / "m")
    with pytest.raises((TypeError, ValueError), match="validation"):  # TypeError for 2.5 and "10"
        ax.datasets.load_mnist(tmp_path / "m", download=False, validation=bad)


def test_plain_dotted_file_names_are_found(tmp_path):
    arrays = _write_set(tmp_path / "m", gz=False)
    for stem in arrays:
        os.rename(tmp_path / "m" / stem, tmp_path / "m" / stem.replace("-idx", ".idx", 1))
    (X, _), _ = ax.datasets.load_mnist(tmp_path / "m", download=False)
    assert len(X) == N_TRAIN


def test_images_and_labels_must_match(tmp_path):
    _write_set(tmp_path / "m")
    write_idx(tmp_path / "m" / "train-labels-idx1-ubyte.gz", np.zeros(7, np.uint8))
    with pytest.raises(IdxFormatError, match="30 images but .* 7 labels"):
        ax.datasets.load_mnist(tmp_path / "m", download=False)


def test_swapped_files_are_reported(tmp_path):
    _write_set(tmp_path / "m")
    write_idx(tmp_path / "m" / "t10k-images-idx3-ubyte.gz", np.zeros(12, np.uint8))
    with pytest.raises(IdxFormatError, match="expected images of shape"):
        ax.datasets.load_mnist(tmp_path / "m", download=False)


def test_path_that_is_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(ValueError, match="must be a folder"):
        ax.datasets.load_mnist(tmp_path / "f", download=False)


# --- offline, download, checksum, atomic write -----------------------------------------------------

def test_offline_error_says_which_files_go_where(data_home):
    with pytest.raises(ax.datasets.DatasetNotFoundError) as info:
        ax.datasets.load_mnist(download=False)
    msg = str(info.value)
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, ValueError)
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz"):
        assert name in msg
    assert str(data_home / "mnist") in msg and "AXON_DATA_HOME" in msg


def test_offline_download_error_is_one_short_line_that_says_what_to_do(data_home, monkeypatch, capsys):
    import urllib.error

    from axon.cli.main import main

    def offline(url, timeout):
        raise urllib.error.URLError(OSError(-3, "Temporary failure in name resolution"))

    monkeypatch.setattr(dl, "_open_url", offline)
    with pytest.raises(ax.datasets.DatasetNotFoundError) as info:
        ax.datasets.load_mnist(progress=False)
    assert len(info.value.__cause__.failures) == len(mnist.MIRRORS["mnist"])  # the details stay in the cause
    assert main(["train", "--dataset", "mnist", "--quiet", "--out", str(data_home / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and len(err) < 500, err
    assert "Temporary failure in name resolution" in err and "3 mirrors tried" in err
    assert str(data_home / "mnist") in err and "--data-dir" in err and "t10k-labels-idx1-ubyte.gz" in err
    assert sum(err.count(m) for m in mnist.MIRRORS["mnist"]) == 1    # one address to download from, not every attempt


def test_default_cache_is_under_home(monkeypatch, tmp_path):
    monkeypatch.delenv("AXON_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert dl.data_home("mnist") == tmp_path / ".cache" / "axon" / "mnist"


def test_download_from_file_mirror_into_cache(data_home, served):
    src, arrays = served
    (X, y), (Xt, yt) = ax.datasets.load_mnist(mirrors=["file:///nonexistent-mirror/", src.as_uri()],
                                              progress=False)
    np.testing.assert_array_equal(y, arrays["train-labels-idx1-ubyte"])
    cached = sorted(p.name for p in (data_home / "mnist").iterdir())
    assert cached == sorted(p.name for p in src.iterdir())  # nothing else (no temp files) left behind
    # The second call reads the cache: no mirror is needed any more.
    (X2, _), _ = ax.datasets.load_mnist(mirrors=[], progress=False)
    np.testing.assert_array_equal(X, X2)


def test_mirrors_from_environment(data_home, served, monkeypatch):
    src, _ = served
    monkeypatch.setenv("AXON_FASHION_MNIST_MIRRORS", "file:///nope/, " + src.as_uri())
    (X, _), _ = ax.datasets.load_fashion_mnist(progress=False)
    assert X.shape == (N_TRAIN, 784)
    assert (data_home / "fashion-mnist" / "train-images-idx3-ubyte.gz").is_file()


def test_checksum_mismatch_saves_nothing(data_home, served, monkeypatch):
    src, _ = served
    bad = dict(mnist.SHA256["mnist"], **{"train-labels-idx1-ubyte.gz": "0" * 64})
    monkeypatch.setitem(mnist.SHA256, "mnist", bad)
    with pytest.raises(ax.datasets.DatasetNotFoundError, match="does not match the published") as info:
        ax.datasets.load_mnist(mirrors=[src.as_uri()], progress=False)
    assert "train-labels-idx1-ubyte.gz" in str(info.value)
    assert not (data_home / "mnist" / "train-labels-idx1-ubyte.gz").exists()
    leftovers = [p.name for p in (data_home / "mnist").iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_download_checks_sha256_directly(tmp_path):
    src = tmp_path / "f.bin"
    src.write_bytes(b"hello")
    good = hashlib.sha256(b"hello").hexdigest()
    out = dl.download(src.as_uri(), tmp_path / "out" / "f.bin", good, progress=False)
    assert out.read_bytes() == b"hello"
    with pytest.raises(dl.ChecksumError):
        dl.download(src.as_uri(), tmp_path / "out" / "g.bin", "f" * 64, progress=False)
    assert not (tmp_path / "out" / "g.bin").exists()


class _Response(io.BytesIO):
    """A urlopen-like response that fails after part of the body: an interrupted download."""

    def __init__(self, payload: bytes, fail_after: int | None = None):
        super().__init__(payload)
        self.headers = {"Content-Length": str(len(payload))}
        self.fail_after = fail_after

    def read(self, size=-1):
        if self.fail_after is not None and self.tell() >= self.fail_after:
            raise ConnectionResetError("connection reset by peer")
        return super().read(size if self.fail_after is None else min(size, 1000))


def test_interrupted_download_leaves_no_partial_file(tmp_path, monkeypatch):
    payload = os.urandom(10_000)
    monkeypatch.setattr(dl, "_open_url", lambda url, timeout: _Response(payload, fail_after=3000))
    with pytest.raises(ConnectionResetError):
        dl.download("https://example.invalid/x.gz", tmp_path / "x.gz", None, progress=False)
    assert list(tmp_path.iterdir()) == []  # neither x.gz nor a temp file


def test_atomic_replace_keeps_old_file_until_verified(tmp_path, monkeypatch):
    dest = tmp_path / "x.gz"
    dest.write_bytes(b"old")
    payload = b"new content"
    monkeypatch.setattr(dl, "_open_url", lambda url, timeout: _Response(payload))
    with pytest.raises(dl.ChecksumError):
        dl.download("https://example.invalid/x.gz", dest, "0" * 64, progress=False)
    assert dest.read_bytes() == b"old"
    replaced = []
    monkeypatch.setattr(dl.os, "replace", lambda a, b: (replaced.append((a, b)), os.rename(a, b)))
    dl.download("https://example.invalid/x.gz", dest, hashlib.sha256(payload).hexdigest(), progress=False)
    assert dest.read_bytes() == payload and len(replaced) == 1 and replaced[0][1] == dest


def test_monkeypatched_opener_serves_a_whole_data_set(data_home, monkeypatch, tmp_path):
    src = tmp_path / "srv"
    _write_set(src)
    monkeypatch.setitem(mnist.SHA256, "mnist", _checksums(src))
    urls = []

    def opener(url, timeout):
        urls.append(url)
        return _Response((src / url.rsplit("/", 1)[1]).read_bytes())

    monkeypatch.setattr(dl, "_open_url", opener)
    (X, _), _ = ax.datasets.load_mnist(progress=True)  # the tqdm bar path, too
    assert len(X) == N_TRAIN
    assert all(u.startswith(mnist.MIRRORS["mnist"][0]) for u in urls) and len(urls) == 4


def test_published_checksums_are_well_formed():
    for name, sums in mnist.SHA256.items():
        assert sorted(sums) == sorted(stem + ".gz" for stem in mnist.FILES.values()), name
        for digest in sums.values():
            assert len(digest) == 64 and int(digest, 16) >= 0


def test_only_missing_files_are_downloaded(data_home, served):
    src, _ = served
    folder = data_home / "mnist"
    folder.mkdir(parents=True)
    with gzip.open(src / "t10k-labels-idx1-ubyte.gz") as f:  # a plain copy of one file is already there
        (folder / "t10k-labels-idx1-ubyte").write_bytes(f.read())
    ax.datasets.load_mnist(mirrors=[src.as_uri()], progress=False)
    assert not (folder / "t10k-labels-idx1-ubyte.gz").exists()
    assert (folder / "train-images-idx3-ubyte.gz").exists()


def test_a_malformed_mirror_is_skipped(data_home, served):
    src, _ = served
    (X, _), _ = ax.datasets.load_mnist(mirrors=["not a url", src.as_uri()], progress=False)
    assert len(X) == N_TRAIN
