"""Decision boundaries of a trained model over a 2-D input plane.

The plane around the data is sampled on a grid and the model's class probabilities are
computed at every grid point:

- two classes: filled contours of ``P(class 1)`` from 0 to 1, and the line ``P = 0.5``;
- three or more: each region takes the colour of its most probable class (argmax), shaded
  by how confident the model is there.

The data points are drawn on top, coloured by their true class, and the title gives the
model's accuracy on them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap, to_rgb
from matplotlib.figure import Figure

from ..model import in_training_order
from ..validation import (
    check_features,
    check_int,
    check_non_negative,
    check_targets,
)
from ._figure import class_colors, model_task, new_figure, save

__all__ = ["class_probabilities", "plot_decision_boundary"]

#: The largest ``resolution``: 2000 x 2000 grid points, finer than any figure shows them
#: (a 6-inch Axes at 110 dpi is some 660 pixels wide). The grid, its probabilities and the
#: image grow with its square, so a larger one would cost gigabytes and minutes.
MAX_RESOLUTION = 2000


def check_resolution(resolution: Any) -> int:
    """``resolution`` checked: an integer from 2 to :data:`MAX_RESOLUTION`."""
    resolution = check_int("resolution", resolution, minimum=2)
    if resolution > MAX_RESOLUTION:
        raise ValueError(
            f"resolution must be at most {MAX_RESOLUTION}, got {resolution}: the grid has "
            f"resolution**2 points, more than a figure can show"
        )
    return resolution


def check_labels(y: Any, n_samples: int) -> np.ndarray:
    """``y`` as ``(n_samples,)`` labels, one per row of ``X``, or a ValueError naming it."""
    y = check_targets(y, n_samples)
    if y.ndim == 2 and y.shape[1] != 1:
        raise ValueError(
            f"y must hold one label per row of X, ({n_samples},), got shape {y.shape}: "
            "decision regions are drawn for one binary or multi-class label"
        )
    return y.reshape(n_samples)


def model_classes(model: Any, y: np.ndarray) -> np.ndarray:
    """The classes of ``model`` (its ``classes_``, else those in ``y``), in its order;
    a ValueError when ``y`` holds a label the model does not know."""
    classes = getattr(model, "classes_", None)
    classes = np.unique(y) if classes is None else np.asarray(classes)
    known = np.isin(y, classes)
    if not known.all():
        raise ValueError(f"y holds labels the model does not know: {np.unique(y[~known])[:5]}")
    return classes


Model = Any  # an MLP (anything with predict_proba) or a callable (n, 2) -> probabilities


def class_probabilities(model: Model, points: np.ndarray, n_classes: int) -> np.ndarray:
    """``(n, n_classes)`` probabilities of ``model`` at ``points`` ``(n, 2)``.

    ``model`` is an object with ``predict_proba`` or a callable returning either one
    probability per point (of the second class, for two classes) or one column per class.
    """
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(points)
    elif callable(model):
        proba = model(points)
    else:
        raise TypeError(
            "model must have predict_proba or be a callable that maps points (n, 2) to "
            f"probabilities, got {type(model).__name__}"
        )
    proba = np.asarray(proba, dtype=np.float64)
    n = points.shape[0]
    if proba.ndim == 1 or (proba.ndim == 2 and proba.shape[1] == 1):
        if n_classes != 2:
            raise ValueError(
                f"the model gives one probability per point, which fits two classes, "
                f"but y has {n_classes}"
            )
        positive = proba.reshape(n)
        return np.column_stack([1 - positive, positive])
    if proba.ndim != 2 or proba.shape != (n, n_classes):
        raise ValueError(
            f"expected probabilities of shape ({n}, {n_classes}) from the model, got {proba.shape}"
        )
    return proba


def in_model_order(model: Any, X: Any) -> Any:
    """``X`` with a data frame's columns matched by name to the features ``model`` was
    trained on (its ``feature_names_in_``), as its ``predict`` matches them; other names
    are refused. Arrays, and models without feature names, keep the columns' order."""
    names = getattr(model, "feature_names_in_", None)
    return X if names is None else in_training_order(X, list(names), "X")


def plot_decision_boundary(
    model: Model | Callable[[np.ndarray], np.ndarray],
    X: Any,
    y: Any,
    *,
    ax: Axes | None = None,
    path: str | os.PathLike[str] | None = None,
    title: str | None = None,
    resolution: int = 200,
    padding: float = 0.1,
) -> Figure:
    """Draw the decision regions of ``model`` with the points ``X`` ``(n, 2)``, labels ``y``.

    ``model`` is a fitted :class:`~mlpzero.MLP` (or anything with ``predict_proba`` and,
    optionally, ``classes_``) or a callable from grid points ``(n, 2)`` to probabilities.
    ``padding`` widens the plotted region by that fraction of the data's span on each
    side; ``resolution`` is the number of grid points per axis, from 2 to
    :data:`MAX_RESOLUTION` (2000). A data frame's columns are matched by name to the
    features a model was trained on, as ``predict`` matches them, so the first axis is
    the first training feature. Draws into ``ax`` when given, else into a new Figure.
    Returns the Figure; saves it to ``path`` when given.
    """
    task = model_task(model)
    if task in ("regression", "multilabel"):  # its predict_proba gives no class per point
        raise ValueError(
            f"model must be a binary or multi-class classifier to draw decision regions, "
            f"got a {task} model"
        )
    X = check_features(in_model_order(model, X), dtype=np.float64)
    if X.shape[1] != 2:
        raise ValueError(f"X must have 2 columns to draw a plane, got shape {X.shape}")
    y = check_labels(y, X.shape[0])
    resolution = check_resolution(resolution)
    padding = check_non_negative("padding", padding)

    classes = model_classes(model, y)
    n_classes = max(len(classes), 2)
    if len(classes) > 1:
        # Column k is classes[k], in the model's order, which need not be sorted.
        order = np.argsort(classes, kind="stable")
        true_index = order[np.searchsorted(classes[order], y)]
    else:
        # One class. A model that saw only it gives its probability, column 1 below; a
        # callable gives P(class 1), so a lone label 1 is column 1 and any other column 0.
        positive = hasattr(model, "classes_") or bool(np.all(classes == 1))
        true_index = np.full(len(y), int(positive))

    # The grid, padded around the data.
    low, high = X.min(axis=0), X.max(axis=0)
    with np.errstate(over="ignore", invalid="ignore"):  # checked below
        span = np.where(high > low, high - low, 1.0)
        low, high = low - padding * span, high + padding * span
        wide = not np.isfinite(high - low).all()
    if wide:
        raise ValueError(
            f"X spans {X.min(axis=0).tolist()} to {X.max(axis=0).tolist()}: with "
            f"padding={padding} the grid's width overflows float64; rescale X or lower padding"
        )
    gx, gy = np.meshgrid(
        np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution)
    )
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    grid_proba = class_probabilities(model, grid, n_classes)
    accuracy = float(np.mean(class_probabilities(model, X, n_classes).argmax(axis=1) == true_index))

    own_figure = ax is None
    if ax is None:
        figure = new_figure(6, 5)
        ax = figure.add_subplot()
    else:
        figure = ax.figure
    colors = class_colors(n_classes)
    if n_classes == 2:
        positive = grid_proba[:, 1].reshape(gx.shape)
        filled = ax.contourf(
            gx, gy, positive, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.75
        )
        if positive.min() < 0.5 < positive.max():
            ax.contour(gx, gy, positive, levels=[0.5], colors="k", linewidths=1.0)
        if own_figure:
            figure.colorbar(filled, ax=ax, label=f"P(y = {classes[-1]})")
    else:
        winner = grid_proba.argmax(axis=1)
        confidence = grid_proba.max(axis=1)
        rgb = np.array([to_rgb(c) for c in colors])[winner]
        # Blend towards white where the model is unsure (confidence near 1 / k).
        strength = (confidence - 1 / n_classes) / (1 - 1 / n_classes)
        strength = 0.25 + 0.5 * np.clip(strength, 0, 1)[:, None]
        image = (1 - strength) + strength * rgb
        # Pixel (i, j) shows grid point (i, j): its centre, not its corner, sits there, so
        # the image reaches half a step beyond the grid (the axes limits cut it back).
        half = (high - low) / (resolution - 1) / 2
        ax.imshow(
            image.reshape(*gx.shape, 3),
            origin="lower",
            extent=(low[0] - half[0], high[0] + half[0], low[1] - half[1], high[1] + half[1]),
            aspect="auto",
            interpolation="nearest",
        )
    ax.scatter(
        X[:, 0],
        X[:, 1],
        c=true_index,
        cmap=ListedColormap(colors),
        vmin=-0.5,
        vmax=n_classes - 0.5,
        s=14,
        edgecolors="white",
        linewidths=0.4,
    )
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    heading = f"accuracy {accuracy:.1%}"
    ax.set_title(f"{title}: {heading}" if title else heading)
    return save(figure, path)
