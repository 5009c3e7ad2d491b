"""The run report: one self-contained ``report.html`` with the figures of a training run.

:func:`write_report` writes, top to bottom: how the run ended (completed, stopped early,
interrupted, diverged) and which weights the saved model holds (the last epoch's, or the best ones
restored by early stopping); the run's facts (date, axon version, training / validation / test
sizes, epochs, training time and time per epoch) and final figures; the loss and metric curves
with the best epoch marked, the learning rate and per-layer gradient norms when they vary or were
recorded; for classification the per-class precision, recall and F1, the confusion matrix and the
misclassified images; for regression predicted against true and the residuals; the first layer's
weights (an MLP on images: every unit's weights as a picture on one colour scale, or an evenly
sampled grid that says so; a CNN: the first convolution's filters; a table: each feature's weights);
the model summary, the exact command line and the configuration that applies. Images are embedded
as base64 PNG data URIs, so the file can be mailed or opened anywhere with nothing beside it.

:mod:`axon.report.facts` holds the words and tables, :mod:`axon.report.plots` the figures.
"""

from axon.report.html import write_report

__all__ = ["write_report"]
