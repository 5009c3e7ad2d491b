"""Data sets: the bundled digits, MNIST and Fashion-MNIST files, CSV files, synthetic problems.

``load_digits`` ships with axon; ``load_mnist`` and ``load_fashion_mnist`` read the published IDX
files from a folder or a cache and download them when missing; ``load_csv`` reads a table with a
header row; ``make_xor``, ``make_moons``, ``make_spirals`` and ``make_curve`` draw small problems
from a seed.
"""

from axon.datasets.digits import load_digits
from axon.datasets.download import ChecksumError, DatasetNotFoundError, data_home
from axon.datasets.idx import IdxFormatError, read_idx, write_idx
from axon.datasets.mnist import FASHION_MNIST_CLASSES, MIRRORS, load_fashion_mnist, load_mnist
from axon.datasets.synthetic import (
    hard_sigmoid,
    make_curve,
    make_moons,
    make_spirals,
    make_xor,
    piecewise_linear,
)
from axon.datasets.tabular import CsvData, load_csv

__all__ = [
    "FASHION_MNIST_CLASSES", "MIRRORS", "ChecksumError", "CsvData", "DatasetNotFoundError",
    "IdxFormatError", "data_home", "hard_sigmoid", "load_csv", "load_digits", "load_fashion_mnist",
    "load_mnist", "make_curve", "make_moons", "make_spirals", "make_xor", "piecewise_linear", "read_idx",
    "write_idx",
]
