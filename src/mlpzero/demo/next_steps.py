"""The article's next steps, run after its experiments: the directions the article names
at its end, each a step of :mod:`mlpzero.demo`.

- three spiral arms, one class each: softmax output, decision regions;
- the 8x8 handwritten digits: Adam, dropout, a held-out test set; the confusion matrix,
  the misclassified images, the learning curves and the first-layer weights;
- regression: a smooth 1-D curve fitted through noisy samples with squared error.

Each step has the signature of the demo's steps, ``step(context) -> list[dict]``, writes
its PNG files into ``context.out`` and returns its table rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ..datasets import load_digits, make_spirals
from ..model import MLP
from ..plotting import plot_decision_boundary, plot_loss_curve
from ..plotting._figure import new_figure, save
from ..plotting.evaluation import (
    plot_confusion_matrix,
    plot_first_layer_weights,
    plot_learning_curves,
    plot_misclassified,
    plot_predicted_vs_true,
    plot_regression_fit,
)
from .context import DATA_SEED, MODEL_SEED, Context, layers

__all__ = ["DIGITS_RECIPE", "NEXT_STEPS", "digits", "regression_curve", "spirals", "split_digits"]

#: The digits recipe of the README: model settings and fit settings.
DIGITS_RECIPE: dict[str, dict[str, Any]] = {
    "model": {"hidden": (128,), "dropout": 0.2, "seed": 0},
    "fit": {"epochs": 60, "batch_size": 32, "optimizer": "adam", "learning_rate": 1e-3},
}


def _row(experiment: str, model: MLP | None, epochs: int, accuracy: float | None, **extra: Any):
    row: dict[str, Any] = {
        "experiment": experiment,
        "layers": "" if model is None else layers(model),
        "activation": "" if model is None else str(model.activation),
        "epochs": epochs,
        "accuracy": accuracy,
    }
    row.update(extra)
    return row


def spirals(context: Context) -> list[dict[str, Any]]:
    """Three spiral arms (450 points), 2-32-32-3 ReLU with softmax, Adam, full batch."""
    X, y = make_spirals(450, n_classes=3, turns=1.0, noise=0.2, random_state=DATA_SEED)
    epochs = context.epochs(1000)
    model = MLP(hidden=(32, 32), activation="relu", seed=MODEL_SEED)
    start = time.perf_counter()
    model.fit(X, y, epochs=epochs, optimizer="adam", learning_rate=0.01)
    seconds = time.perf_counter() - start
    accuracy = model.evaluate(X, y)["accuracy"]
    path = context.figure("spirals_3_classes")
    figure = new_figure(11, 4.5)
    regions, curve = figure.subplots(1, 2)
    plot_decision_boundary(model, X, y, ax=regions, title="3 spirals (softmax)")
    plot_loss_curve(model, ax=curve)
    save(figure, path)
    return [_row("spirals (3 classes)", model, epochs, accuracy, seconds=seconds, figure=path)]


def split_digits(
    X: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The README's split: 75 % training, 25 % test, stratified by digit, seed 0."""
    from sklearn.model_selection import train_test_split

    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    return X_train, X_test, y_train, y_test


def digits(context: Context) -> list[dict[str, Any]]:
    """The README's digits recipe; figures of its test-set results and its weights."""
    start = time.perf_counter()
    try:
        X, y = load_digits()
    except ModuleNotFoundError as error:
        return [
            _row(
                f"digits (skipped: {error.name} is not installed)",
                None,
                0,
                None,
                seconds=time.perf_counter() - start,
                figure=None,
            )
        ]
    X_train, X_test, y_train, y_test = split_digits(X, y)
    fit = dict(DIGITS_RECIPE["fit"], epochs=context.epochs(DIGITS_RECIPE["fit"]["epochs"]))
    model = MLP(**DIGITS_RECIPE["model"])
    # The test set is only watched (for the curves), never used to choose anything.
    model.fit(X_train, y_train, validation_data=(X_test, y_test), **fit)
    seconds = time.perf_counter() - start
    predicted = model.predict(X_test)
    accuracy = float(np.mean(predicted == y_test))
    paths = {
        name: context.figure(f"digits_{name}")
        for name in ("confusion", "misclassified", "curves", "weights")
    }
    plot_confusion_matrix(y_test, predicted, path=paths["confusion"], title="digits, test set")
    plot_misclassified(X_test, y_test, predicted, path=paths["misclassified"], title="digits")
    plot_learning_curves(model, path=paths["curves"], title="digits (validation = test set)")
    plot_first_layer_weights(model, max_units=32, path=paths["weights"])
    return [
        _row(
            "digits (test set)",
            model,
            fit["epochs"],
            accuracy,
            seconds=seconds,
            figure=paths["confusion"],
        )
    ]


def _curve(x: np.ndarray) -> np.ndarray:
    """The 1-D function the regression step samples."""
    return np.sin(2 * x) + 0.3 * x


def regression_curve(context: Context) -> list[dict[str, Any]]:
    """y = sin(2x) + 0.3x plus noise on [-3, 3]: 1-32-32-1 tanh, squared error, Adam."""
    rng = np.random.default_rng(DATA_SEED)
    X = rng.uniform(-3, 3, (300, 1))
    y = _curve(X[:, 0]) + 0.1 * rng.standard_normal(300)
    epochs = context.epochs(300)
    model = MLP(hidden=(32, 32), activation="tanh", seed=MODEL_SEED)
    start = time.perf_counter()
    model.fit(X, y, epochs=epochs, batch_size=32, optimizer="adam", learning_rate=0.01)
    seconds = time.perf_counter() - start
    predicted = model.predict(X)
    path = context.figure("regression_curve")
    plot_regression_fit(model, X, y, truth=_curve, path=path, title="sin(2x) + 0.3x")
    plot_predicted_vs_true(y, predicted, path=context.figure("regression_predicted_vs_true"))
    mse = model.evaluate(X, y)["mse"]
    # Regression has no accuracy: the row carries the mean squared error instead (the
    # noise added has variance 0.01, the floor a perfect fit would reach).
    return [
        _row("regression 1-D curve", model, epochs, None, seconds=seconds, figure=path, mse=mse)
    ]


#: The next steps, in the order the demo runs them (after the article's experiments).
NEXT_STEPS: list[Callable[[Context], list[dict[str, Any]]]] = [spirals, digits, regression_curve]
