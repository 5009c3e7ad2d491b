"""Tune an axon network with scikit-learn: Pipeline(StandardScaler, AxonClassifier) in GridSearchCV.

The estimators of ``axon.sklearn`` are ordinary scikit-learn estimators, so model selection,
pipelines and metrics work unchanged. This searches two network widths and two learning rates by
3-fold cross-validation on the bundled 8×8 digits, then reports the held-out test accuracy and
exports the best pipeline (scaler and network) to ONNX. Runs in well under a minute on a laptop.

    python examples/sklearn_grid_search.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from sklearn.metrics import classification_report
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import axon as ax
from axon.preprocessing import Standardizer
from axon.sklearn import AxonClassifier


def main() -> None:
    (X_train, y_train), (X_test, y_test) = ax.datasets.load_digits()
    pipe = Pipeline([
        ("scale", StandardScaler()),
        ("net", AxonClassifier(epochs=15, batch_size=32, random_state=0)),
    ])
    grid = GridSearchCV(pipe, {"net__hidden_layer_sizes": [(32,), (128,)], "net__lr": [1e-3, 3e-3]},
                        cv=3, n_jobs=1)
    grid.fit(X_train, y_train)

    for params, mean, std in zip(grid.cv_results_["params"], grid.cv_results_["mean_test_score"],
                                 grid.cv_results_["std_test_score"]):
        print(f"{params}: cv accuracy {mean:.3f} ± {std:.3f}")
    print(f"best: {grid.best_params_}")
    print(f"test accuracy: {grid.score(X_test, y_test):.3f}\n")
    print(classification_report(y_test, grid.predict(X_test), digits=3))

    # The fitted network is an axon model. Give it the scaler's statistics as its preprocessor and
    # the ONNX file takes raw pixels, as the pipeline does (export needs the onnx package).
    net = grid.best_estimator_.named_steps["net"]
    scaler = grid.best_estimator_.named_steps["scale"]
    print(net.model_.summary())
    net.model_.preprocessor = Standardizer.from_arrays({"mean": scaler.mean_, "scale": scaler.scale_})
    try:
        out = Path(tempfile.gettempdir()) / "digits_mlp.onnx"
        ax.export_onnx(net.model_, out)
    except ImportError:
        return
    print(f"exported the best pipeline to {out}")
    try:
        import onnxruntime as ort
    except ImportError:
        return
    proba = ort.InferenceSession(str(out)).run(None, {"input": X_test})[0]
    print(f"onnxruntime vs scikit-learn, max |Δ probability|: "
          f"{np.abs(proba - grid.predict_proba(X_test)).max():.1e}")

if __name__ == "__main__":
    main()
