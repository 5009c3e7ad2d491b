"""Data sets: the bundled digits, MNIST and Fashion-MNIST files, CSV files, synthetic problems."""

from axon.datasets.digits import load_digits

__all__ = ["load_digits"]
