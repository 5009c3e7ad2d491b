"""Files: safe model files (``save``/``load``), training checkpoints, ONNX export.

Model files are safetensors files with the architecture as JSON in their metadata: loading never
unpickles and never runs code from the file. See :mod:`axon.io.model_file` for the format.
"""

from __future__ import annotations

from axon.io.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from axon.io.model_file import ModelFileError, ModelFileNotFoundError, load, save

#: Keras' name for :func:`load` (the same safe file; ``model.save(path)`` writes it).
load_model = load

__all__ = ["Checkpoint", "ModelFileError", "ModelFileNotFoundError", "export_onnx", "load",
           "load_checkpoint", "load_model", "save", "save_checkpoint"]


def export_onnx(*args, **kwargs):
    """Export a model to ONNX; see :func:`axon.io.onnx_export.export_onnx` (needs the ``onnx`` package)."""
    from axon.io.onnx_export import export_onnx as _export_onnx
    return _export_onnx(*args, **kwargs)
