"""Data sets: the bundled digits, MNIST and Fashion-MNIST files, CSV files, synthetic problems.

``load_digits`` ships with axon; ``load_mnist`` and ``load_fashion_mnist`` read the published IDX
files from a folder or a cache and download them when missing; ``load_csv`` reads a table with a
header row; ``make_xor``, ``make_moons``, ``make_spirals``, ``make_circles``, ``make_gaussians``,
``make_curve`` and ``make_surface`` draw small problems from a seed, and ``make_addition``,
``make_dates``, ``make_parity`` and ``make_noisy_sine`` sequence tasks (:mod:`axon.datasets.sequences`).
"""

import importlib

# Each loader's module is imported on first use, so ``import axon`` stays fast.
_WHERE = {
    "load_digits": "digits",
    "ChecksumError": "download", "DatasetNotFoundError": "download", "data_home": "download",
    "IdxFormatError": "idx", "read_idx": "idx", "write_idx": "idx",
    "FASHION_MNIST_CLASSES": "mnist", "MIRRORS": "mnist", "load_fashion_mnist": "mnist", "load_mnist": "mnist",
    "hard_sigmoid": "synthetic", "make_circles": "synthetic", "make_curve": "synthetic",
    "make_gaussians": "synthetic", "make_surface": "synthetic", "make_moons": "synthetic",
    "make_spirals": "synthetic", "make_xor": "synthetic", "piecewise_linear": "synthetic",
    "CsvData": "tabular", "load_csv": "tabular", "infer_task": "tabular",
    "CharVocab": "sequences", "TextPairs": "sequences", "make_addition": "sequences", "make_dates": "sequences",
    "make_noisy_sine": "sequences", "make_parity": "sequences",
}

__all__ = [
    "FASHION_MNIST_CLASSES", "MIRRORS", "ChecksumError", "CsvData", "DatasetNotFoundError",
    "IdxFormatError", "data_home", "hard_sigmoid", "infer_task", "load_csv", "load_digits", "load_fashion_mnist",
    "load_mnist", "make_circles", "make_curve", "make_gaussians", "make_moons", "make_spirals",
    "make_surface", "make_xor", "piecewise_linear", "read_idx",
    "write_idx", "CharVocab", "TextPairs", "make_addition", "make_dates", "make_noisy_sine", "make_parity",
]


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f"axon.datasets.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'axon.datasets' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
