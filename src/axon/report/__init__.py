"""The run report: one self-contained ``report.html`` with the figures of a training run.

:func:`write_report` draws the loss and metric curves (training and validation), the learning
rate, the per-layer gradient norms when GradientStats was used (history keys ``grad_norm/...``),
the confusion matrix and a grid of misclassified images (image data), predicted against true and
the residuals (regression), the first layer's weights as images (an MLP on images: each hidden
unit's 64 weights of the 8×8 digits drawn as an 8×8 picture), the model summary, the exact
command line and configuration. Images are embedded as base64 PNG data URIs, so the file can be
mailed or opened anywhere with nothing beside it.
"""

from axon.report.html import write_report

__all__ = ["write_report"]
