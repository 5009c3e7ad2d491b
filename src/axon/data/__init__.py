"""Feeding data to a model: minibatches; padded, bucketed and chunked sequences (:mod:`axon.data.sequences`)."""

from axon.data import sequences
from axon.data.batching import batches

__all__ = ["batches", "sequences"]
