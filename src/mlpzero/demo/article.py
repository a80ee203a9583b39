"""The article's experiments, in its order: its activation functions, then a linearly
separable set, XOR and two concentric circles, and the circles again with each activation.

Models are :class:`~mlpzero.MLP` with the article's settings (hidden sizes, activation,
epochs, learning rate, full-batch gradient descent); data come from
:mod:`mlpzero.datasets`. Each step is a function ``step(context) -> list[dict]`` that
writes its figure and returns its table rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..datasets import make_circles, make_linear, make_xor
from ..model import MLP
from ..plotting import plot_activation_comparison, plot_activations
from ..plotting._figure import new_figure, save
from ..plotting.boundary import plot_decision_boundary
from ..plotting.curves import plot_loss_curve
from .context import DATA_SEED, MODEL_SEED, Context, layers

__all__ = [
    "ARTICLE_STEPS",
    "activation_comparison",
    "activations_figure",
    "circles",
    "fit_classifier",
    "linear",
    "xor",
]


def fit_classifier(
    context: Context,
    name: str,
    X: np.ndarray,
    y: np.ndarray,
    *,
    hidden: Sequence[int],
    activation: str,
    epochs: int,
    learning_rate: float,
    figure: bool = True,
) -> tuple[MLP, dict[str, Any]]:
    """Train an MLP full batch, optionally draw boundary and loss curve; return the row."""
    epochs = context.epochs(epochs)
    model = MLP(hidden=hidden, activation=activation, seed=MODEL_SEED)
    start = time.perf_counter()
    model.fit(X, y, epochs=epochs, learning_rate=learning_rate)
    seconds = time.perf_counter() - start
    accuracy = model.evaluate(X, y)["accuracy"]
    row: dict[str, Any] = {
        "experiment": name,
        "layers": layers(model),
        "activation": activation,
        "epochs": epochs,
        "accuracy": accuracy,
        "seconds": seconds,
        "figure": None,
    }
    if figure:
        path = context.figure(name)
        fig = new_figure(11, 4.5)
        boundary, curve = fig.subplots(1, 2)
        plot_decision_boundary(model, X, y, ax=boundary, title=name)
        plot_loss_curve(model, ax=curve)
        save(fig, path)
        row["figure"] = path
    return model, row


def activations_figure(context: Context) -> list[dict[str, Any]]:
    """The two-panel figure of sigmoid, tanh and ReLU and their derivatives."""
    start = time.perf_counter()
    path = context.figure("activations")
    plot_activations(path)
    return [
        {
            "experiment": "activations",
            "layers": "",
            "activation": "",
            "epochs": 0,
            "accuracy": None,
            "seconds": time.perf_counter() - start,
            "figure": path,
        }
    ]


def linear(context: Context) -> list[dict[str, Any]]:
    """Sanity check: 100 linearly separable points, 2-4-3-1 ReLU, 2000 epochs, lr 0.1."""
    X, y = make_linear(100, random_state=DATA_SEED)
    _, row = fit_classifier(
        context, "linear", X, y, hidden=[4, 3], activation="relu", epochs=2000, learning_rate=0.1
    )
    return [row]


def xor(context: Context) -> list[dict[str, Any]]:
    """XOR: 1000 points, 2-8-4-1 ReLU, 10000 epochs, lr 0.1."""
    X, y = make_xor(1000, random_state=DATA_SEED)
    _, row = fit_classifier(
        context, "xor", X, y, hidden=[8, 4], activation="relu", epochs=10000, learning_rate=0.1
    )
    return [row]


def _circles() -> tuple[np.ndarray, np.ndarray]:
    return make_circles(500, noise=0.1, factor=0.5, random_state=DATA_SEED)


def circles(context: Context) -> list[dict[str, Any]]:
    """Concentric circles: 500 points, noise 0.1, factor 0.5, 2-16-8-1 ReLU, 15000 epochs."""
    X, y = _circles()
    _, row = fit_classifier(
        context,
        "circles",
        X,
        y,
        hidden=[16, 8],
        activation="relu",
        epochs=15000,
        learning_rate=0.1,
    )
    return [row]


def activation_comparison(context: Context) -> list[dict[str, Any]]:
    """Circles again with sigmoid (lr 1.0), tanh and ReLU (lr 0.1), 10000 epochs each."""
    X, y = _circles()
    models, rows = {}, []
    for activation, learning_rate in (("sigmoid", 1.0), ("tanh", 0.1), ("relu", 0.1)):
        model, row = fit_classifier(
            context,
            f"circles ({activation})",
            X,
            y,
            hidden=[16, 8],
            activation=activation,
            epochs=10000,
            learning_rate=learning_rate,
            figure=False,
        )
        models[activation] = model
        rows.append(row)
    path = context.figure("activation_comparison")
    plot_activation_comparison(models, X, y, path=path)
    for row in rows:
        row["figure"] = path
    return rows


#: The experiments, in the article's order.
ARTICLE_STEPS: list[Callable[[Context], list[dict[str, Any]]]] = [
    activations_figure,
    linear,
    xor,
    circles,
    activation_comparison,
]
