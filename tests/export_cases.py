"""Small fitted models, one per task, for the export tests (ONNX and C)."""

from __future__ import annotations

import numpy as np

from mlpzero import MLP

#: Every hidden activation the exporters know.
ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "identity")
#: Every task, with integer and string labels, one and several regression outputs, and a
#: binary model that saw a single class, and counts under the Poisson loss (exp link).
TASKS = (
    "binary",
    "binary_str",
    "one_class",
    "multiclass",
    "multiclass_str",
    "multilabel",
    "regression",
    "regression_multi",
    "poisson",
)


def data(task: str, n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` for ``task``: three features, labels that depend on them."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    score = X @ np.array([1.0, -2.0, 0.5])
    if task == "binary":
        y = (score > 0).astype(np.int64)
    elif task == "binary_str":
        y = np.where(score > 0, "spam", "ham")
    elif task == "one_class":
        y = np.full(n, 7)
    elif task == "multiclass":
        y = np.digitize(score, [-1.0, 1.0]) * 10 - 5  # -5, 5, 15
    elif task == "multiclass_str":
        y = np.array(["low", "mid", "high"])[np.digitize(score, [-1.0, 1.0])]
    elif task == "multilabel":
        y = np.column_stack([score > 0, X[:, 0] > 0, X[:, 1] < X[:, 2]]).astype(np.int64)
    elif task == "regression":
        y = score + 0.1 * X[:, 0] ** 2
    elif task == "regression_multi":
        y = np.column_stack([score, X[:, 0] * X[:, 1], 3.0 * X[:, 2] - 1.0])
    elif task == "poisson":
        y = rng.poisson(np.exp(0.5 * score)).astype(np.float64)
    else:
        raise ValueError(task)
    return X, y


#: Per-feature scales and offsets that make ``data`` and ``inputs`` raw, for the models that
#: standardise their inputs (their statistics are then far from 0 and 1).
RAW_SCALE = np.array([10.0, 0.1, 3.0])
RAW_OFFSET = np.array([5.0, -50.0, 0.25])


def fitted(
    task: str,
    activation,
    dtype: str = "float32",
    hidden=(5, 4),
    epochs: int = 30,
    standardize: bool = False,
) -> MLP:
    """An MLP trained briefly on ``data(task)`` (enough to move the weights off their draw);
    with ``standardize``, an ``MLP(standardize=True)`` trained on the raw features."""
    X, y = data(task)
    if standardize:
        X = X * RAW_SCALE + RAW_OFFSET
    loss = "poisson" if task == "poisson" else "auto"
    model = MLP(
        hidden=hidden, activation=activation, loss=loss, dtype=dtype, seed=1,
        standardize=standardize,
    )  # fmt: skip
    return model.fit(X, y, epochs=epochs, learning_rate=0.05, optimizer="adam")


def inputs(n: int = 25, seed: int = 1, raw: bool = False) -> np.ndarray:
    """Rows the tests draw to compare exported and original models, wider than the data
    (raw features with ``raw``, for models that standardise)."""
    X = np.random.default_rng(seed).normal(scale=2.0, size=(n, 3))
    return X * RAW_SCALE + RAW_OFFSET if raw else X


def tolerance(dtype) -> float:
    return 1e-5 if np.dtype(dtype) == np.float32 else 1e-10
