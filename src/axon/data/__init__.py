"""Feeding data to a model: minibatches."""

from axon.data.batching import batches

__all__ = ["batches"]
