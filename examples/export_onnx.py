"""Export mlpzero models to ONNX and run them in onnxruntime.

1. A model trained with mlpzero's own API, exported with ``MLP.to_onnx``.
2. A scikit-learn pipeline (scaler + mlpzero's MLPClassifier), converted by skl2onnx once
   ``mlpzero.onnx`` has registered the converters.

Run: ``python examples/export_onnx.py [OUT_DIR]`` (needs ``pip install 'mlpzero[onnx]'``).
Each result is compared with the model's own predictions; the script fails if they differ.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
from skl2onnx import to_onnx
from sklearn.datasets import load_breast_cancer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mlpzero.onnx  # noqa: F401  (registers mlpzero's estimators with skl2onnx)
from mlpzero import MLP
from mlpzero.datasets import make_moons
from mlpzero.sklearn import MLPClassifier


def export_model(out: Path) -> None:
    X, y = make_moons(400, noise=0.2, random_state=0)
    labels = np.array(["left", "right"])[y]
    model = MLP(hidden=(16, 8), seed=0).fit(X, labels, epochs=300, learning_rate=0.1)
    path = out / "moons.onnx"
    model.to_onnx(path)
    check_in_onnxruntime(path, X, model)


def convert_pipeline(out: Path) -> None:
    X, y = load_breast_cancer(return_X_y=True)
    classifier = MLPClassifier(hidden_layer_sizes=(16,), max_iter=500, random_state=0)
    pipe = make_pipeline(StandardScaler(), classifier).fit(X, y)
    converted = to_onnx(pipe, X[:1].astype(np.float32), options={"zipmap": False})
    path = out / "breast_cancer_pipeline.onnx"
    path.write_bytes(converted.SerializeToString())
    check_in_onnxruntime(path, X, pipe)


def check_in_onnxruntime(path: Path, X: np.ndarray, model) -> None:
    """Run the exported graph on ``X`` and compare it with ``model``'s own predictions."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    label, proba = session.run(None, {"X": X.astype(np.float32)})
    assert label.tolist() == model.predict(X).tolist()
    gap = np.abs(proba - model.predict_proba(X)).max()
    assert gap < 1e-5, gap
    print(f"{path}: {len(X)} labels identical, probabilities within {gap:.1e}")


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    export_model(out)
    convert_pipeline(out)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "out"))
