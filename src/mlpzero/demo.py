"""The article's experiments, end to end: ``python -m mlpzero demo --out out``.

:data:`STEPS` lists the experiments in the article's order; :func:`run` runs them, writes
one PNG per figure into ``out`` and prints a table (experiment, layers, epochs, training
accuracy, seconds). Each step is a function ``step(context) -> list[dict]`` that returns
its table rows, so further experiments are added by appending to :data:`STEPS`.

Models are :class:`~mlpzero.MLP` with the article's settings (hidden sizes, activation,
epochs, learning rate, full-batch gradient descent); data come from
:mod:`mlpzero.datasets`. Seeds are fixed, so every run prints the same table.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .datasets import make_circles, make_linear, make_xor
from .demo_next import NEXT_STEPS
from .model import MLP
from .plotting import plot_activation_comparison, plot_activations
from .plotting._figure import new_figure, save
from .plotting.boundary import plot_decision_boundary
from .plotting.curves import plot_loss_curve

__all__ = ["STEPS", "Context", "fit_classifier", "format_table", "run"]

#: Seed of every model in the demo (initial weights).
MODEL_SEED = 0
#: Seed of every generated dataset.
DATA_SEED = 42


@dataclass
class Context:
    """What a step needs: where figures go, and how to scale the epochs."""

    out: Path
    epoch_scale: float = 1.0

    def epochs(self, article_epochs: int) -> int:
        """The article's epoch count, scaled (for quick runs), at least 1."""
        return max(1, round(article_epochs * self.epoch_scale))

    def figure(self, name: str) -> Path:
        return self.out / f"{name}.png"


def _layers(model: MLP) -> str:
    return "-".join(str(n) for n in model.network.layer_sizes)


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
        "layers": _layers(model),
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


# ---------------------------------------------------------------------- the article's steps
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


#: The experiments, in the article's order. Append ``step(context) -> list[dict]`` to add one.
STEPS: list[Callable[[Context], list[dict[str, Any]]]] = [
    activations_figure,
    linear,
    xor,
    circles,
    activation_comparison,
    *NEXT_STEPS,  # then the article's next steps: softmax, real data, regression
]


# ---------------------------------------------------------------------- running
def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """The rows as an aligned text table: experiment, layers, epochs, accuracy, seconds.

    A regression row has no accuracy; its mean squared error stands in that column.
    """
    header = ("experiment", "layers", "epochs", "accuracy", "seconds")
    lines = [header]
    for row in rows:
        if row["accuracy"] is not None:
            accuracy = f"{100 * row['accuracy']:.1f}%"
        elif row.get("mse") is not None:
            accuracy = f"MSE {row['mse']:.4f}"
        else:
            accuracy = ""
        epochs = str(row["epochs"]) if row["epochs"] else ""
        lines.append((row["experiment"], row["layers"], epochs, accuracy, f"{row['seconds']:.2f}"))
    widths = [max(len(line[c]) for line in lines) for c in range(len(header))]
    text = [
        "  ".join(
            cell.ljust(w) if c < 2 else cell.rjust(w)
            for c, (cell, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in lines
    ]
    text.insert(1, "-" * len(text[0]))
    return "\n".join(text)


def run(
    out: str | os.PathLike[str] = "out",
    *,
    epoch_scale: float = 1.0,
    steps: Sequence[Callable[[Context], list[dict[str, Any]]]] | None = None,
    verbose: bool = True,
) -> list[dict[str, Any]]:
    """Run the demo's steps, write their figures into ``out`` and print the table.

    ``epoch_scale`` multiplies every epoch count (for a quick check, e.g. 0.05);
    ``steps`` defaults to :data:`STEPS`. Returns the table rows as dicts with keys
    ``experiment``, ``layers``, ``activation``, ``epochs``, ``accuracy`` (a fraction, or
    None), ``seconds`` and ``figure`` (the PNG path).
    """
    if isinstance(epoch_scale, bool) or not (
        isinstance(epoch_scale, (int, float)) and 0 < epoch_scale <= 1
    ):
        raise ValueError(f"epoch_scale must be a number in (0, 1], got {epoch_scale!r}")
    context = Context(out=Path(out), epoch_scale=float(epoch_scale))
    context.out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    start = time.perf_counter()
    for step in STEPS if steps is None else steps:
        new_rows = step(context)
        rows.extend(new_rows)
        if verbose:
            for row in new_rows:
                done = "" if row["accuracy"] is None else f" accuracy {100 * row['accuracy']:.1f}%"
                print(f"  {row['experiment']}:{done} ({row['seconds']:.1f} s)", flush=True)
    if verbose:
        print()
        print(format_table(rows))
        print(f"\nTotal {time.perf_counter() - start:.1f} s; figures in {context.out}/")
    return rows
