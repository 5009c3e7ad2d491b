"""The bundled 8×8 handwritten digits (UCI optdigits), offline."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def load_digits(flatten: bool = True, scale: bool = True, dtype=np.float32
                ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load the 1,797 handwritten digits that ship with axon, as a fixed stratified split.

    Returns ``(X_train, y_train), (X_test, y_test)``: 1,438 training and 359 test images (20% of
    each class in test). ``X`` has shape ``(n, 64)`` (``flatten=True``) or ``(n, 1, 8, 8)`` (NCHW);
    pixel values 0..16 are divided by 16 when ``scale`` (so in [0, 1]). ``y`` holds int64 labels 0..9.
    Licence: CC BY 4.0, see ``axon/datasets/_data/LICENSE-digits.txt``.
    """
    with np.load(Path(__file__).parent / "_data" / "digits.npz", allow_pickle=False) as data:
        images, labels, test = data["images"], data["labels"], data["test_mask"]
    X = images.astype(dtype)
    if scale:
        X /= 16
    X = X.reshape(len(X), 64) if flatten else X.reshape(len(X), 1, 8, 8)
    y = labels.astype(np.int64)
    return (X[~test], y[~test]), (X[test], y[test])
